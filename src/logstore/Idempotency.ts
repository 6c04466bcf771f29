/**
 * Safe retries: a write made with an idempotency key happens once. The key, the operation, the
 * request (as canonical JSON) and the result are stored in `idempotency_keys` in the same
 * transaction as the write, so a repeat — also after a restart, or from another process — returns
 * the stored result and writes nothing. Keys are kept {@link IDEMPOTENCY_RETENTION_MS} (by the
 * Clock of the write that stored them) and pruned by later keyed writes.
 *
 * @since 0.7.0
 */
import { Clock, Effect, type Result } from "effect"
import { type CorruptRow, type DatabaseError, IdempotencyConflict } from "../../schema/Errors.ts"
import type { SqliteShape } from "../sqlite/Sqlite.ts"

/** How long an idempotency key is remembered: 7 days. */
export const IDEMPOTENCY_RETENTION_MS = 7 * 24 * 60 * 60 * 1000

/** JSON with object keys sorted, so two equal requests give one string whatever their key order. */
export const canonicalJson = (value: unknown): string =>
  JSON.stringify(value, (_key, inner: unknown) =>
    inner !== null && typeof inner === "object" && !Array.isArray(inner)
      ? Object.fromEntries(Object.entries(inner).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : inner)

/**
 * `once(key, operation, request, decodeStored, write)`: in one transaction, a key seen before (and
 * not yet pruned) with the same operation and request returns its stored result (decoded; a stored
 * result that does not decode is `CorruptRow` of `idempotency_keys`) and writes nothing; with
 * another request it fails with `IdempotencyConflict`; a new key runs `write` and stores its result.
 * A failed `write` stores nothing, so the request may be fixed and retried under the same key.
 */
export const make = (sql: SqliteShape) =>
<A, E>(
  key: string,
  operation: string,
  request: unknown,
  decodeStored: (row: unknown, key: () => string) => Result.Result<A, CorruptRow>,
  write: Effect.Effect<A, E>
): Effect.Effect<A, E | IdempotencyConflict | CorruptRow | DatabaseError> =>
  sql.transaction(Effect.gen(function*() {
    const now = yield* Clock.currentTimeMillis
    const fingerprint = canonicalJson(request)
    const stored = yield* sql.sync(operation, (connection) => {
      connection.run("DELETE FROM idempotency_keys WHERE created_at < ?", [now - IDEMPOTENCY_RETENTION_MS])
      return connection.get("SELECT operation, request, result FROM idempotency_keys WHERE key = ?", [key])
    })
    if (stored !== undefined) {
      if (stored.operation !== operation || stored.request !== fingerprint) {
        return yield* new IdempotencyConflict({
          key,
          operation: String(stored.operation),
          detail: stored.operation !== operation
            ? `the key was first used by ${String(stored.operation)}, not ${operation}`
            : `the first request was ${String(stored.request)}`
        })
      }
      return yield* Effect.fromResult(decodeStored(stored.result, () => key))
    }
    const result = yield* write
    yield* sql.sync(operation, (connection) =>
      connection.run(
        "INSERT INTO idempotency_keys (key, operation, request, result, created_at) VALUES (?, ?, ?, ?, ?)",
        [key, operation, fingerprint, JSON.stringify(result), now]
      ))
    return result
  }))
