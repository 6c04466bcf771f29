/**
 * Waiting out another connection's lock without blocking the event loop: SQLite's own busy
 * timeout stays 0, and a step that met a lock where trying again is safe fails with a
 * {@link LockWait}, which is retried on an Effect `Schedule` (jittered exponential backoff,
 * capped, within a budget on the Effect `Clock`) until it passes or the budget is spent (`busy`).
 *
 * @since 0.8.0
 */
import { Duration, Effect, Schedule } from "effect"
import type { DatabaseError } from "../../schema/Errors.ts"
import { lockWaitExhausted } from "./SqliteError.ts"

/** The longest single pause between two tries: a released lock is noticed within this. */
const MAX_BACKOFF_MS = 50

/**
 * When to try a locked step again: 1 ms, doubling, jittered, each pause at most
 * {@link MAX_BACKOFF_MS} and never past the budget, until `budgetMs` have passed on the Clock.
 */
export const lockWaitSchedule = (budgetMs: number): Schedule.Schedule<Duration.Duration> =>
  Schedule.exponential("1 millis", 2).pipe(
    Schedule.jittered,
    Schedule.modifyDelay(({ duration, elapsed }) =>
      Effect.succeed(Duration.millis(Math.max(0, Math.min(Duration.toMillis(duration), MAX_BACKOFF_MS, budgetMs - elapsed))))
    ),
    Schedule.while(({ elapsed }) => elapsed < budgetMs)
  )

/** A failure that met another connection's lock at a point where trying again is safe. */
export class LockWait {
  readonly error: DatabaseError
  constructor(error: DatabaseError) {
    this.error = error
  }
}
export const isLockWait = (error: DatabaseError | LockWait): error is LockWait => error instanceof LockWait

/** The `DatabaseError` of a failure, lock wait or not. */
export const toError = (error: DatabaseError | LockWait): DatabaseError => isLockWait(error) ? error.error : error

/** The outcome of one synchronous try. */
export type Step<A> = { readonly ok: true; readonly value: A } | { readonly ok: false; readonly error: DatabaseError | LockWait }
export const fromStep = <A>(step: Step<A>): Effect.Effect<A, DatabaseError | LockWait> =>
  step.ok ? Effect.succeed(step.value) : Effect.fail(step.error)

/**
 * Runs `once`, and while it fails with a `LockWait` tries it again on {@link lockWaitSchedule};
 * when the budget is spent, fails `busy` naming the operation and the wait.
 */
export const waitForLocks = <A>(
  once: Effect.Effect<A, DatabaseError | LockWait>,
  budgetMs: number,
  track: WaitTracker = untracked
): Effect.Effect<A, DatabaseError> =>
  Effect.catch(once, (first) => isLockWait(first) ? retryLockWait(first, once, budgetMs, track) : Effect.fail(first))

/**
 * Wraps a whole wait for another connection's lock (from the first `LockWait` to success or
 * `busy`): the connection measures it there (`nerve_lock_wait_seconds`, `health().lockWaitMs`).
 * Only waits are wrapped, so the hot path pays nothing.
 */
export type WaitTracker = <A>(wait: Effect.Effect<A, DatabaseError>) => Effect.Effect<A, DatabaseError>
const untracked: WaitTracker = (wait) => wait

/** After a first `LockWait`: tries `once` again on {@link lockWaitSchedule} until it passes or the budget is spent. */
export const retryLockWait = <A>(
  first: LockWait,
  once: Effect.Effect<A, DatabaseError | LockWait>,
  budgetMs: number,
  track: WaitTracker = untracked
): Effect.Effect<A, DatabaseError> => {
  if (budgetMs <= 0) return track(Effect.fail(lockWaitExhausted(first.error, budgetMs)))
  const retried: Effect.Effect<A, DatabaseError | LockWait> = Effect.retry(Effect.andThen(Effect.sleep(1), once), {
    schedule: lockWaitSchedule(budgetMs),
    while: (error: DatabaseError | LockWait) => isLockWait(error)
  })
  return track(Effect.catch(
    retried,
    (last: DatabaseError | LockWait) => Effect.fail(isLockWait(last) ? lockWaitExhausted(last.error, budgetMs) : last)
  ))
}
