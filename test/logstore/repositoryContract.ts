// The contract of the LogStore's storage seam (src/seam/LogRepository.ts), written once and run on
// every backend: `logRepositoryContract(name, makeLayer)` with a layer that gives an EMPTY store
// each time it is built (it is built once per test). SQLite runs it in repository.test.ts; a new
// backend calls it from its own test file.
import { assert, describe, it } from "@effect/vitest"
import { Effect, type Layer, Option, Result } from "effect"
import { IllegalTransition } from "../../schema/Errors.ts"
import type { LogEntry } from "../../schema/LogEntry.ts"
import type { WorkflowRun, WorkflowRunStatus } from "../../schema/WorkflowRun.ts"
import * as ThreadLog from "../../src/domain/ThreadLog.ts"
import { NO_ID_BOUND } from "../../src/domain/ThreadRounds.ts"
import { type NewLogRow, planTransition, type StoredRun } from "../../src/domain/TransitionPlan.ts"
import { LogRepository } from "../../src/seam/LogRepository.ts"

const me = { name: "me", boot: "b1" }
const other = { name: "other", boot: "x" }
const OP = "LogStore.contract"

const row = (over: Partial<NewLogRow> = {}): NewLogRow => ({
  source: "s",
  type: "t",
  refId: null,
  payload: null,
  timestamp: 1,
  ...over
})

const message = (runId: string, content: string, timestamp: number): NewLogRow =>
  row({
    source: ThreadLog.WORKFLOW_SOURCE,
    type: ThreadLog.THREAD_MESSAGE_TYPE,
    refId: runId,
    payload: JSON.stringify({ role: "user", content, timestamp }),
    timestamp
  })

/** Moves `runId` to `status` as `owner` with the domain planner, as the LogStore does. */
const move = (
  runId: string,
  status: WorkflowRunStatus,
  options: { readonly owner?: typeof me; readonly timestamp?: number; readonly workflow?: string; readonly ttlMs?: number } = {}
) =>
  Effect.gen(function*() {
    const repository = yield* LogRepository
    return yield* repository.transition(OP, runId, (stored, now) =>
      planTransition({
        stored,
        request: { runId, workflow: options.workflow ?? "build", status },
        entry: { source: "workflow", type: status, timestamp: options.timestamp ?? 10 },
        owner: options.owner ?? me,
        now,
        ttlMs: options.ttlMs ?? 60_000
      }))
  })

export const logRepositoryContract = <E>(name: string, makeLayer: () => Layer.Layer<LogRepository, E>) =>
  describe(`LogRepository contract: ${name}`, () => {
    const run = <A, E2>(effect: Effect.Effect<A, E2, LogRepository>) => Effect.provide(effect, makeLayer())

    describe("log rows", () => {
      it.effect("insertMany stores rows in order with increasing ids, and selectLogs reads them back by filter, cursor and order", () =>
        run(Effect.gen(function*() {
          const repository = yield* LogRepository
          assert.strictEqual(yield* repository.lastLogId(OP), 0)
          const written = yield* repository.insertMany(OP, [
            row({ refId: "a", timestamp: 5 }),
            row({ type: "u", payload: "p", timestamp: 6 }),
            row({ refId: "a", timestamp: 7 })
          ])
          assert.deepStrictEqual(written.map((entry) => entry.id), [written[0]!.id, written[0]!.id + 1, written[0]!.id + 2])
          assert.deepStrictEqual(written[1], { id: written[1]!.id, source: "s", type: "u", refId: null, payload: "p", timestamp: 6 })
          const [one] = yield* repository.insertMany(OP, [row({ timestamp: 8 })])
          assert.strictEqual(one!.id, written[2]!.id + 1)
          assert.strictEqual(yield* repository.lastLogId(OP), one!.id)
          const all = yield* repository.selectLogs(OP, {}, 100)
          assert.deepStrictEqual(all, [...written, one!])
          assert.deepStrictEqual(yield* repository.selectLogs(OP, { refId: "a" }, 100), [written[0]!, written[2]!])
          assert.deepStrictEqual(yield* repository.selectLogs(OP, { type: "u" }, 100), [written[1]!])
          assert.deepStrictEqual(yield* repository.selectLogs(OP, { since: 6, until: 7 }, 100), [written[1]!, written[2]!])
          assert.deepStrictEqual(yield* repository.selectLogs(OP, { afterId: written[1]!.id }, 1), [written[2]!])
          assert.deepStrictEqual(yield* repository.selectLogs(OP, { order: "desc" }, 2), [one!, written[2]!])
          assert.deepStrictEqual(yield* repository.selectLogs(OP, { order: "desc", afterId: written[1]!.id }, 10), [written[0]!])
        })))

      it.effect("threadRows and firstRow find a run's rows", () =>
        run(Effect.gen(function*() {
          const repository = yield* LogRepository
          const [started, m1, , m2] = yield* repository.insertMany(OP, [
            row({ source: ThreadLog.WORKFLOW_SOURCE, type: ThreadLog.RUN_STARTED_TYPE, refId: "r", payload: "{}" }),
            message("r", "one", 2),
            message("other", "x", 3),
            message("r", "two", 4)
          ])
          assert.deepStrictEqual(yield* repository.threadRows(OP, "r"), [m1!, m2!])
          assert.deepStrictEqual(
            yield* repository.firstRow(OP, { refId: "r", source: ThreadLog.WORKFLOW_SOURCE, type: ThreadLog.RUN_STARTED_TYPE }),
            Option.some(started!)
          )
          assert.isTrue(Option.isNone(yield* repository.firstRow(OP, { refId: "none", source: "s", type: "t" })))
        })))

      it.effect("round counts follow inserted thread rows, and a page numbers down from the count", () =>
        run(Effect.gen(function*() {
          const repository = yield* LogRepository
          yield* repository.insertMany(OP, [message("r", "one", 1)])
          yield* repository.insertMany(OP, [message("r", "two", 2), message("r", "three", 3), row({ refId: "r" }), message("q", "x", 4)])
          assert.strictEqual(yield* repository.roundCount(OP, "r"), 3)
          assert.strictEqual(yield* repository.roundCount(OP, "q"), 1)
          assert.strictEqual(yield* repository.roundCount(OP, "none"), 0)
          const page = yield* repository.roundPage(OP, "r", { before: 0, belowId: NO_ID_BOUND }, 2)
          assert.deepStrictEqual(page.map((r) => [r.total, JSON.parse(r.payload!).content]), [[3, "three"], [3, "two"]])
          const below = yield* repository.roundPage(OP, "r", { before: 3, belowId: NO_ID_BOUND }, 5)
          assert.deepStrictEqual(below.map((r) => JSON.parse(r.payload!).content), ["two", "one"])
          const rest = yield* repository.roundPage(OP, "r", { before: 0, belowId: page[1]!.id }, 5)
          assert.deepStrictEqual(rest.map((r) => JSON.parse(r.payload!).content), ["one"])
        })))
    })

    describe("transitions", () => {
      it.effect("decide sees the stored run and lease and the time; the plan is written whole", () =>
        run(Effect.gen(function*() {
          const repository = yield* LogRepository
          const seen: Array<StoredRun> = []
          const created = yield* repository.transition(OP, "r1", (stored, now) => {
            seen.push(stored)
            return planTransition({
              stored,
              request: { runId: "r1", workflow: "build", status: "started" },
              entry: { source: "workflow", type: "started", timestamp: 10 },
              owner: me,
              now,
              ttlMs: 60_000
            })
          })
          assert.deepStrictEqual(seen, [{ run: null, lease: null }])
          assert.deepStrictEqual(created.run, { runId: "r1", workflow: "build", status: "started", timestamp: 10, exitCode: null })
          assert.deepStrictEqual(created.entry, { id: created.entry.id, source: "workflow", type: "started", refId: "r1", payload: null, timestamp: 10 })
          assert.deepStrictEqual(created.transition, { runId: "r1", from: null, to: "started", timestamp: 10, exitCode: null, logId: created.entry.id })
          assert.deepStrictEqual(yield* repository.getRun(OP, "r1"), Option.some(created.run))
          const lease = yield* repository.getLease(OP, "r1")
          assert.deepStrictEqual(Option.map(lease, (l) => [l.runId, l.owner, l.boot]), Option.some(["r1", "me", "b1"]))
          assert.deepStrictEqual(yield* repository.selectLogs(OP, {}, 10), [created.entry])

          const done = yield* repository.transition(OP, "r1", (stored, now) => {
            seen.push(stored)
            return planTransition({
              stored,
              request: { runId: "r1", workflow: "build", status: "completed", exitCode: 0 },
              entry: { source: "workflow", type: "completed", timestamp: 20 },
              owner: me,
              now,
              ttlMs: 60_000
            })
          })
          assert.deepStrictEqual(seen[1]!.run, created.run)
          assert.deepStrictEqual(seen[1]!.lease, Option.getOrNull(lease))
          assert.deepStrictEqual(done.run, { runId: "r1", workflow: "build", status: "completed", timestamp: 20, exitCode: 0 })
          assert.isTrue(Option.isNone(yield* repository.getLease(OP, "r1")), "a terminal move releases the lease")
          assert.deepStrictEqual(yield* repository.runHistory(OP, "r1"), [created.transition, done.transition])
        })))

      it.effect("a refusal writes nothing and fails with the decision's error", () =>
        run(Effect.gen(function*() {
          const repository = yield* LogRepository
          yield* move("r1", "started")
          const before = yield* repository.selectLogs(OP, {}, 100)
          const refused = yield* Effect.flip(repository.transition(OP, "r1", () =>
            Result.fail(new IllegalTransition({ runId: "r1", from: "started", to: "queued" }))))
          assert.strictEqual(refused._tag, "IllegalTransition")
          const leased = yield* Effect.flip(move("r1", "completed", { owner: other }))
          assert.strictEqual(leased._tag, "RunLeased")
          assert.deepStrictEqual(yield* repository.selectLogs(OP, {}, 100), before)
          assert.strictEqual((yield* repository.runHistory(OP, "r1")).length, 1)
          assert.deepStrictEqual(Option.map(yield* repository.getRun(OP, "r1"), (r) => r.status), Option.some("started"))
        })))

      it.effect("a transaction holds several calls: all commit, or none when it fails", () =>
        run(Effect.gen(function*() {
          const repository = yield* LogRepository
          assert.isFalse(yield* repository.inTransaction)
          const failed = yield* Effect.flip(repository.transaction(Effect.gen(function*() {
            assert.isTrue(yield* repository.inTransaction)
            yield* repository.insertMany(OP, [row()])
            yield* move("r1", "started")
            yield* repository.setMeta(OP, "k", "v")
            return yield* Effect.fail("boom")
          })))
          assert.strictEqual(failed, "boom")
          assert.deepStrictEqual(yield* repository.selectLogs(OP, {}, 10), [])
          assert.isTrue(Option.isNone(yield* repository.getRun(OP, "r1")))
          assert.isTrue(Option.isNone(yield* repository.getMeta(OP, "k")))
          yield* repository.transaction(Effect.andThen(repository.insertMany(OP, [row()]), move("r1", "started")))
          assert.strictEqual((yield* repository.selectLogs(OP, {}, 10)).length, 2)
        })))
    })

    describe("run listings", () => {
      it.effect("selectRuns pages newest first by filter and cursor, and says where the next page starts", () =>
        run(Effect.gen(function*() {
          const repository = yield* LogRepository
          for (const [runId, timestamp] of [["a", 1], ["b", 2], ["c", 2], ["d", 3]] as const) {
            yield* move(runId, "started", { timestamp })
          }
          yield* move("d", "completed", { timestamp: 4 })
          yield* move("e", "queued", { timestamp: 5, workflow: "deploy" })
          const ids = (page: { readonly runs: ReadonlyArray<WorkflowRun> }) => page.runs.map((r) => r.runId)
          const all = yield* repository.selectRuns(OP, {}, undefined, -1)
          assert.deepStrictEqual(ids(all), ["e", "d", "c", "b", "a"])
          assert.deepStrictEqual([all.read, all.invalid.length], [5, 0])
          const first = yield* repository.selectRuns(OP, { workflow: "build" }, undefined, 2)
          assert.deepStrictEqual(ids(first), ["d", "c"])
          assert.deepStrictEqual(ids(yield* repository.selectRuns(OP, { workflow: "build" }, first.last, 2)), ["b", "a"])
          assert.deepStrictEqual(ids(yield* repository.selectRuns(OP, { status: "started" }, undefined, -1)), ["c", "b", "a"])
          assert.deepStrictEqual(ids(yield* repository.selectRuns(OP, { status: ["queued", "completed"] }, undefined, -1)), ["e", "d"])
          const byRun = yield* repository.selectRuns(OP, {}, { timestamp: 2, runId: "c" }, -1)
          assert.deepStrictEqual(ids(byRun), ["b", "a"])
        })))

      it.effect("orphanCandidates lists runs in the statuses asked, oldest first, with their leases", () =>
        run(Effect.gen(function*() {
          const repository = yield* LogRepository
          yield* move("b", "started", { timestamp: 2 })
          yield* move("a", "queued", { timestamp: 1, owner: other })
          yield* move("c", "started", { timestamp: 3 })
          yield* move("c", "completed", { timestamp: 4 })
          const { candidates, invalid } = yield* repository.orphanCandidates(OP, ["started", "queued"])
          assert.deepStrictEqual(invalid, [])
          assert.deepStrictEqual(candidates.map((c) => [c.run.runId, c.run.status, c.lease?.owner, c.lease?.boot]), [
            ["a", "queued", "other", "x"],
            ["b", "started", "me", "b1"]
          ])
          const started = yield* repository.orphanCandidates(OP, ["started"])
          assert.deepStrictEqual(started.candidates.map((c) => c.run.runId), ["b"])
        })))
    })

    describe("leases, keys and meta", () => {
      it.effect("renewLeases and releaseLeases touch only the owner's own boot", () =>
        run(Effect.gen(function*() {
          const repository = yield* LogRepository
          yield* move("a", "started")
          yield* move("b", "started")
          yield* move("c", "started", { owner: { name: "me", boot: "b0" } })
          assert.strictEqual(yield* repository.renewLeases(OP, me, 999_999), 2)
          const expiry = (runId: string) => Effect.map(repository.getLease(OP, runId), Option.map((l) => l.expiresAt))
          assert.deepStrictEqual(yield* expiry("a"), Option.some(999_999))
          assert.notStrictEqual(Option.getOrNull(yield* expiry("c")), 999_999)
          yield* repository.releaseLeases(OP, me)
          assert.isTrue(Option.isNone(yield* repository.getLease(OP, "a")))
          assert.isTrue(Option.isSome(yield* repository.getLease(OP, "c")))
          assert.strictEqual(yield* repository.renewLeases(OP, me, 1), 0)
        })))

      it.effect("keys are stored, found and pruned by creation time", () =>
        run(Effect.gen(function*() {
          const repository = yield* LogRepository
          assert.isTrue(Option.isNone(yield* repository.findKey(OP, "k1")))
          yield* repository.storeKey(OP, { key: "k1", operation: "LogStore.append", request: "{\"a\":1}", result: "{\"id\":1}", createdAt: 100 })
          yield* repository.storeKey(OP, { key: "k2", operation: "LogStore.append", request: "{}", result: "{}", createdAt: 200 })
          assert.deepStrictEqual(
            yield* repository.findKey(OP, "k1"),
            Option.some({ operation: "LogStore.append", request: "{\"a\":1}", result: "{\"id\":1}" })
          )
          yield* repository.pruneKeys(OP, 200)
          assert.isTrue(Option.isNone(yield* repository.findKey(OP, "k1")))
          assert.isTrue(Option.isSome(yield* repository.findKey(OP, "k2")))
        })))

      it.effect("meta values are stored and replaced", () =>
        run(Effect.gen(function*() {
          const repository = yield* LogRepository
          assert.isTrue(Option.isNone(yield* repository.getMeta(OP, "k")))
          yield* repository.setMeta(OP, "k", "1")
          yield* repository.setMeta(OP, "k", "2")
          assert.deepStrictEqual(yield* repository.getMeta(OP, "k"), Option.some("2"))
        })))
    })

    it.effect("reads of absent things are empty, not errors", () =>
      run(Effect.gen(function*() {
        const repository = yield* LogRepository
        assert.isTrue(Option.isNone(yield* repository.getRun(OP, "none")))
        assert.isTrue(Option.isNone(yield* repository.getLease(OP, "none")))
        assert.deepStrictEqual(yield* repository.runHistory(OP, "none"), [])
        assert.deepStrictEqual(yield* repository.threadRows(OP, "none"), [])
        const entries: ReadonlyArray<LogEntry> = yield* repository.selectLogs(OP, { refId: "none" }, 10)
        assert.deepStrictEqual(entries, [])
      })))
  })
