/**
 * Turns whatever node:sqlite threw into a `DatabaseError` whose `reason` says what kind of
 * failure it was, from SQLite's primary result code (the low byte of the extended code).
 */
import { DatabaseError, type DatabaseErrorReason } from "../../schema/Errors.ts"

const SQLITE_CONSTRAINT = 19
const reasonByPrimaryCode: Readonly<Record<number, DatabaseErrorReason>> = {
  5: "busy", // SQLITE_BUSY: another connection holds the lock
  6: "locked", // SQLITE_LOCKED: a conflict inside this connection (shared cache, open statement)
  8: "readOnly", // SQLITE_READONLY
  11: "corrupt", // SQLITE_CORRUPT
  13: "full", // SQLITE_FULL
  26: "corrupt", // SQLITE_NOTADB: the file is not a database at all
  [SQLITE_CONSTRAINT]: "constraint"
}

const numberField = (cause: unknown, field: string): number | null => {
  if (typeof cause !== "object" || cause === null || !(field in cause)) return null
  const value: unknown = Reflect.get(cause, field)
  return typeof value === "number" ? value : null
}

/** Classifies a node:sqlite failure; `operation` names what we were doing ("append", "open …"). */
export const toDatabaseError = (cause: unknown, operation: string): DatabaseError => {
  const code = numberField(cause, "errcode")
  const reason = code === null ? "other" : reasonByPrimaryCode[code & 0xff] ?? "other"
  const detail = cause instanceof Error ? cause.message : String(cause)
  return new DatabaseError({ operation, reason, code, detail, cause })
}

/** Another connection's lock (`busy`, `locked`): waiting may help. */
export const isLockConflict = (error: DatabaseError): boolean => error.isRetryable

/** The same failure, reported as part of `operation` (e.g. "open nerve.db"). */
export const withOperation = (operation: string) => (error: DatabaseError): DatabaseError =>
  error.operation === operation ? error : new DatabaseError({
    operation,
    reason: error.reason,
    code: error.code,
    detail: error.operation === "query" || error.operation === "execute" || error.operation === "exec"
      ? error.detail
      : `${error.operation}: ${error.detail}`,
    cause: error.cause
  })

/** The lock conflict that was still there when the busy timeout ran out. */
export const lockWaitExhausted = (error: DatabaseError, budgetMs: number): DatabaseError =>
  new DatabaseError({
    operation: error.operation,
    reason: error.reason,
    code: error.code,
    detail: `another connection held the lock for longer than the busy timeout (${budgetMs} ms): ${error.detail}`,
    cause: error.cause
  })
