// Lease safety of issue 16 between stacks in one process (several stacks on one store, as
// daemons share a data directory), on the live stack and in memory, driven by TestClock: the
// writable grace, LeaseLost / RunLeased fencing, one live boot per owner name, claims, metrics.
import { assert, describe, it } from "@effect/vitest"
import { Context, Effect, Fiber, Layer, Metric, Option, Stream } from "effect"
import { TestClock } from "effect/testing"
import { DatabaseMemory, LogStoreSqlite } from "../../layers/index.ts"
import { Metrics } from "../../src/index.ts"
import { Database } from "../../src/sqlite/Database.ts"
import { liveStacks, memoryStacks, openStack, type SharedStore, type StackLayer } from "../support/stacks.ts"

const wf = (type: string) => ({ source: "workflow", type })
const run = (runId: string, status: "started" | "queued") => [wf(status), { runId, workflow: "w", status }] as const

/** A stack whose clock is its own frozen TestClock: it never renews, as if paused (SIGSTOP) or hung. */
const frozen = (layer: StackLayer) => layer.pipe(Layer.provide(TestClock.layer()))

const leaseSafety = (name: string, sharedStore: () => SharedStore) =>
  describe(`lease safety between stacks: ${name}`, () => {
    it.effect("an expired lease is recovered only after one renewal interval of writable time past its expiry", () =>
      Effect.gen(function*() {
        const stack = yield* sharedStore()
        const a = yield* openStack(frozen(stack({ owner: "daemon-a", leaseTtl: "30 seconds" })))
        const b = yield* openStack(stack({ owner: "daemon-b", leaseTtl: "30 seconds", leaseRenewal: "10 seconds" }))
        yield* a.log.transition(...run("s", "started"))
        assert.deepStrictEqual(yield* b.log.recoverOrphans(), [])
        yield* TestClock.adjust("30 seconds")
        // b's writes went through all along, but the grace has not passed.
        assert.deepStrictEqual(yield* b.log.recoverOrphans(), [])
        yield* TestClock.adjust("9 seconds")
        assert.deepStrictEqual(yield* b.log.recoverOrphans(), [])
        yield* TestClock.adjust("1 second")
        assert.deepStrictEqual((yield* b.log.recoverOrphans()).map((r) => [r.runId, r.status]), [["s", "crashed"]])
      }).pipe(Effect.scoped))

    it.effect("a stack that has not seen the database writable for a while (gap, failure) starts its grace afresh", () =>
      Effect.gen(function*() {
        const stack = yield* sharedStore()
        const a = yield* openStack(frozen(stack({ owner: "daemon-a", leaseTtl: "30 seconds" })))
        const b = yield* openStack(stack({ owner: "daemon-b", leaseTtl: "30 seconds", leaseRenewal: "10 seconds" }))
        yield* a.log.transition(...run("s", "started"))
        assert.deepStrictEqual(yield* b.log.recoverOrphans(), [])
        // b wrote nothing for ten minutes: nothing says the holder could have renewed meanwhile.
        yield* TestClock.adjust("10 minutes")
        assert.deepStrictEqual(yield* b.log.recoverOrphans(), [])
        yield* TestClock.adjust("5 seconds")
        assert.deepStrictEqual(yield* b.log.recoverOrphans(), [])
        yield* TestClock.adjust("5 seconds")
        assert.deepStrictEqual((yield* b.log.recoverOrphans()).map((r) => r.runId), ["s"])
      }).pipe(Effect.scoped))

    it.effect("a stack whose run was recovered meanwhile is told: its next write fails with LeaseLost, never IllegalTransition", () =>
      Effect.gen(function*() {
        const stack = yield* sharedStore()
        const a = yield* openStack(frozen(stack({ owner: "daemon-a", leaseTtl: "30 seconds" })))
        const b = yield* openStack(stack({ owner: "daemon-b", leaseRenewal: "10 seconds" }))
        yield* a.log.transition(...run("s", "started"))
        yield* b.log.recoverOrphans()
        yield* TestClock.adjust("30 seconds")
        assert.deepStrictEqual(yield* b.log.recoverOrphans(), [])
        yield* TestClock.adjust("10 seconds")
        assert.deepStrictEqual((yield* b.log.recoverOrphans()).map((r) => [r.runId, r.status]), [["s", "crashed"]])
        const lost = yield* Effect.flip(a.log.transition(wf("completed"), { runId: "s", workflow: "w", status: "completed", exitCode: 0 }))
        assert.deepStrictEqual(lost._tag === "LeaseLost" ? [lost.runId, lost.owner, lost.newOwner] : lost, ["s", "daemon-a", undefined])
        // Told once: a deliberate respawn afterwards is an ordinary move.
        yield* a.log.transition(...run("s", "started"))
      }).pipe(Effect.scoped))

    it.effect("a stack whose queued run another stack claimed meanwhile gets RunLeased naming the claimer", () =>
      Effect.gen(function*() {
        const stack = yield* sharedStore()
        const a = yield* openStack(frozen(stack({ owner: "daemon-a", leaseTtl: "30 seconds" })))
        const b = yield* openStack(stack({ owner: "daemon-b", leaseRenewal: "10 seconds" }))
        yield* a.log.transition(...run("q", "queued"))
        assert.deepStrictEqual(yield* b.log.claimQueued({ limit: 5 }), [])
        yield* TestClock.adjust("30 seconds")
        assert.deepStrictEqual(yield* b.log.claimQueued({ limit: 5 }), [], "expired, but within its grace")
        yield* TestClock.adjust("10 seconds")
        assert.deepStrictEqual((yield* b.log.claimQueued({ limit: 5 })).map((r) => r.runId), ["q"])
        const error = yield* Effect.flip(a.log.transition(wf("started"), { runId: "q", workflow: "w", status: "started" }))
        assert.deepStrictEqual(error._tag === "RunLeased" ? [error.owner, error.boot] : error, ["daemon-b", b.log.owner.boot])
        yield* b.log.transition(wf("started"), { runId: "q", workflow: "w", status: "started" })
      }).pipe(Effect.scoped))

    it.effect("a live holder's queued runs are never claimed; released ones are, by exactly one stack", () =>
      Effect.gen(function*() {
        const stack = yield* sharedStore()
        const a = yield* openStack(stack({ owner: "daemon-a" }))
        const b = yield* openStack(stack({ owner: "daemon-b" }))
        const c = yield* openStack(stack({ owner: "daemon-c" }))
        for (const id of ["q1", "q2", "q3"]) yield* a.log.transition(...run(id, "queued"))
        yield* TestClock.adjust("5 minutes")
        assert.deepStrictEqual(yield* b.log.claimQueued({ limit: 10 }), [])
        yield* a.log.releaseLease("q2")
        const [byB, byC] = yield* Effect.all([b.log.claimQueued({ limit: 10 }), c.log.claimQueued({ limit: 10 })], { concurrency: 2 })
        assert.deepStrictEqual([...byB, ...byC].map((r) => r.runId), ["q2"])
        // Releasing another live owner's lease is refused.
        const refused = yield* Effect.flip(a.log.releaseLease("q2"))
        assert.strictEqual(refused._tag, "RunLeased")
        assert.deepStrictEqual((yield* a.log.leases({ owner: "daemon-a" })).map((l) => l.runId), ["q1", "q3"])
      }).pipe(Effect.scoped))

    it.effect("a name a live boot renews cannot be built again (OwnerInUse); once it stopped renewing, it can, and recovers at once", () =>
      Effect.gen(function*() {
        const stack = yield* sharedStore()
        yield* TestClock.setTime(5_000)
        const first = yield* openStack(stack({ owner: "nerve", leaseTtl: "30 seconds", leaseRenewal: "10 seconds" }))
        yield* first.log.transition(...run("r", "started"))
        yield* TestClock.adjust("1 minute")
        const error = yield* Effect.flip(openStack(stack({ owner: "nerve" })))
        assert.deepStrictEqual(
          error._tag === "OwnerInUse" ? [error.owner, error.boot, error.lastRenewedAt] : error,
          ["nerve", first.log.owner.boot, 65_000]
        )
        // The first boot is untouched.
        assert.strictEqual(Option.getOrThrow(yield* first.log.getRun("r")).status, "started")
        yield* first.log.transition(wf("completed"), { runId: "r", workflow: "w", status: "completed", exitCode: 0 })
        yield* first.log.transition(...run("r2", "started"))
        // A graceful close frees the name at once.
        yield* first.close
        const second = yield* openStack(stack({ owner: "nerve" }))
        yield* second.close
      }).pipe(Effect.scoped))

    it.effect("an expired lease of this name's earlier boot is recovered at once, without the grace", () =>
      Effect.gen(function*() {
        const stack = yield* sharedStore()
        const earlier = yield* openStack(frozen(stack({ owner: "nerve", leaseTtl: "30 seconds", leaseRenewal: "10 seconds" })))
        yield* earlier.log.transition(...run("s", "started"))
        yield* TestClock.adjust("1 minute")
        const next = yield* openStack(stack({ owner: "nerve", leaseTtl: "30 seconds", leaseRenewal: "10 seconds" }))
        assert.deepStrictEqual((yield* next.log.recoverOrphans()).map((r) => [r.runId, r.status]), [["s", "crashed"]])
      }).pipe(Effect.scoped))

    it.effect("nerve_lease_renewals_total counts each lease renewed (nerve_leases_lost_total: test/logstore/lease-processes.test.ts)", () =>
      Effect.gen(function*() {
        const stack = yield* sharedStore()
        const a = yield* openStack(stack({ owner: "daemon-a", leaseTtl: "30 seconds", leaseRenewal: "10 seconds" }))
        const before = (yield* Metric.value(Metrics.leaseRenewalsTotal)).count
        yield* a.log.transition(...run("r1", "started"))
        yield* a.log.transition(...run("r2", "queued"))
        yield* TestClock.adjust("30 seconds")
        assert.strictEqual((yield* Metric.value(Metrics.leaseRenewalsTotal)).count - before, 6, "two leases, three renewals")
        // A graceful close releases them: no renewal after it, and no loss.
        const lostBefore = (yield* Metric.value(Metrics.leasesLostTotal)).count
        yield* a.close
        yield* TestClock.adjust("30 seconds")
        assert.strictEqual((yield* Metric.value(Metrics.leaseRenewalsTotal)).count - before, 6)
        assert.strictEqual((yield* Metric.value(Metrics.leasesLostTotal)).count - lostBefore, 0)
      }).pipe(Effect.scoped))
  })

leaseSafety("live stack on a data directory", liveStacks)

leaseSafety("in memory (stacks sharing one in-memory database)", memoryStacks)

describe("leaseLost in memory (TestClock)", () => {
  it.effect("a renewal that finds a held lease gone publishes LeaseLost on leaseLost, counts it, and fences the next write", () =>
    Effect.gen(function*() {
      const database = yield* Layer.build(DatabaseMemory)
      const a = yield* openStack(
        LogStoreSqlite({ owner: "daemon-a", leaseTtl: "30 seconds", leaseRenewal: "10 seconds" }).pipe(Layer.provide(Layer.succeedContext(database)))
      )
      yield* a.log.transition(...run("r", "started"))
      yield* a.log.transition(...run("kept", "started"))
      const told = yield* Effect.forkChild(Stream.runCollect(a.log.leaseLost.pipe(Stream.take(1))))
      const lostBefore = (yield* Metric.value(Metrics.leasesLostTotal)).count
      // The lease row vanishes behind a's back (as when another machine recovered the run while a was paused).
      yield* Context.get(database, Database).sql.exec("DELETE FROM run_leases WHERE run_id = 'r'")
      yield* TestClock.adjust("10 seconds")
      const lost = yield* Fiber.join(told)
      assert.deepStrictEqual(lost.map((l) => [l._tag, l.runId, l.owner, l.newOwner]), [["LeaseLost", "r", "daemon-a", undefined]])
      assert.strictEqual((yield* Metric.value(Metrics.leasesLostTotal)).count - lostBefore, 1)
      const error = yield* Effect.flip(a.log.transition(wf("completed"), { runId: "r", workflow: "w", status: "completed", exitCode: 0 }))
      assert.strictEqual(error._tag, "LeaseLost")
      // The run it still holds is untouched.
      yield* a.log.transition(wf("completed"), { runId: "kept", workflow: "w", status: "completed", exitCode: 0 })
    }).pipe(Effect.scoped))
})
