/**
 * Opening the SQLite file: owner-only permissions on creation, read-only opens that never create
 * the file, and read-only media (no `-shm` can be made) opened immutable when no WAL is pending.
 * Synchronous, no retries: the caller waits out a lock (`LockWait.ts`).
 *
 * @since 0.8.0
 */
import { closeSync, constants, existsSync, fchmodSync, openSync, statSync } from "node:fs"
import { resolve } from "node:path"
import { pathToFileURL } from "node:url"
import { DatabaseSync } from "node:sqlite"

/** How to open the database. */
export interface SqliteOptions {
  /** A file path, or `":memory:"` for a private in-memory database. */
  readonly filename: string
  /**
   * How long, in all, a statement waits for another connection's lock before failing `busy`
   * (default 10 s). The wait never blocks the event loop.
   */
  readonly busyTimeoutMs?: number
  /** `NORMAL` (default, durable across process crashes) or `FULL` (also across power loss). */
  readonly synchronous?: "NORMAL" | "FULL"
  /**
   * Open read-only: never creates, configures or migrates the file; every write fails with
   * `DatabaseError` reason `readOnly`. On read-only media (no `-shm` can be made beside the file)
   * a file without a pending WAL is opened immutable.
   */
  readonly readonly?: boolean
}

/** SQLite could not make the `-shm` beside a WAL file (the folder or file is not writable). */
const cannotMakeShm = (cause: unknown): boolean => {
  const code = typeof cause === "object" && cause !== null ? Reflect.get(cause, "errcode") : undefined
  // SQLITE_READONLY_CANTINIT, SQLITE_READONLY_DIRECTORY
  return code === 1288 || code === 1544
}

const walIsEmpty = (filename: string): boolean => {
  try {
    return statSync(`${filename}-wal`).size === 0
  } catch {
    return true
  }
}

/**
 * Makes the file owner-only before SQLite first opens it (its `-wal` and `-shm` copy the file's
 * permissions), whatever the umask. An existing file is left as it is.
 */
const createOwnerOnly = (filename: string): void => {
  let fd: number
  try {
    fd = openSync(filename, constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY, 0o600)
  } catch {
    // Already there, or not creatable: SQLite's own open reports the latter with its code.
    return
  }
  try {
    fchmodSync(fd, 0o600)
  } finally {
    closeSync(fd)
  }
}

/**
 * Opens the handle (no configuration yet), or says what node:sqlite threw. A read-only open
 * never creates the file, and probes that it can be read.
 */
export const openHandle = (options: SqliteOptions): { readonly db: DatabaseSync } | { readonly cause: unknown } => {
  try {
    if (options.filename === ":memory:") return { db: new DatabaseSync(":memory:", { timeout: 0 }) }
    if (options.readonly !== true) {
      createOwnerOnly(options.filename)
      return { db: new DatabaseSync(options.filename, { timeout: 0 }) }
    }
    if (!existsSync(options.filename)) return { cause: `unable to open database file: ${options.filename} does not exist` }
    const db = new DatabaseSync(options.filename, { readOnly: true, timeout: 0 })
    try {
      db.prepare("PRAGMA schema_version").get()
      return { db }
    } catch (cause) {
      db.close()
      // Read-only media: nobody can be writing a file whose `-shm` cannot exist, so it is a
      // snapshot; but a pending WAL would be ignored by an immutable open, so that is refused.
      if (!cannotMakeShm(cause) || !walIsEmpty(options.filename)) return { cause }
      const url = pathToFileURL(resolve(options.filename))
      url.searchParams.set("immutable", "1")
      return { db: new DatabaseSync(url, { readOnly: true, timeout: 0 }) }
    }
  } catch (cause) {
    return { cause }
  }
}
