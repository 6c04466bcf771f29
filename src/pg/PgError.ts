/**
 * Turns an `effect/sql` `SqlError` from `@effect/sql-pg` into our `DatabaseError`, keeping the
 * SQLSTATE the server sent, and retries the two failures PostgreSQL asks its clients to retry:
 * serialization failures (40001) and deadlocks (40P01).
 *
 * @since 0.8.0
 */
import { Effect, Schedule } from "effect"
import { isSqlError, type SqlError } from "effect/sql/SqlError"
import { DatabaseError, type DatabaseErrorReason } from "../../schema/Errors.ts"

const stringField = (value: unknown, field: string): string | undefined => {
  if (typeof value !== "object" || value === null || !(field in value)) return undefined
  const found: unknown = Reflect.get(value, field)
  return typeof found === "string" ? found : undefined
}

/** A SQLSTATE is five digits or capital letters; a socket's `ECONNRESET` is not one. */
const SQLSTATE = /^[0-9A-Z]{5}$/

/** The SQLSTATE behind a `SqlError`, when the server sent one. */
export const sqlStateOf = (error: SqlError): string | undefined => {
  const code = stringField(error.reason.cause, "code")
  return code !== undefined && SQLSTATE.test(code) ? code : undefined
}

/** Our reason for a SQLSTATE class (or, without one, the driver's classification). */
const reasonOf = (error: SqlError, sqlState: string | undefined): DatabaseErrorReason => {
  if (sqlState === undefined) return error.reason._tag === "ConnectionError" ? "connection" : "other"
  if (sqlState === "40001" || sqlState === "40P01") return "conflict"
  if (sqlState === "55P03") return "busy" // lock_not_available
  if (sqlState.startsWith("08") || sqlState === "57P01" || sqlState === "57P02" || sqlState === "57P03") {
    return "connection" // connection exceptions; admin/crash shutdown; cannot connect now
  }
  if (sqlState.startsWith("23")) return "constraint"
  if (sqlState === "53100") return "full" // disk_full
  if (sqlState === "25006") return "readOnly" // read_only_sql_transaction (a standby)
  if (sqlState.startsWith("XX")) return "corrupt" // internal_error, data_corrupted, index_corrupted
  return "other"
}

/** Classifies a failure of `@effect/sql-pg`; `operation` names what we were doing ("LogStore.append"). */
export const toDatabaseError = (operation: string) => (error: SqlError): DatabaseError => {
  const sqlState = sqlStateOf(error)
  const detail = stringField(error.reason.cause, "message") ?? error.message
  return new DatabaseError({
    operation,
    reason: reasonOf(error, sqlState),
    code: null,
    detail,
    cause: error,
    ...(sqlState === undefined ? {} : { sqlState })
  })
}

/** Runs `self` reporting its `SqlError`s as `DatabaseError`s of `operation`. */
export const mapSqlError = (operation: string) => <A, E, R>(self: Effect.Effect<A, E | SqlError, R>): Effect.Effect<A, Exclude<E, SqlError> | DatabaseError, R> =>
  Effect.catchIf(
    self,
    (error): error is SqlError => isSqlError(error),
    (error) => Effect.fail(toDatabaseError(operation)(error))
  ) as Effect.Effect<A, Exclude<E, SqlError> | DatabaseError, R>

/** A serialization failure or deadlock: the whole transaction may simply be run again. */
export const isConflict = (error: unknown): boolean => error instanceof DatabaseError && error.reason === "conflict"

/**
 * Runs the transaction `self` again (from the start, with a short jittered pause) while it fails
 * with a serialization failure or deadlock, up to `times` more times (default 8); the last
 * failure is reported as `DatabaseError` reason `conflict`.
 */
export const retryConflicts = (times = 8) => <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Effect.retry(self, {
    while: isConflict,
    times,
    schedule: Schedule.exponential("5 millis").pipe(Schedule.jittered)
  })
