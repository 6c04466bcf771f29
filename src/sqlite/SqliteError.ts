/**
 * Turns whatever node:sqlite threw into a `DatabaseError` whose `reason` says what kind of
 * failure it was, from SQLite's primary result code (the low byte of the extended code).
 */
import { DatabaseError, type DatabaseErrorReason } from "../../schema/Errors.ts"

const SQLITE_CONSTRAINT = 19
const reasonByPrimaryCode: Readonly<Record<number, DatabaseErrorReason>> = {
  5: "busy", // SQLITE_BUSY: another connection holds the lock past the busy timeout
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
