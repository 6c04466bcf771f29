// The LogStore contract, written once and run on every backend: `logStoreContract(name, makeLayer)`
// with a layer that gives an EMPTY store each time it is built (once per test). contract.test.ts
// runs it on the SQLite layers, test/pg/logstore-contract.test.ts on LogStorePg.
import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, Layer, Option, Stream } from "effect"
import { TestClock } from "effect/testing"
import type { WorkflowRunStatus } from "../../schema/WorkflowRun.ts"
import * as ThreadLog from "../../src/domain/ThreadLog.ts"
import { LogStore } from "../../src/LogStore.ts"
import { ALLOWED } from "../support/specStateMachine.ts"

const STATUSES: ReadonlyArray<WorkflowRunStatus> = [
  "queued", "started", "completed", "failed", "crashed", "interrupted", "dropped", "killed"
]


// A legal way to bring a fresh run into each status.
const PATH_TO: Record<WorkflowRunStatus, ReadonlyArray<WorkflowRunStatus>> = {
  queued: ["queued"],
  started: ["started"],
  completed: ["started", "completed"],
  failed: ["started", "failed"],
  crashed: ["started", "crashed"],
  interrupted: ["started", "interrupted"],
  dropped: ["dropped"],
  killed: ["started", "killed"]
}

const wf = (type: string, payload?: unknown) => ({
  source: "workflow",
  type,
  ...(payload === undefined ? {} : { payload: typeof payload === "string" ? payload : JSON.stringify(payload) })
})

const countRows = Effect.gen(function*() {
  const log = yield* LogStore
  return yield* Stream.runCount(log.stream())
})

export const logStoreContract = <E>(name: string, makeLayer: () => Layer.Layer<LogStore, E>) =>
  describe(`LogStore contract: ${name}`, () => {
    const run = <A, E>(effect: Effect.Effect<A, E, LogStore>) => Effect.provide(effect, makeLayer())

    describe("append and query", () => {
      it.effect("append returns the stored row with a fresh id", () =>
        run(Effect.gen(function*() {
          const log = yield* LogStore
          const a = yield* log.append({ source: "s", type: "t", refId: "r", payload: "p", timestamp: 5 })
          const b = yield* log.append({ source: "s", type: "t", timestamp: 6 })
          assert.deepStrictEqual(a, { id: a.id, source: "s", type: "t", refId: "r", payload: "p", timestamp: 5 })
          assert.deepStrictEqual(b, { id: a.id + 1, source: "s", type: "t", refId: null, payload: null, timestamp: 6 })
          assert.deepStrictEqual(yield* log.query(), [a, b])
        })))

      it.effect("the timestamp defaults to the Effect clock", () =>
        run(Effect.gen(function*() {
          const log = yield* LogStore
          yield* TestClock.setTime(1_700_000_000_123)
          const row = yield* log.append({ source: "s", type: "t" })
          assert.strictEqual(row.timestamp, 1_700_000_000_123)
          const [many] = yield* log.appendMany([{ source: "s", type: "u" }])
          assert.strictEqual(many?.timestamp, 1_700_000_000_123)
        })))

      it.effect("appendMany writes every row in one transaction, in order", () =>
        run(Effect.gen(function*() {
          const log = yield* LogStore
          const rows = yield* log.appendMany([1, 2, 3].map((i) => ({ source: "s", type: `t${i}`, timestamp: i })))
          assert.deepStrictEqual(rows.map((r) => r.type), ["t1", "t2", "t3"])
          assert.deepStrictEqual(rows.map((r) => r.id), [rows[0]!.id, rows[0]!.id + 1, rows[0]!.id + 2])
          assert.deepStrictEqual(yield* log.appendMany([]), [])
        })))

      it.effect("appendMany with one bad entry writes nothing and names the entry", () =>
        run(Effect.gen(function*() {
          const log = yield* LogStore
          const error = yield* Effect.flip(log.appendMany([{ source: "s", type: "t" }, { source: "", type: "t" }]))
          assert.strictEqual(error._tag, "InvalidInput")
          assert.strictEqual(error._tag === "InvalidInput" && error.field, "entries.1.source")
          assert.strictEqual(yield* countRows, 0)
        })))

      it.effect("64 concurrent appends all commit with distinct ids", () =>
        run(Effect.gen(function*() {
          const log = yield* LogStore
          const rows = yield* Effect.forEach(
            Array.from({ length: 64 }, (_, i) => i),
            (i) => log.append({ source: "s", type: "t", payload: String(i), timestamp: i }),
            { concurrency: "unbounded" }
          )
          assert.strictEqual(new Set(rows.map((r) => r.id)).size, 64)
          const stored = yield* log.query({ limit: 100 })
          assert.deepStrictEqual(stored.map((r) => r.payload).sort(), rows.map((r) => r.payload).sort())
        })))

      it.effect("query filters by source, type, refId and an inclusive time range", () =>
        run(Effect.gen(function*() {
          const log = yield* LogStore
          yield* log.appendMany([
            { source: "a", type: "x", refId: "r1", timestamp: 10 },
            { source: "a", type: "y", refId: "r2", timestamp: 20 },
            { source: "b", type: "x", refId: "r1", timestamp: 30 },
            { source: "b", type: "y", refId: null, timestamp: 40 }
          ])
          const types = (rows: ReadonlyArray<{ source: string; type: string }>) => rows.map((r) => r.source + r.type)
          assert.deepStrictEqual(types(yield* log.query({ source: "a" })), ["ax", "ay"])
          assert.deepStrictEqual(types(yield* log.query({ type: "x" })), ["ax", "bx"])
          assert.deepStrictEqual(types(yield* log.query({ refId: "r1" })), ["ax", "bx"])
          assert.deepStrictEqual(types(yield* log.query({ since: 20, until: 30 })), ["ay", "bx"])
          assert.deepStrictEqual(types(yield* log.query({ since: 40 })), ["by"])
          assert.deepStrictEqual(types(yield* log.query({ until: 10 })), ["ax"])
          assert.deepStrictEqual(types(yield* log.query({ source: "b", type: "y", until: 40 })), ["by"])
        })))

      it.effect("a limit alone returns the oldest rows; desc returns the newest", () =>
        run(Effect.gen(function*() {
          const log = yield* LogStore
          yield* log.appendMany([1, 2, 3, 4, 5].map((i) => ({ source: "s", type: "t", timestamp: i })))
          assert.deepStrictEqual((yield* log.query({ limit: 2 })).map((r) => r.timestamp), [1, 2])
          assert.deepStrictEqual((yield* log.query({ limit: 2, order: "desc" })).map((r) => r.timestamp), [5, 4])
        })))

      it.effect("afterId pages through the rows in both orders", () =>
        run(Effect.gen(function*() {
          const log = yield* LogStore
          const rows = yield* log.appendMany(Array.from({ length: 7 }, (_, i) => ({ source: "s", type: "t", timestamp: i })))
          const ids = rows.map((r) => r.id)
          const pages = (order: "asc" | "desc") =>
            Effect.gen(function*() {
              const seen: Array<number> = []
              let afterId = 0
              for (;;) {
                const page = yield* log.query({ order, limit: 3, afterId })
                if (page.length === 0) return seen
                seen.push(...page.map((r) => r.id))
                afterId = page[page.length - 1]!.id
              }
            })
          assert.deepStrictEqual(yield* pages("asc"), ids)
          assert.deepStrictEqual(yield* pages("desc"), [...ids].reverse())
        })))

      it.effect("stream reads more rows than one page, in order, honouring filters and limit", () =>
        run(Effect.gen(function*() {
          const log = yield* LogStore
          yield* log.appendMany(Array.from({ length: 2_500 }, (_, i) => ({ source: i % 2 === 0 ? "even" : "odd", type: "t", timestamp: i })))
          const all = yield* Stream.runCollect(log.stream())
          assert.strictEqual(all.length, 2_500)
          assert.isTrue(all.every((row, i) => i === 0 || row.id > all[i - 1]!.id))
          const even = yield* Stream.runCollect(log.stream({ source: "even" }))
          assert.strictEqual(even.length, 1_250)
          const newest = yield* Stream.runCollect(log.stream({ order: "desc", limit: 1_500 }))
          assert.strictEqual(newest.length, 1_500)
          assert.strictEqual(newest[0]!.timestamp, 2_499)
        })))

      it.effect("limits that are not positive integers fail with InvalidInput and read nothing", () =>
        run(Effect.gen(function*() {
          const log = yield* LogStore
          for (const limit of [0, -1, 1.5, Number.NaN, 100_001]) {
            const error = yield* Effect.flip(log.query({ limit }))
            assert.strictEqual(error._tag, "InvalidInput")
            assert.strictEqual(error._tag === "InvalidInput" && error.field, "query.limit")
          }
          const range = yield* Effect.flip(log.query({ since: 10, until: 5 }))
          assert.strictEqual(range._tag === "InvalidInput" && range.field, "query.since")
        })))

      it.effect("bad entries fail with InvalidInput naming the field and write nothing", () =>
        run(Effect.gen(function*() {
          const log = yield* LogStore
          const cases: ReadonlyArray<[unknown, string]> = [
            [{ source: "", type: "t" }, "entry.source"],
            [{ source: "  ", type: "t" }, "entry.source"],
            [{ source: "s", type: "" }, "entry.type"],
            [{ source: "s", type: "t", timestamp: 1.5 }, "entry.timestamp"],
            [{ source: "s", type: "t", timestamp: Number.POSITIVE_INFINITY }, "entry.timestamp"],
            [{ source: "s", type: "t", timestamp: Number.NaN }, "entry.timestamp"],
            [{ source: "s", type: "t", timestamp: -1 }, "entry.timestamp"]
          ]
          for (const [input, field] of cases) {
            // @ts-expect-error deliberately wrong input, as an untyped caller could send
            const error = yield* Effect.flip(log.append(input))
            assert.strictEqual(error._tag === "InvalidInput" && error.field, field, JSON.stringify(input))
          }
          const runError = yield* Effect.flip(log.transition(wf("started"), { runId: "", workflow: "w", status: "started" }))
          assert.strictEqual(runError._tag === "InvalidInput" && runError.field, "run.runId")
          assert.strictEqual(yield* countRows, 0)
          assert.deepStrictEqual(yield* log.runs(), [])
        })))
    })

    describe("meta", () => {
      it.effect("setMeta then getMeta returns the latest value; a missing key is none", () =>
        run(Effect.gen(function*() {
          const log = yield* LogStore
          assert.isTrue(Option.isNone(yield* log.getMeta("k")))
          yield* log.setMeta("k", "1")
          yield* log.setMeta("k", "2")
          assert.deepStrictEqual(yield* log.getMeta("k"), Option.some("2"))
          const error = yield* Effect.flip(log.setMeta("", "x"))
          assert.strictEqual(error._tag === "InvalidInput" && error.field, "key")
        })))
    })

    describe("run state machine", () => {
      it.effect("every (from, to) pair is accepted or refused exactly as the SPEC table says", () =>
        run(Effect.gen(function*() {
          const log = yield* LogStore
          let n = 0
          for (const from of ["new", ...STATUSES] as const) {
            for (const to of STATUSES) {
              const runId = `run-${n++}`
              const path = from === "new" ? [] : PATH_TO[from]
              for (const status of path) yield* log.transition(wf(status), { runId, workflow: "w", status })
              const before = yield* countRows
              const historyBefore = yield* log.runHistory(runId)
              const runBefore = yield* log.getRun(runId)
              const exit = yield* Effect.exit(log.transition(wf(to), { runId, workflow: "w", status: to }))
              const legal = ALLOWED[from]!.includes(to) || from === to
              assert.strictEqual(Exit.isSuccess(exit), legal, `${from} -> ${to}`)
              if (legal) {
                assert.strictEqual(Option.getOrThrow(yield* log.getRun(runId)).status, to)
                assert.strictEqual(yield* countRows, before + 1)
              } else {
                const error = yield* Effect.flip(log.transition(wf(to), { runId, workflow: "w", status: to }))
                assert.deepStrictEqual(
                  error._tag === "IllegalTransition" ? { runId: error.runId, from: error.from, to: error.to } : error,
                  { runId, from: from === "new" ? null : from, to }
                )
                assert.strictEqual(yield* countRows, before, `${from} -> ${to} wrote a log row`)
                assert.deepStrictEqual(yield* log.getRun(runId), runBefore)
                assert.deepStrictEqual(yield* log.runHistory(runId), historyBefore)
              }
            }
          }
        })))

      it.effect("repeating the current status is an idempotent retry that refreshes timestamp and exit code", () =>
        run(Effect.gen(function*() {
          const log = yield* LogStore
          yield* log.transition({ ...wf("started"), timestamp: 1 }, { runId: "r", workflow: "w", status: "started" })
          const retried = yield* log.transition({ ...wf("started"), timestamp: 2 }, { runId: "r", workflow: "w", status: "started", exitCode: 7 })
          assert.deepStrictEqual(retried.run, { runId: "r", workflow: "w", status: "started", timestamp: 2, exitCode: 7 })
          assert.deepStrictEqual(yield* log.getRun("r"), Option.some(retried.run))
        })))

      it.effect("a terminal run's exit code never changes: a retry with another code is refused and writes nothing", () =>
        run(Effect.gen(function*() {
          const log = yield* LogStore
          yield* log.transition(wf("started"), { runId: "r", workflow: "w", status: "started" })
          yield* log.transition({ ...wf("failed"), timestamp: 5 }, { runId: "r", workflow: "w", status: "failed", exitCode: 3 })
          const retry = yield* log.transition({ ...wf("failed"), timestamp: 9 }, { runId: "r", workflow: "w", status: "failed" })
          assert.strictEqual(retry.run.exitCode, 3)
          assert.strictEqual(retry.run.timestamp, 9)
          const same = yield* log.transition({ ...wf("failed"), timestamp: 10 }, { runId: "r", workflow: "w", status: "failed", exitCode: 3 })
          assert.strictEqual(same.run.exitCode, 3)
          const before = yield* countRows
          const conflict = yield* Effect.flip(log.transition(wf("failed"), { runId: "r", workflow: "w", status: "failed", exitCode: 0 }))
          assert.deepStrictEqual(
            conflict._tag === "RunMismatch" ? [conflict.field, conflict.stored, conflict.requested] : conflict,
            ["exitCode", 3, 0]
          )
          assert.strictEqual(yield* countRows, before)
          const error = yield* Effect.flip(log.transition(wf("completed"), { runId: "r", workflow: "w", status: "completed", exitCode: 0 }))
          assert.strictEqual(error._tag, "IllegalTransition")
          assert.deepStrictEqual(Option.getOrThrow(yield* log.getRun("r")), { runId: "r", workflow: "w", status: "failed", timestamp: 10, exitCode: 3 })
        })))

      it.effect("a transition naming another workflow than the run's is refused and writes nothing", () =>
        run(Effect.gen(function*() {
          const log = yield* LogStore
          yield* log.transition(wf("started"), { runId: "r", workflow: "build", status: "started" })
          const before = yield* countRows
          for (const status of ["started", "completed"] as const) {
            const error = yield* Effect.flip(log.transition(wf(status), { runId: "r", workflow: "deploy", status }))
            assert.deepStrictEqual(
              error._tag === "RunMismatch" ? [error.runId, error.field, error.stored, error.requested] : error,
              ["r", "workflow", "build", "deploy"]
            )
          }
          assert.strictEqual(yield* countRows, before)
          assert.deepStrictEqual((yield* log.runHistory("r")).map((h) => h.to), ["started"])
        })))

      it.effect("runHistory lists the accepted transitions in order with their log ids", () =>
        run(Effect.gen(function*() {
          const log = yield* LogStore
          const steps: ReadonlyArray<WorkflowRunStatus> = ["queued", "started", "crashed", "started", "completed"]
          const results = []
          for (const [i, status] of steps.entries()) {
            results.push(yield* log.transition({ ...wf(status), timestamp: 100 + i }, { runId: "r", workflow: "w", status, exitCode: status === "completed" ? 0 : null }))
          }
          yield* Effect.flip(log.transition(wf("started"), { runId: "r", workflow: "w", status: "started" }))
          const history = yield* log.runHistory("r")
          assert.deepStrictEqual(history.map((h) => [h.from, h.to]), [
            [null, "queued"], ["queued", "started"], ["started", "crashed"], ["crashed", "started"], ["started", "completed"]
          ])
          assert.deepStrictEqual(history.map((h) => h.logId), results.map((r) => r.entry.id))
          assert.deepStrictEqual(history.map((h) => h.timestamp), [100, 101, 102, 103, 104])
          assert.strictEqual(history[4]!.exitCode, 0)
        })))

      it.effect("the transition's log row belongs to the run unless another refId is given", () =>
        run(Effect.gen(function*() {
          const log = yield* LogStore
          const { entry } = yield* log.transition(wf("started"), { runId: "r", workflow: "w", status: "started" })
          assert.strictEqual(entry.refId, "r")
          const other = yield* log.transition({ ...wf("completed"), refId: "x" }, { runId: "r", workflow: "w", status: "completed" })
          assert.strictEqual(other.entry.refId, "x")
        })))

      it.effect("activeRuns lists queued and started runs oldest first, optionally by workflow", () =>
        run(Effect.gen(function*() {
          const log = yield* LogStore
          yield* log.transition({ ...wf("queued"), timestamp: 3 }, { runId: "a", workflow: "w1", status: "queued" })
          yield* log.transition({ ...wf("started"), timestamp: 1 }, { runId: "b", workflow: "w2", status: "started" })
          yield* log.transition({ ...wf("started"), timestamp: 2 }, { runId: "c", workflow: "w1", status: "started" })
          yield* log.transition({ ...wf("completed"), timestamp: 4 }, { runId: "c", workflow: "w1", status: "completed" })
          yield* log.transition({ ...wf("dropped"), timestamp: 5 }, { runId: "d", workflow: "w1", status: "dropped" })
          assert.deepStrictEqual((yield* log.activeRuns()).map((r) => r.runId), ["b", "a"])
          assert.deepStrictEqual((yield* log.activeRuns("w1")).map((r) => r.runId), ["a"])
        })))

      it.effect("runs lists newest first with workflow, status and limit filters", () =>
        run(Effect.gen(function*() {
          const log = yield* LogStore
          for (const [i, id] of ["a", "b", "c", "d"].entries()) {
            yield* log.transition({ ...wf("started"), timestamp: i }, { runId: id, workflow: i % 2 === 0 ? "even" : "odd", status: "started" })
          }
          yield* log.transition({ ...wf("failed"), timestamp: 10 }, { runId: "a", workflow: "even", status: "failed" })
          assert.deepStrictEqual((yield* log.runs()).map((r) => r.runId), ["a", "d", "c", "b"])
          assert.deepStrictEqual((yield* log.runs({ workflow: "even" })).map((r) => r.runId), ["a", "c"])
          assert.deepStrictEqual((yield* log.runs({ status: "started" })).map((r) => r.runId), ["d", "c", "b"])
          assert.deepStrictEqual((yield* log.runs({ limit: 1 })).map((r) => r.runId), ["a"])
          const error = yield* Effect.flip(log.runs({ limit: 0 }))
          assert.strictEqual(error._tag, "InvalidInput")
        })))

      it.effect("recoverOrphans leaves the runs this stack holds alone, even after their lease time", () =>
        run(Effect.gen(function*() {
          const log = yield* LogStore
          yield* log.transition(wf("started"), { runId: "s1", workflow: "w", status: "started" })
          yield* log.transition(wf("queued"), { runId: "q", workflow: "w", status: "queued" })
          yield* TestClock.adjust("10 minutes")
          assert.deepStrictEqual(yield* log.recoverOrphans({ includeQueued: true }), [])
          assert.deepStrictEqual(yield* log.markOrphansCrashed(), [])
          assert.strictEqual(Option.getOrThrow(yield* log.getRun("s1")).status, "started")
        })))

      it.effect("getRunOrFail returns the run, or fails with RunNotFound", () =>
        run(Effect.gen(function*() {
          const log = yield* LogStore
          const { run: created } = yield* log.transition(wf("started"), { runId: "r", workflow: "w", status: "started" })
          assert.deepStrictEqual(yield* log.getRunOrFail("r"), created)
          const error = yield* Effect.flip(log.getRunOrFail("nope"))
          assert.deepStrictEqual(error._tag === "RunNotFound" ? error.runId : error, "nope")
        })))

      it.effect("getRun of an unknown run is none", () =>
        run(Effect.gen(function*() {
          const log = yield* LogStore
          assert.isTrue(Option.isNone(yield* log.getRun("nope")))
          assert.deepStrictEqual(yield* log.runHistory("nope"), [])
        })))
    })

    describe("thread helpers", () => {
      const seed = (rows: ReadonlyArray<{ type: string; payload: string | null; timestamp?: number; source?: string; refId?: string }>) =>
        LogStore.use((log) =>
          log.appendMany(rows.map((row, i) => ({
            source: row.source ?? "workflow",
            type: row.type,
            refId: row.refId ?? "run",
            payload: row.payload,
            timestamp: row.timestamp ?? 1_000 + i
          }))))
      const msg = (m: unknown) => ({ type: "thread_workflow_message", payload: JSON.stringify(m) })
      const evt = (e: unknown) => ({ type: "thread_command_event", payload: JSON.stringify(e) })
      const threadEntry = (m: unknown) => ({ source: "workflow", ...msg(m) })

      it.effect("rounds exclude thread_start, __start__ and invalid JSON, and number the rest by id", () =>
        run(Effect.gen(function*() {
          const log = yield* LogStore
          const rows = yield* seed([
            evt({ type: "thread_start" }),
            msg({ role: "__start__", content: "begin" }),
            msg({ role: "user", content: "hi", timestamp: 42 }),
            { type: "thread_workflow_message", payload: "{not json" },
            { type: "thread_workflow_message", payload: null },
            evt({ type: "tool", content: "ran" }),
            msg([1, 2, 3]),
            msg({ role: "assistant", content: "bye", meta: { model: "m" } }),
            evt({ type: "note", role: "observer" }),
            { type: "thread_workflow_message", payload: JSON.stringify({ role: "x", content: "other run" }), refId: "other" },
            { type: "thread_workflow_message", payload: JSON.stringify({ role: "x", content: "other source" }), source: "daemon" }
          ])
          assert.strictEqual(yield* log.threadRoundCount("run"), 5)
          const rounds = yield* log.threadRounds("run", { before: 0, limit: 10 })
          assert.deepStrictEqual(rounds.map((r) => r.round), [5, 4, 2, 1])
          assert.deepStrictEqual(rounds[3], { round: 1, logId: rows[2]!.id, timestamp: rows[2]!.timestamp, message: { role: "user", content: "hi", timestamp: 42 } })
          assert.deepStrictEqual(rounds[2]!.message, {
            role: "tool",
            content: "ran",
            meta: { type: "tool", content: "ran" },
            timestamp: rows[5]!.timestamp
          })
          assert.deepStrictEqual(rounds[1]!.message, { role: "assistant", content: "bye", meta: { model: "m" }, timestamp: 0 })
          assert.deepStrictEqual(rounds[0]!.message, {
            role: "observer",
            content: JSON.stringify({ type: "note", role: "observer" }),
            meta: { type: "note", role: "observer" },
            timestamp: rows[8]!.timestamp
          })
        })))

      it.effect("threadRounds pages with before and limit; a limit below 1 returns nothing", () =>
        run(Effect.gen(function*() {
          const log = yield* LogStore
          yield* seed(Array.from({ length: 6 }, (_, i) => msg({ role: "user", content: `m${i + 1}` })))
          const page = (before: number, limit: number) =>
            Effect.map(log.threadRounds("run", { before, limit }), (rows) => rows.map((r) => r.round))
          assert.deepStrictEqual((yield* log.threadRounds("run")).map((r) => r.round), [6, 5, 4, 3, 2, 1])
          assert.deepStrictEqual((yield* log.threadRounds("run", { before: 4 })).map((r) => r.round), [3, 2, 1])
          assert.deepStrictEqual(yield* page(0, 2), [6, 5])
          assert.deepStrictEqual(yield* page(5, 2), [4, 3])
          assert.deepStrictEqual(yield* page(3, 10), [2, 1])
          assert.deepStrictEqual(yield* page(1, 10), [])
          assert.deepStrictEqual(yield* page(0, 0), [])
          assert.deepStrictEqual(yield* page(0, -3), [])
        })))

      /** The run's count and every page of 2 agree with the SPEC's rule over the rows now stored. */
      const roundsMatchRows = (runId: string) =>
        Effect.gen(function*() {
          const log = yield* LogStore
          const rows = (yield* log.query({ refId: runId, source: "workflow", limit: 100_000 }))
          const expected = ThreadLog.numberRounds(rows).length
          assert.strictEqual(yield* log.threadRoundCount(runId), expected, `count of ${runId}`)
          assert.deepStrictEqual(yield* log.threadRounds(runId, { before: 0, limit: 1_000 }), ThreadLog.threadRounds(rows, { before: 0, limit: 1_000 }))
          for (let before = 1; before <= expected + 1; before++) {
            const params = { before, limit: 2 }
            assert.deepStrictEqual(yield* log.threadRounds(runId, params), ThreadLog.threadRounds(rows, params), `${runId} ${JSON.stringify(params)}`)
          }
          return expected
        })

      it.effect("appends one at a time count round rows only: not bad JSON, thread_start markers, other sources or other types", () =>
        run(Effect.gen(function*() {
          const log = yield* LogStore
          const append = (row: { type: string; payload: string | null; source?: string; refId?: string | null }) =>
            log.append({ source: row.source ?? "workflow", type: row.type, refId: row.refId === undefined ? "run" : row.refId, payload: row.payload })
          yield* append(evt({ type: "thread_start" }))
          yield* append(msg({ role: "__start__", content: "begin" }))
          yield* append(msg({ role: "user", content: "hi" }))
          yield* append({ type: "thread_workflow_message", payload: "{not json" })
          yield* append({ type: "thread_command_event", payload: null })
          yield* append(evt({ type: "tool", content: "ran" }))
          yield* append(msg("just a string"))
          yield* append({ ...msg({ role: "user", content: "daemon" }), source: "daemon" })
          yield* append({ type: "note", payload: JSON.stringify({ role: "user", content: "not a thread type" }) })
          yield* append({ ...msg({ role: "user", content: "no run" }), refId: null })
          // Issue 16: a thread message needs its run (RunNotFound otherwise); "started" is no round.
          yield* log.transition({ source: "workflow", type: "started" }, { runId: "run", workflow: "w", status: "started" })
          yield* log.appendThreadMessage("run", { role: "assistant", content: "bye" })
          assert.strictEqual(yield* roundsMatchRows("run"), 4)
          assert.deepStrictEqual((yield* log.threadRounds("run")).map((r) => [r.round, r.message.content]), [[4, "bye"], [2, "ran"], [1, "hi"]])
        })))

      it.effect("appendMany, concurrent appends and transitions count each run's rounds", () =>
        run(Effect.gen(function*() {
          const log = yield* LogStore
          yield* seed([
            msg({ role: "user", content: "a1" }),
            { ...msg({ role: "user", content: "b1" }), refId: "b" },
            { type: "tick", payload: "{}" },
            evt({ type: "thread_start" }),
            { ...evt({ type: "tool" }), refId: "b" },
            msg({ role: "user", content: "a2" })
          ])
          yield* Effect.forEach(
            Array.from({ length: 20 }, (_, i) => i),
            (i) => log.append({ source: "workflow", type: "thread_workflow_message", refId: i % 2 === 0 ? "run" : "b", payload: JSON.stringify({ role: "user", content: `c${i}` }) }),
            { concurrency: "unbounded" }
          )
          // A transition's own log row is a round when it is a thread row of the run.
          yield* log.transition({ source: "workflow", type: "started" }, { runId: "run", workflow: "w", status: "started" })
          yield* log.transition(threadEntry({ role: "assistant", content: "done" }), { runId: "run", workflow: "w", status: "completed", exitCode: 0 })
          assert.strictEqual(yield* roundsMatchRows("run"), 13)
          assert.strictEqual(yield* roundsMatchRows("b"), 12)
          assert.strictEqual(yield* log.threadRoundCount("nobody"), 0)
        })))

      it.effect("a rolled-back transaction or a refused transition leaves the counts as they were", () =>
        run(Effect.gen(function*() {
          const log = yield* LogStore
          yield* seed([msg({ role: "user", content: "kept" })])
          const inside = yield* log.transaction(Effect.gen(function*() {
            yield* log.appendMany([1, 2].map((i) => ({ source: "workflow", type: "thread_workflow_message", refId: "run", payload: JSON.stringify({ role: "user", content: `gone${i}` }) })))
            // Issue 16: a thread message needs its run; the run rolls back with the rest.
            yield* log.transition({ source: "workflow", type: "queued" }, { runId: "run", workflow: "w", status: "queued" })
            yield* log.appendThreadMessage("run", { role: "user", content: "gone too" })
            const seen = yield* log.threadRoundCount("run")
            return yield* Effect.fail({ _tag: "Abort" as const, seen })
          })).pipe(Effect.flip)
          assert.strictEqual(inside._tag === "Abort" && inside.seen, 4, "the transaction sees its own rounds")
          assert.strictEqual(yield* roundsMatchRows("run"), 1)
          yield* log.transition({ source: "workflow", type: "started" }, { runId: "run", workflow: "w", status: "started" })
          yield* log.transition({ source: "workflow", type: "completed" }, { runId: "run", workflow: "w", status: "completed", exitCode: 0 })
          const refused = yield* Effect.flip(log.transition(threadEntry({ role: "user", content: "late" }), { runId: "run", workflow: "w", status: "started" }))
          assert.strictEqual(refused._tag, "IllegalTransition")
          assert.strictEqual(yield* roundsMatchRows("run"), 1)
        })))

      it.effect("a retry with the same idempotency key counts its round once", () =>
        run(Effect.gen(function*() {
          const log = yield* LogStore
          const row = { source: "workflow", type: "thread_workflow_message", refId: "run", payload: JSON.stringify({ role: "user", content: "once" }) }
          const first = yield* log.append(row, { idempotencyKey: "k-append" })
          assert.deepStrictEqual(yield* log.append(row, { idempotencyKey: "k-append" }), first)
          // Issue 16: a thread message needs its run ("queued" is no round).
          yield* log.transition({ source: "workflow", type: "queued" }, { runId: "run", workflow: "w", status: "queued" })
          yield* log.appendThreadMessage("run", { role: "assistant", content: "reply" }, { idempotencyKey: "k-message" })
          yield* log.appendThreadMessage("run", { role: "assistant", content: "reply" }, { idempotencyKey: "k-message" })
          const moves = [1, 2].map(() => log.transition(threadEntry({ role: "system", content: "go" }), { runId: "run", workflow: "w", status: "started" }, { idempotencyKey: "k-move" }))
          yield* Effect.all(moves)
          assert.strictEqual(yield* roundsMatchRows("run"), 3)
        })))

      it.effect("threadMessages keeps string role and content, oldest first, timestamp 0 when missing", () =>
        run(Effect.gen(function*() {
          const log = yield* LogStore
          yield* seed([
            msg({ role: "user", content: "a", timestamp: 7 }),
            msg({ role: "user", content: 1 }),
            msg({ role: "assistant", content: "b", timestamp: "late" }),
            { type: "thread_workflow_message", payload: "nope" },
            evt({ type: "tool", role: "r", content: "c" })
          ])
          assert.deepStrictEqual(yield* log.threadMessages("run"), [
            { role: "user", content: "a", timestamp: 7 },
            { role: "assistant", content: "b", timestamp: 0 }
          ])
        })))

      it.effect("threadEvents (deprecated) returns objects with a string type, skipping bad JSON", () =>
        run(Effect.gen(function*() {
          const log = yield* LogStore
          yield* seed([evt({ type: "a", x: 1 }), { type: "thread_command_event", payload: "{" }, evt({ kind: "b" }), evt({ type: "c" })])
          assert.deepStrictEqual(yield* log.threadEvents("run"), [{ type: "a", x: 1 }, { type: "c" }])
        })))

      it.effect("triggerPayload reads the first started row: direct, nested, nested as-is, absent, bad JSON", () =>
        run(Effect.gen(function*() {
          const log = yield* LogStore
          const started = (refId: string, payload: string | null) => ({ type: "started", payload, refId })
          yield* seed([
            started("direct", JSON.stringify({ prompt: "p", maxRounds: 3, dryRun: true })),
            started("direct", JSON.stringify({ prompt: "second", maxRounds: 1 })),
            started("nested", JSON.stringify({ triggerPayload: { prompt: "q", maxRounds: 2, dryRun: "yes" } })),
            started("inner-as-is", JSON.stringify({ triggerPayload: { cron: "* * *" } })),
            started("no-shape", JSON.stringify({ prompt: "p" })),
            started("bad-json", "{"),
            started("null", null)
          ])
          assert.deepStrictEqual(yield* log.triggerPayload("direct"), Option.some({ prompt: "p", maxRounds: 3, dryRun: true }))
          assert.deepStrictEqual(yield* log.triggerPayload("nested"), Option.some({ prompt: "q", maxRounds: 2, dryRun: false }))
          assert.deepStrictEqual(yield* log.triggerPayload("inner-as-is"), Option.some({ cron: "* * *" }))
          assert.isTrue(Option.isNone(yield* log.triggerPayload("no-shape")))
          assert.isTrue(Option.isNone(yield* log.triggerPayload("bad-json")))
          assert.isTrue(Option.isNone(yield* log.triggerPayload("null")))
          assert.isTrue(Option.isNone(yield* log.triggerPayload("absent")))
        })))
    })

    it.effect("recoverOrphans validates its options and writes nothing on bad ones", () =>
      run(Effect.gen(function*() {
        const log = yield* LogStore
        yield* log.transition(wf("started"), { runId: "r", workflow: "w", status: "started" })
        const before = yield* countRows
        for (
          const [options, field] of [
            [{ timestamp: 1.5 }, "options.timestamp"],
            [{ source: "" }, "options.source"],
            [{ includeQueued: "yes" }, "options.includeQueued"]
          ] as const
        ) {
          // @ts-expect-error deliberately wrong input, as an untyped caller could send
          const error = yield* Effect.flip(log.recoverOrphans(options))
          assert.strictEqual(error._tag === "InvalidInput" && error.field, field)
        }
        assert.strictEqual(yield* countRows, before)
        assert.strictEqual(Option.getOrThrow(yield* log.getRun("r")).status, "started")
      })))

    it.effect("timestamps beyond what a Date can hold are refused", () =>
      run(Effect.gen(function*() {
        const log = yield* LogStore
        const error = yield* Effect.flip(log.append({ source: "s", type: "t", timestamp: 8_640_000_000_000_001 }))
        assert.strictEqual(error._tag === "InvalidInput" && error.field, "entry.timestamp")
      })))

    it.effect("stream accepts a limit larger than one query may return", () =>
      run(Effect.gen(function*() {
        const log = yield* LogStore
        yield* log.appendMany([{ source: "s", type: "t" }, { source: "s", type: "u" }])
        assert.strictEqual(yield* Stream.runCount(log.stream({ limit: 200_000 })), 2)
        const error = yield* Effect.flip(Stream.runCount(log.stream({ limit: 0 })))
        assert.strictEqual(error._tag === "InvalidInput" && error.field, "query.limit")
      })))
  })
