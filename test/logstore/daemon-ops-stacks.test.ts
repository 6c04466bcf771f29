// Issue 16 (daemon-ops) with several stacks on one store, a lock held by another connection, and
// the metrics the operations move: RunLeased on thread messages, waitForRun polling for another
// stack's writes, health under a held lock, DatabaseError naming the public operation, and the
// metrics read back after operations, on the live and the memory stacks.
import { assert, describe, it } from "@effect/vitest"
import { Context, Effect, Fiber, Layer, Metric } from "effect"
import { TestClock } from "effect/testing"
import { DatabaseSync } from "node:sqlite"
import { join } from "node:path"
import { DatabaseError } from "../../schema/Errors.ts"
import { BlobStoreMemory, NerveStoreLive, NerveStoreMemory, type NerveStore } from "../../layers/index.ts"
import { BlobStore } from "../../src/BlobStore.ts"
import { LogArchive } from "../../src/LogArchive.ts"
import { LogStore } from "../../src/LogStore.ts"
import * as Metrics from "../../src/Metrics.ts"
import { liveStacks, memoryStacks, openStack, type SharedStore, type StackLayer } from "../support/stacks.ts"
import { makeTempDir } from "../support/tempDir.ts"

const wf = (type: string) => ({ source: "workflow", type })

const openLog = (layer: StackLayer) => Effect.map(openStack(layer), (stack) => stack.log)

const sharedStores: ReadonlyArray<readonly [string, () => SharedStore]> = [
  ["live stacks on one data directory", liveStacks],
  ["memory stacks on one in-memory database", memoryStacks]
]

for (const [name, sharedStore] of sharedStores) {
  describe(`daemon operations across stacks: ${name}`, () => {
    it.effect("appendThreadMessage on a run another live owner holds is RunLeased; nothing is written", () =>
      Effect.gen(function*() {
        const stack = yield* sharedStore()
        const a = yield* openLog(stack({ owner: "daemon-a" }))
        const b = yield* openLog(stack({ owner: "daemon-b" }))
        yield* TestClock.setTime(1_000)
        yield* a.transition(wf("started"), { runId: "r", workflow: "w", status: "started" })
        const error = yield* Effect.flip(b.appendThreadMessage("r", { role: "user", content: "not mine" }))
        assert.deepStrictEqual(error._tag === "RunLeased" ? [error.runId, error.owner] : error, ["r", "daemon-a"])
        assert.deepStrictEqual(yield* b.threadMessages("r"), [])
        // The holder writes; once its lease expired (it stopped renewing), another owner may write.
        yield* a.appendThreadMessage("r", { role: "user", content: "mine" })
        assert.strictEqual(yield* b.threadRoundCount("r"), 1)
      }).pipe(Effect.scoped))

    it.effect("waitForRun finds another stack's write by polling", () =>
      Effect.gen(function*() {
        const stack = yield* sharedStore()
        const a = yield* openLog(stack({ owner: "daemon-a" }))
        const b = yield* openLog(stack({ owner: "daemon-b" }))
        yield* b.transition(wf("started"), { runId: "r", workflow: "w", status: "started" })
        const waiter = yield* Effect.forkChild(a.waitForRun("r", { pollInterval: "1 second" }))
        yield* b.transition(wf("completed"), { runId: "r", workflow: "w", status: "completed", exitCode: 0 })
        // Another stack's commit does not wake this one: step the clock until a poll sees it.
        for (let i = 0; i < 100 && waiter.pollUnsafe() === undefined; i++) yield* TestClock.adjust("1 second")
        const run = yield* Fiber.join(waiter)
        assert.deepStrictEqual([run.status, run.exitCode], ["completed", 0])
      }).pipe(Effect.scoped))
  })
}

describe("with another connection holding the write lock (live stack, no lock wait budget)", () => {
  const lockedStore = Effect.gen(function*() {
    const dataDir = makeTempDir()
    const log = yield* openLog(NerveStoreLive({ dataDir, busyTimeout: 0 }))
    yield* log.transition(wf("started"), { runId: "r", workflow: "w", status: "started" })
    const other = yield* Effect.acquireRelease(
      Effect.sync(() => new DatabaseSync(join(dataDir, "nerve.db"))),
      (db) => Effect.sync(() => db.close())
    )
    const lock = Effect.sync(() => other.exec("BEGIN IMMEDIATE"))
    const unlock = Effect.sync(() => other.exec("ROLLBACK"))
    return { log, lock, unlock }
  })

  it.effect("every DatabaseError names the public operation, keyed appends and transitions too", () =>
    Effect.gen(function*() {
      const { log, lock } = yield* lockedStore
      yield* lock
      const failures: Record<string, Effect.Effect<unknown, { readonly _tag: string }>> = {
        "LogStore.append": log.append({ source: "s", type: "t" }, { idempotencyKey: "k1" }),
        "LogStore.transition": log.transition(wf("completed"), { runId: "r", workflow: "w", status: "completed" }, { idempotencyKey: "k2" }),
        "LogStore.transaction": log.transaction(log.append({ source: "s", type: "t" })),
        "LogStore.recoverOrphans": log.recoverOrphans(),
        "LogStore.appendThreadMessage": log.appendThreadMessage("r", { role: "user", content: "x" }, { idempotencyKey: "k3" })
      }
      for (const [operation, effect] of Object.entries(failures)) {
        const error = yield* Effect.flip(effect)
        assert.deepStrictEqual(error instanceof DatabaseError ? [error.operation, error.reason] : error, [operation, "busy"], operation)
      }
      // Unkeyed ones too.
      const plain = yield* Effect.flip(log.transition(wf("completed"), { runId: "r", workflow: "w", status: "completed" }))
      assert.strictEqual(plain._tag === "DatabaseError" && plain.operation, "LogStore.transition")
    }).pipe(Effect.scoped))

  it.effect("LogArchive.archive names itself too", () =>
    Effect.gen(function*() {
      const dataDir = makeTempDir()
      const context = yield* Layer.build(NerveStoreLive({ dataDir, busyTimeout: 0 }))
      const log = Context.get(context, LogStore)
      const archive = Context.get(context, LogArchive)
      yield* log.append({ source: "s", type: "t", timestamp: Date.parse("2020-01-01T00:00:00Z") })
      const other = yield* Effect.acquireRelease(
        Effect.sync(() => new DatabaseSync(join(dataDir, "nerve.db"))),
        (db) => Effect.sync(() => db.close())
      )
      other.exec("BEGIN IMMEDIATE")
      const error = yield* Effect.flip(archive.archive({ now: Date.parse("2021-01-01T00:00:00Z") }))
      other.exec("ROLLBACK")
      assert.deepStrictEqual(error._tag === "DatabaseError" ? [error.operation, error.reason] : error._tag, ["LogArchive.archive", "busy"])
    }).pipe(Effect.scoped))

  it.effect("health answers without the write lock; busy failures and lock waits are counted", () =>
    Effect.gen(function*() {
      const { log, lock, unlock } = yield* lockedStore
      yield* lock
      const health = yield* log.health()
      assert.deepStrictEqual([health.writable, health.readonly, health.lockWaitMs], [true, false, 0])
      assert.strictEqual(health.schemaVersion, health.knownSchemaVersion)
      yield* Effect.flip(log.append({ source: "s", type: "t" }))
      assert.strictEqual((yield* Metric.value(Metrics.busyFailuresTotal)).count, 1)
      assert.strictEqual((yield* Metric.value(Metrics.lockWaitSeconds)).count, 1)
      yield* unlock
      yield* log.append({ source: "s", type: "t" })
    }).pipe(Effect.scoped, Effect.provideService(Metric.MetricRegistry, new Map())))
})

const metricStacks: ReadonlyArray<readonly [string, () => Layer.Layer<NerveStore, { readonly _tag: string }>]> = [
  ["NerveStoreLive", () => NerveStoreLive({ dataDir: makeTempDir() })],
  ["NerveStoreMemory", () => Layer.mergeAll(NerveStoreMemory, BlobStoreMemory)]
]

for (const [name, makeLayer] of metricStacks) {
  it.effect(`metrics are moved by the operations they count: ${name}`, () =>
    Effect.gen(function*() {
      const log = yield* LogStore
      const blobs = yield* BlobStore
      const archive = yield* LogArchive
      yield* TestClock.setTime(Date.parse("2020-12-31T12:00:00Z"))
      yield* log.append({ source: "s", type: "t" })
      yield* Effect.forEach(Array.from({ length: 8 }, (_, i) => i), (i) => log.append({ source: "s", type: `c${i}` }), {
        concurrency: "unbounded"
      })
      yield* log.appendMany([{ source: "s", type: "a" }, { source: "s", type: "b" }])
      yield* log.transition(wf("started"), { runId: "r", workflow: "w", status: "started" })
      yield* log.appendThreadMessage("r", { role: "user", content: "hi" })
      yield* log.transition(wf("completed"), { runId: "r", workflow: "w", status: "completed" })
      yield* log.appendMany([1, 2, 3].map((n) => ({ source: "old", type: "t", timestamp: Date.parse("2020-01-01T00:00:00Z") + n })))
      yield* archive.archive({ now: Date.parse("2021-01-01T00:00:00Z") })
      const digest = yield* blobs.write("twelve bytes")
      yield* blobs.read(digest)

      // 1 + 8 appends, 2 + 3 in appendMany, 2 transitions, 1 thread message.
      assert.strictEqual((yield* Metric.value(Metrics.logAppendsTotal)).count, 17)
      assert.strictEqual((yield* Metric.value(Metrics.logAppendSeconds)).count, 9)
      const batches = yield* Metric.value(Metrics.groupCommitRows)
      assert.strictEqual(batches.sum, 9, "every group-committed row is in one batch")
      assert.isBelow(batches.count, 9, "concurrent appends share batches")
      assert.strictEqual((yield* Metric.value(Metrics.runTransitionsTo("started"))).count, 1)
      assert.strictEqual((yield* Metric.value(Metrics.runTransitionsTo("completed"))).count, 1)
      assert.strictEqual((yield* Metric.value(Metrics.archiveRowsTotal)).count, 3)
      assert.strictEqual((yield* Metric.value(Metrics.blobBytesWrittenTotal)).count, 12)
      assert.strictEqual((yield* Metric.value(Metrics.blobBytesReadTotal)).count, 12)
      assert.strictEqual((yield* Metric.value(Metrics.digestMismatchesTotal)).count, 0)
      assert.strictEqual((yield* Metric.value(Metrics.busyFailuresTotal)).count, 0)
    }).pipe(Effect.provide(makeLayer()), Effect.provideService(Metric.MetricRegistry, new Map())))
}
