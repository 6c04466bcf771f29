/**
 * The daemon of `examples/daemon.ts`, test-style: the same code on the in-memory stack, with
 * `TestClock` driving every sleep and timestamp, so ten simulated seconds take milliseconds and
 * the outcome is the same on every run. `test/examples/daemon.test.ts` runs it.
 *
 * Each boot is a LogStore of its own (the owner `DEMO_OWNER`, a fresh boot id) on one shared
 * in-memory database, archive and blob store, as two runs of `npm start` on one data directory.
 */
import { Effect, Fiber, Layer } from "effect"
import { TestClock } from "effect/testing"
import { LogStore } from "@uncaged/nerve-store"
import { BlobStoreMemory, DatabaseMemory, LogArchiveMemory, LogStoreSqlite } from "@uncaged/nerve-store/layers"
import { DEMO_LEASE_TTL, DEMO_OWNER, daemon } from "./daemon.ts"

/** What outlives a boot: the database, the archived day files, the blobs. */
const Storage = Layer.mergeAll(LogArchiveMemory, BlobStoreMemory).pipe(Layer.provideMerge(DatabaseMemory))

/** One boot's LogStore: the stable owner name, leases renewed while the boot runs. */
const Boot = LogStoreSqlite({ owner: DEMO_OWNER, leaseTtl: DEMO_LEASE_TTL })

/** Two boots on one in-memory store: the second recovers what the first left. */
export const twoBoots = Effect.gen(function*() {
  yield* TestClock.setTime(Date.parse("2026-06-01T12:00:00Z"))
  const boot = Effect.gen(function*() {
    const running = yield* Effect.forkChild(daemon({ duration: "10 seconds" }))
    yield* TestClock.adjust("10 seconds")
    return yield* Fiber.join(running)
  }).pipe(Effect.provide(Boot))
  const first = yield* boot
  const second = yield* boot
  const orphan = yield* LogStore.use((log) => log.runHistory(first.orphan)).pipe(Effect.provide(Boot))
  return { first, second, orphan }
}).pipe(Effect.provide(Storage))
