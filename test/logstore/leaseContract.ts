// The lease-control operations of issue 16 (`leases`, `releaseLease`, `claimQueued`,
// `leaseLost`) as a contract suite run on every LogStore layer (SQLite file, memory, and the
// PostgreSQL backend with the same `(name, () => layer)` signature).
import { assert, describe, it } from "@effect/vitest"
import { Effect, type Layer, Option } from "effect"
import { TestClock } from "effect/testing"
import { LogStore } from "../../src/LogStore.ts"

const wf = (type: string) => ({ source: "workflow", type })
const run = (runId: string, status: "started" | "queued", workflow = "w") => [wf(status), { runId, workflow, status }] as const

export const leaseContract = <E>(name: string, makeLayer: () => Layer.Layer<LogStore, E>) =>
  describe(`LogStore lease control contract: ${name}`, () => {
    const withStore = <A, E2>(body: Effect.Effect<A, E2, LogStore>) => body.pipe(Effect.provide(makeLayer()))

    it.effect("leases lists the stored leases by run id, of every owner or of one owner name", () =>
      withStore(Effect.gen(function*() {
        const log = yield* LogStore
        yield* TestClock.setTime(1_000)
        yield* log.transition(...run("b-started", "started"))
        yield* log.transition(...run("a-queued", "queued"))
        const all = yield* log.leases()
        assert.deepStrictEqual(all.map((l) => [l.runId, l.owner, l.boot]), [
          ["a-queued", log.owner.name, log.owner.boot],
          ["b-started", log.owner.name, log.owner.boot]
        ])
        assert.deepStrictEqual(yield* log.leases({ owner: log.owner.name }), all)
        assert.deepStrictEqual(yield* log.leases({ owner: "nobody" }), [])
        const bad = yield* Effect.flip(log.leases({ owner: "" }))
        assert.strictEqual(bad._tag === "InvalidInput" && bad.field, "query.owner")
      })))

    it.effect("releaseLease hands a run back at once: its lease is gone, and a queued run is claimable again", () =>
      withStore(Effect.gen(function*() {
        const log = yield* LogStore
        yield* log.transition(...run("q", "queued"))
        // A run this stack holds is not claimed again.
        assert.deepStrictEqual(yield* log.claimQueued({ limit: 10 }), [])
        yield* log.releaseLease("q")
        assert.isTrue(Option.isNone(yield* log.getLease("q")))
        assert.strictEqual(Option.getOrThrow(yield* log.getRun("q")).status, "queued")
        // Releasing what is not leased is nothing to do.
        yield* log.releaseLease("q")
        yield* log.releaseLease("never-heard-of")
        const claimed = yield* log.claimQueued({ limit: 10 })
        assert.deepStrictEqual(claimed.map((r) => [r.runId, r.status]), [["q", "queued"]])
        assert.deepStrictEqual(Option.map(yield* log.getLease("q"), (l) => [l.owner, l.boot]), Option.some([log.owner.name, log.owner.boot]))
        // The claimer moves it on.
        yield* log.transition(wf("started"), { runId: "q", workflow: "w", status: "started" })
        const bad = yield* Effect.flip(log.releaseLease(""))
        assert.strictEqual(bad._tag === "InvalidInput" && bad.field, "runId")
      })))

    it.effect("claimQueued takes the oldest free queued runs, at most limit, of the workflow asked", () =>
      withStore(Effect.gen(function*() {
        const log = yield* LogStore
        for (const [i, workflow] of ["build", "test", "build", "build", "test"].entries()) {
          yield* TestClock.setTime(10 + i)
          yield* log.transition(...run(`q${i}`, "queued", workflow))
          yield* log.releaseLease(`q${i}`)
        }
        yield* log.transition(...run("s", "started", "build"))
        assert.deepStrictEqual((yield* log.claimQueued({ workflow: "build", limit: 2 })).map((r) => r.runId), ["q0", "q2"])
        assert.deepStrictEqual((yield* log.claimQueued({ limit: 2 })).map((r) => r.runId), ["q1", "q3"])
        assert.deepStrictEqual((yield* log.claimQueued({ limit: 100 })).map((r) => r.runId), ["q4"])
        assert.deepStrictEqual(yield* log.claimQueued({ limit: 100 }), [])
        assert.deepStrictEqual((yield* log.leases()).map((l) => l.runId), ["q0", "q1", "q2", "q3", "q4", "s"])
      })))

    it.effect("claimQueued validates its request and writes nothing on a bad one", () =>
      withStore(Effect.gen(function*() {
        const log = yield* LogStore
        yield* log.transition(...run("q", "queued"))
        yield* log.releaseLease("q")
        for (const [request, field] of [
          [{ limit: 0 }, "request.limit"],
          [{ limit: 1.5 }, "request.limit"],
          [{ limit: 10_001 }, "request.limit"],
          [{ limit: 1, workflow: "" }, "request.workflow"]
        ] as const) {
          const error = yield* Effect.flip(log.claimQueued(request))
          assert.strictEqual(error._tag === "InvalidInput" && error.field, field)
        }
        assert.isTrue(Option.isNone(yield* log.getLease("q")))
      })))

    it.effect("a transition that ends ownership lets the run go: no lease is listed, and nothing is told lost", () =>
      withStore(Effect.gen(function*() {
        const log = yield* LogStore
        yield* log.transition(...run("r", "started"))
        yield* log.transition(wf("interrupted"), { runId: "r", workflow: "w", status: "interrupted" })
        assert.deepStrictEqual(yield* log.leases(), [])
        yield* TestClock.adjust("5 minutes")
        // A respawn is this stack's own again.
        yield* log.transition(...run("r", "started"))
        assert.deepStrictEqual((yield* log.leases()).map((l) => l.runId), ["r"])
      })))
  })
