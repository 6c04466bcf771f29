/**
 * Bounded steps: long work over a synchronous driver (SQLite) is cut into short steps with a turn
 * of the event loop between them, so that the process doing it (a daemon, say) keeps serving its
 * timers and I/O. A rule every backend and service on the seam follows.
 *
 * @since 0.8.0
 */
import { Effect } from "effect"

/**
 * Lets the event loop turn before the next step. With the live clock, `sleep(0)` yields the
 * fiber to the scheduler (a `setImmediate`: timers and I/O run first). Under `TestClock` it
 * returns at once: a test that drives time sees the work as one run, as it sees any other work
 * that does not sleep, instead of a fiber that hops outside the clock's tracking.
 */
export const eventLoopTurn: Effect.Effect<void> = Effect.sleep(0)

/** Runs `step` for each item in order, with a turn of the event loop before each one. */
export const forEachStep = <A, B, E, R>(
  items: ReadonlyArray<A>,
  step: (item: A, index: number) => Effect.Effect<B, E, R>
): Effect.Effect<Array<B>, E, R> => Effect.forEach(items, (item, index) => Effect.andThen(eventLoopTurn, step(item, index)))
