// Waiting for a condition across processes without asserting any timing: poll, within a generous
// overall limit, and fail (a defect naming what was awaited) only when the limit passes.
import { Duration, Effect } from "effect"

/** Runs `check` every 50 ms until it returns a value, and returns it; dies after `limitMs`. */
export const pollFor = <A, E, R>(what: string, limitMs: number, check: Effect.Effect<A | undefined, E, R>): Effect.Effect<A, E, R> =>
  Effect.gen(function*() {
    const deadline = Date.now() + limitMs
    while (true) {
      const found = yield* check
      if (found !== undefined) return found
      if (Date.now() > deadline) return yield* Effect.die(new Error(`gave up waiting for ${what}`))
      yield* Effect.sleep(Duration.millis(50))
    }
  })
