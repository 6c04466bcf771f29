/**
 * Safe retries: a write made with an idempotency key happens once. The key, the operation, the
 * request's fingerprint and the result are stored in the same transaction as the write, so a
 * repeat — also after a restart, or from another process — returns the stored result and writes
 * nothing. The rules (fingerprint, retention, what a stored key means) are in
 * `domain/Idempotency.ts`; this runs them on any backend's repository.
 *
 * @since 0.7.0
 */
import { Clock, Effect, Option, type Result } from "effect"
import { type CorruptRow, type DatabaseError, IdempotencyConflict } from "../../schema/Errors.ts"
import { fingerprint, judgeKey, pruneBefore } from "../domain/Idempotency.ts"
import type { LogRepositoryShape } from "../seam/LogRepository.ts"

/** The write run once per key: `once(key, operation, request, decodeStored, write)`. */
export type Once = <A, E>(
  key: string,
  operation: string,
  request: unknown,
  decodeStored: (row: unknown, key: () => string) => Result.Result<A, CorruptRow>,
  write: Effect.Effect<A, E>
) => Effect.Effect<A, E | IdempotencyConflict | CorruptRow | DatabaseError>

/**
 * `once(key, operation, request, decodeStored, write)`: in one transaction, a key seen before (and
 * not yet pruned) with the same operation and request returns its stored result (decoded; a stored
 * result that does not decode is `CorruptRow` of `idempotency_keys`) and writes nothing; with
 * another request it fails with `IdempotencyConflict`; a new key runs `write` and stores its result.
 * A failed `write` stores nothing, so the request may be fixed and retried under the same key.
 */
export const make = (repository: LogRepositoryShape): Once => (key, operation, request, decodeStored, write) =>
  repository.transaction(Effect.gen(function*() {
    const now = yield* Clock.currentTimeMillis
    const requestFingerprint = fingerprint(request)
    yield* repository.pruneKeys(operation, pruneBefore(now))
    const stored = yield* repository.findKey(operation, key)
    if (Option.isSome(stored)) {
      const verdict = judgeKey(stored.value, operation, requestFingerprint)
      if (verdict._tag === "Conflict") {
        return yield* new IdempotencyConflict({ key, operation: stored.value.operation, detail: verdict.detail })
      }
      return yield* Effect.fromResult(decodeStored(stored.value.result, () => key))
    }
    const result = yield* write
    yield* repository.storeKey(operation, {
      key,
      operation,
      request: requestFingerprint,
      result: JSON.stringify(result),
      createdAt: now
    })
    return result
  }))
