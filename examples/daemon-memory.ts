/**
 * The daemon of `examples/daemon.ts`, test-style: the same code on `NerveStoreMemory`, with
 * `TestClock` driving every sleep and timestamp, so ten simulated seconds take milliseconds and
 * the outcome is the same on every run. `test/examples/daemon.test.ts` runs it.
 */
import { Effect, Fiber } from "effect"
import { TestClock } from "effect/testing"
import { LogStore } from "@uncaged/nerve-store"
import { NerveStoreMemory } from "@uncaged/nerve-store/layers"
import { daemon } from "./daemon.ts"

/** Two boots on one in-memory store: the second recovers what the first left. */
export const twoBoots = Effect.gen(function*() {
  yield* TestClock.setTime(Date.parse("2026-06-01T12:00:00Z"))
  const boot = Effect.gen(function*() {
    const running = yield* Effect.forkChild(daemon({ duration: "10 seconds" }))
    yield* TestClock.adjust("10 seconds")
    return yield* Fiber.join(running)
  })
  const first = yield* boot
  const second = yield* boot
  const orphan = yield* (yield* LogStore).runHistory(first.orphan)
  return { first, second, orphan }
}).pipe(Effect.provide(NerveStoreMemory))
