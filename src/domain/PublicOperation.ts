/**
 * `DatabaseError.operation` names the public operation a caller called (`LogStore.transition`,
 * `LogArchive.archive`), never an internal step (`begin transaction`, `commit`, `archive delete`):
 * a failure of an inner step is renamed to the operation around it, the step kept in the detail.
 *
 * @since 0.9.0
 */
import { Effect } from "effect"
import { DatabaseError } from "../../schema/Errors.ts"

/** A public operation's name: `Service.operation`. */
const PUBLIC = /^[A-Z][A-Za-z]*\.[a-z][A-Za-z]*$/

/** Whether `operation` is a public operation's name (else an internal step). */
export const isPublicOperation = (operation: string): boolean => PUBLIC.test(operation)

/** `error` as a failure of `operation` when it names an internal step; any other value unchanged. */
export const renamed = <E>(operation: string, error: E): E => {
  if (!(error instanceof DatabaseError) || isPublicOperation(error.operation)) return error
  return new DatabaseError({
    operation,
    reason: error.reason,
    code: error.code,
    detail: `${error.operation}: ${error.detail}`,
    cause: error.cause
  }) as E
}

/**
 * Names `operation` in every `DatabaseError` of `self` that names an internal step (for the second
 * argument of `Effect.fn`, or `pipe`).
 *
 * @example
 * ```ts
 * const archive = Effect.fn("LogArchive.archive")(function*() { ... }, namedAs("LogArchive.archive"))
 * ```
 */
export const namedAs = (operation: string) => <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Effect.mapError(self, (error) => renamed(operation, error))
