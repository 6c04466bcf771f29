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
  /** When it was last used, on the cache's own counter. */
  used: number
}

/** A cache over `db`, holding the statements of at most `capacity` texts. */
export const make = (db: DatabaseSync, capacity = DEFAULT_STATEMENT_CACHE_SIZE): StatementCache => {
  const entries = new Map<string, Entry>()
  let clock = 0
  /** Drops the least recently used text: a scan, only when a new text arrives at a full cache. */
  const evict = () => {
    let oldest: string | undefined
    let oldestUse = Number.POSITIVE_INFINITY
    for (const [sql, entry] of entries) {
      if (entry.used < oldestUse) {
        oldest = sql
        oldestUse = entry.used
      }
    }
    if (oldest !== undefined) entries.delete(oldest)
  }
  const entryOf = (sql: string): Entry => {
    let entry = entries.get(sql)
    if (entry === undefined) {
      if (entries.size >= capacity) evict()
      entry = { objects: undefined, arrays: undefined, used: 0 }
      entries.set(sql, entry)
    }
    // A hit costs one lookup and one write (no reordering of the map).
    entry.used = ++clock
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
