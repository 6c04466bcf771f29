/**
 * The prepared statements of one connection, in one bounded cache: a statement is prepared once
 * and reused, and the least recently used one is dropped past {@link DEFAULT_STATEMENT_CACHE_SIZE}
 * (run listings and log queries compile their SQL from the filters given, so the set of texts is
 * open-ended). A statement that returns rows as arrays is cached apart from the same text
 * returning objects.
 *
 * @since 0.8.0
 */
import type { DatabaseSync, StatementSync } from "node:sqlite"

/** How many statement texts a connection keeps prepared. */
export const DEFAULT_STATEMENT_CACHE_SIZE = 256

/** Prepared statements by text (and row shape). */
export interface StatementCache {
  /** The statement for `sql`, returning rows as objects (`arrays` false) or as arrays of column values. */
  readonly prepare: (sql: string, arrays: boolean) => StatementSync
  /** How many statement texts are cached. */
  readonly size: () => number
}

/** The statements of one text: returning objects, and returning arrays (each prepared when first used). */
interface Entry {
  objects: StatementSync | undefined
  arrays: StatementSync | undefined
}

/** A cache over `db`, holding the statements of at most `capacity` texts. */
export const make = (db: DatabaseSync, capacity = DEFAULT_STATEMENT_CACHE_SIZE): StatementCache => {
  // A Map iterates in insertion order: re-inserting on a hit keeps the least recently used first.
  const entries = new Map<string, Entry>()
  const entryOf = (sql: string): Entry => {
    let entry = entries.get(sql)
    if (entry !== undefined) {
      entries.delete(sql)
      entries.set(sql, entry)
      return entry
    }
    if (entries.size >= capacity) {
      const oldest = entries.keys().next()
      if (oldest.done !== true) entries.delete(oldest.value)
    }
    entry = { objects: undefined, arrays: undefined }
    entries.set(sql, entry)
    return entry
  }
  return {
    prepare: (sql, arrays) => {
      const entry = entryOf(sql)
      if (arrays) {
        if (entry.arrays === undefined) {
          entry.arrays = db.prepare(sql)
          entry.arrays.setReturnArrays(true)
        }
        return entry.arrays
      }
      return (entry.objects ??= db.prepare(sql))
    },
    size: () => entries.size
  }
}
