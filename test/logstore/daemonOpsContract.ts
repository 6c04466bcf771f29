// Issue 16 (daemon-ops): the contract of fenced thread messages, retryable keyed thread messages,
// countRuns, waitForRun and health, for every LogStore layer. A backend's suite runs it with
// `daemonOpsContract(name, () => layer)` (the PostgreSQL backend too).
import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber, type Layer, Option, Stream } from "effect"
import { TestClock } from "effect/testing"
import { LogStore } from "../../src/LogStore.ts"

const wf = (type: string) => ({ source: "workflow", type })
const rowCount = LogStore.use((log) => Stream.runCount(log.stream()))

export const daemonOpsContract = <E>(name: string, makeLayer: () => Layer.Layer<LogStore, E>) =>
  describe(`LogStore daemon operations: ${name}`, () => {
    const run = <A, E2>(effect: Effect.Effect<A, E2, LogStore>) => Effect.provide(effect, makeLayer())

    describe("appendThreadMessage is fenced", () => {
      it.effect("a missing run is RunNotFound, a terminal one RunFinished, and nothing is written", () =>
        run(Effect.gen(function*() {
          const log = yield* LogStore
          const missing = yield* Effect.flip(log.appendThreadMessage("nope", { role: "user", content: "hi" }))
          assert.deepStrictEqual(missing._tag === "RunNotFound" ? missing.runId : missing, "nope")
          yield* log.transition(wf("started"), { runId: "r", workflow: "w", status: "started" })
          yield* log.transition(wf("completed"), { runId: "r", workflow: "w", status: "completed" })
          const before = yield* rowCount
          const finished = yield* Effect.flip(log.appendThreadMessage("r", { role: "user", content: "late" }))
          assert.deepStrictEqual(finished._tag === "RunFinished" ? [finished.runId, finished.status] : finished, ["r", "completed"])
          const keyed = yield* Effect.flip(log.appendThreadMessage("r", { role: "user", content: "late" }, { idempotencyKey: "late-1" }))
          assert.strictEqual(keyed._tag, "RunFinished")
          assert.strictEqual(yield* rowCount, before)
          assert.strictEqual(yield* log.threadRoundCount("r"), 0)
        })))

      it.effect("an active run of this stack takes messages (queued, started, and a crashed run that may start again)", () =>
        run(Effect.gen(function*() {
          const log = yield* LogStore
          yield* log.transition(wf("queued"), { runId: "q", workflow: "w", status: "queued" })
          yield* log.transition(wf("started"), { runId: "s", workflow: "w", status: "started" })
          yield* log.transition(wf("started"), { runId: "c", workflow: "w", status: "started" })
          yield* log.transition(wf("crashed"), { runId: "c", workflow: "w", status: "crashed" })
          for (const runId of ["q", "s", "c"]) yield* log.appendThreadMessage(runId, { role: "user", content: runId })
          assert.deepStrictEqual((yield* log.threadMessages("s")).map((m) => m.content), ["s"])
          assert.strictEqual(yield* log.threadRoundCount("c"), 1)
        })))

      it.effect("a keyed retry a moment later returns the first row and writes nothing (the time is not fingerprinted)", () =>
        run(Effect.gen(function*() {
          const log = yield* LogStore
          yield* TestClock.setTime(1_700_000_000_000)
          yield* log.transition(wf("started"), { runId: "r", workflow: "w", status: "started" })
          const first = yield* log.appendThreadMessage("r", { role: "user", content: "once" }, { idempotencyKey: "m1" })
          const rows = yield* rowCount
          yield* TestClock.adjust(1)
          const retried = yield* log.appendThreadMessage("r", { role: "user", content: "once" }, { idempotencyKey: "m1" })
          assert.deepStrictEqual(retried, first)
          assert.strictEqual(yield* rowCount, rows)
          const other = yield* Effect.flip(log.appendThreadMessage("r", { role: "user", content: "changed" }, { idempotencyKey: "m1" }))
          assert.strictEqual(other._tag, "IdempotencyConflict")
        })))
    })

    describe("countRuns", () => {
      it.effect("every status is present, 0 when none; filters by workflow and status", () =>
        run(Effect.gen(function*() {
          const log = yield* LogStore
          const zero = { queued: 0, started: 0, completed: 0, failed: 0, crashed: 0, interrupted: 0, dropped: 0, killed: 0 }
          assert.deepStrictEqual(yield* log.countRuns(), zero)
          yield* log.transition(wf("queued"), { runId: "a", workflow: "build", status: "queued" })
          yield* log.transition(wf("started"), { runId: "b", workflow: "build", status: "started" })
          yield* log.transition(wf("started"), { runId: "c", workflow: "deploy", status: "started" })
          yield* log.transition(wf("completed"), { runId: "c", workflow: "deploy", status: "completed" })
          assert.deepStrictEqual(yield* log.countRuns(), { ...zero, queued: 1, started: 1, completed: 1 })
          assert.deepStrictEqual(yield* log.countRuns({ workflow: "build" }), { ...zero, queued: 1, started: 1 })
          assert.deepStrictEqual(yield* log.countRuns({ status: ["started", "completed"] }), { ...zero, started: 1, completed: 1 })
          assert.deepStrictEqual(yield* log.countRuns({ workflow: "deploy", status: "queued" }), zero)
          // @ts-expect-error deliberately wrong input, as an untyped caller could send
          const bad = yield* Effect.flip(log.countRuns({ status: "running" }))
          assert.strictEqual(bad._tag === "InvalidInput" && bad.field.startsWith("query"), true)
        })))
    })

    describe("waitForRun", () => {
      it.effect("returns a run already in a wanted status at once", () =>
        run(Effect.gen(function*() {
          const log = yield* LogStore
          yield* log.transition(wf("dropped"), { runId: "d", workflow: "w", status: "dropped" })
          assert.strictEqual((yield* log.waitForRun("d")).status, "dropped")
          yield* log.transition(wf("queued"), { runId: "q", workflow: "w", status: "queued" })
          assert.strictEqual((yield* log.waitForRun("q", { statuses: ["queued"] })).status, "queued")
        })))

      it.effect("is woken by this stack's own commit at once (no clock moves), for a run that did not exist yet too", () =>
        run(Effect.gen(function*() {
          const log = yield* LogStore
          const finished = yield* Effect.forkChild(log.waitForRun("r"))
          const started = yield* Effect.forkChild(log.waitForRun("r", { statuses: ["started"] }))
          yield* Effect.yieldNow
          yield* log.transition(wf("started"), { runId: "r", workflow: "w", status: "started" })
          assert.strictEqual((yield* Fiber.join(started)).status, "started")
          yield* log.transition(wf("failed"), { runId: "r", workflow: "w", status: "failed" })
          const run = yield* Fiber.join(finished)
          assert.deepStrictEqual([run.runId, run.status], ["r", "failed"])
        })))

      it.effect("bad options are InvalidInput", () =>
        run(Effect.gen(function*() {
          const log = yield* LogStore
          // @ts-expect-error deliberately wrong input, as an untyped caller could send
          const bad = yield* Effect.flip(log.waitForRun("r", { statuses: ["done"] }))
          assert.strictEqual(bad._tag, "InvalidInput")
          const empty = yield* Effect.flip(log.waitForRun(""))
          assert.strictEqual(empty._tag === "InvalidInput" && empty.field, "runId")
        })))
    })

    describe("health", () => {
      it.effect("reports the schema, a writable stack, no lock wait, and the last lease renewal once there was one", () =>
        run(Effect.gen(function*() {
          const log = yield* LogStore
          const fresh = yield* log.health()
          assert.strictEqual(fresh.schemaVersion, fresh.knownSchemaVersion)
          assert.strictEqual(fresh.readonly, false)
          assert.strictEqual(fresh.writable, true)
          assert.strictEqual(fresh.lockWaitMs, 0)
          assert.strictEqual(fresh.lastLeaseRenewalAt, undefined)
          yield* TestClock.setTime(1_000_000)
          yield* log.transition(wf("started"), { runId: "r", workflow: "w", status: "started" })
          // The keeper renews a third of the TTL later: step the clock until it has.
          let health = fresh
          for (let i = 0; i < 100 && health.lastLeaseRenewalAt === undefined; i++) {
            yield* TestClock.adjust("1 second")
            health = yield* log.health()
          }
          assert.isAbove(health.lastLeaseRenewalAt ?? 0, 1_000_000)
          assert.isTrue(Option.isSome(yield* log.getLease("r")))
        })))
    })
  })
