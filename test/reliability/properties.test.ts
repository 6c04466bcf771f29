// Property tests against models, on the in-memory stack (the same SQLite code as the live one),
// with fixed seeds so a failure replays: random transition sequences against a model of the state
// machine, random queries against a filtered array, random archive/restore round trips, role-round
// counts through random appends, archives and restores, and random bytes through the blob store.
import { assert, describe, it } from "@effect/vitest"
import { Effect, Schema, Stream } from "effect"
import { createHash } from "node:crypto"
import { NerveStoreMemory } from "../../layers/index.ts"
import type { LogEntry } from "../../schema/LogEntry.ts"
import { WellFormedText } from "../../schema/Primitives.ts"
import { WorkflowRunStatus } from "../../schema/WorkflowRun.ts"
import { BlobStore } from "../../src/BlobStore.ts"
import { LogArchive } from "../../src/LogArchive.ts"
import { LogStore } from "../../src/LogStore.ts"
import * as ThreadLog from "../../src/domain/ThreadLog.ts"
import { ALLOWED } from "../support/specStateMachine.ts"

const checks = (seed: number, runs = 40) => ({ timeout: 120_000, arbitrary: { seed, runs } })


const Move = Schema.Struct({ run: Schema.Literals(["a", "b", "c"]), status: WorkflowRunStatus })

const Row = Schema.Struct({
  source: Schema.Literals(["s1", "s2"]),
  type: Schema.Literals(["t1", "t2"]),
  refId: Schema.NullOr(Schema.Literals(["r1", "r2"])),
  timestamp: Schema.Int.pipe(Schema.check(Schema.isBetween({ minimum: 0, maximum: 50 })))
})
const Query = Schema.Struct({
  source: Schema.optional(Schema.Literals(["s1", "s2"])),
  type: Schema.optional(Schema.Literals(["t1", "t2"])),
  refId: Schema.optional(Schema.Literals(["r1", "r2"])),
  since: Schema.optional(Schema.Int.pipe(Schema.check(Schema.isBetween({ minimum: 0, maximum: 25 })))),
  until: Schema.optional(Schema.Int.pipe(Schema.check(Schema.isBetween({ minimum: 25, maximum: 50 })))),
  afterId: Schema.optional(Schema.Int.pipe(Schema.check(Schema.isBetween({ minimum: 0, maximum: 30 })))),
  order: Schema.optional(Schema.Literals(["asc", "desc"])),
  limit: Schema.optional(Schema.Int.pipe(Schema.check(Schema.isBetween({ minimum: 1, maximum: 40 }))))
})

const DAY_MS = 86_400_000
const BASE = Date.UTC(2024, 0, 1)
const ArchivedRow = Schema.Struct({
  day: Schema.Int.pipe(Schema.check(Schema.isBetween({ minimum: 0, maximum: 4 }))),
  offset: Schema.Int.pipe(Schema.check(Schema.isBetween({ minimum: 0, maximum: DAY_MS - 1 }))),
  payload: Schema.NullOr(WellFormedText)
})

/** Thread payloads around the round rule: rounds with and without a row, markers, bad JSON. */
const THREAD_PAYLOADS: ReadonlyArray<string | null> = [
  JSON.stringify({ role: "user", content: "hi" }),
  JSON.stringify({ role: "assistant", content: "yes", meta: { n: 1 } }),
  JSON.stringify({ type: "tool", content: "ran" }),
  JSON.stringify({ type: "thread_start" }),
  JSON.stringify({ role: "__start__", content: "begin" }),
  "42",
  "{not json",
  null
]
const ThreadRowInput = Schema.Struct({
  run: Schema.Literals(["a", "b"]),
  day: Schema.Int.pipe(Schema.check(Schema.isBetween({ minimum: 0, maximum: 3 }))),
  offset: Schema.Int.pipe(Schema.check(Schema.isBetween({ minimum: 0, maximum: DAY_MS - 1 }))),
  payload: Schema.Int.pipe(Schema.check(Schema.isBetween({ minimum: 0, maximum: THREAD_PAYLOADS.length - 1 }))),
  type: Schema.Literals([ThreadLog.THREAD_MESSAGE_TYPE, ThreadLog.THREAD_EVENT_TYPE, "note"]),
  source: Schema.Literals(["workflow", "workflow", "daemon"])
})
const RoundsOp = Schema.Union([
  Schema.Struct({ op: Schema.Literal("append"), rows: Schema.Array(ThreadRowInput) }),
  Schema.Struct({ op: Schema.Literal("archive"), maxDays: Schema.Int.pipe(Schema.check(Schema.isBetween({ minimum: 1, maximum: 4 }))), includeRestored: Schema.Boolean }),
  Schema.Struct({ op: Schema.Literal("restore"), pick: Schema.Int.pipe(Schema.check(Schema.isBetween({ minimum: 0, maximum: 3 }))) })
])

/** What `query` must return for `q` over `rows` (ids ascending), by the SPEC's filter rules. */
const modelQuery = (rows: ReadonlyArray<LogEntry>, q: typeof Query.Type): ReadonlyArray<number> => {
  const descending = q.order === "desc"
  const afterId = q.afterId ?? 0
  const matching = rows.filter((row) =>
    (q.source === undefined || row.source === q.source) && (q.type === undefined || row.type === q.type) &&
    (q.refId === undefined || row.refId === q.refId) && (q.since === undefined || row.timestamp >= q.since) &&
    (q.until === undefined || row.timestamp <= q.until) &&
    (afterId === 0 || (descending ? row.id < afterId : row.id > afterId))
  )
  const ordered = descending ? [...matching].reverse() : matching
  return ordered.slice(0, q.limit ?? 1_000).map((row) => row.id)
}

describe("properties (fixed seeds)", () => {
  it.effect.prop("random transition sequences are accepted exactly when the model allows them", [Schema.Array(Move)], ([moves]) =>
    Effect.gen(function*() {
      const log = yield* LogStore
      const model = new Map<string, WorkflowRunStatus>()
      for (const move of moves) {
        const from = model.get(move.run)
        const allowed = from === move.status || ALLOWED[from ?? "new"].includes(move.status)
        const result = yield* Effect.result(log.transition({ source: "workflow", type: move.status }, {
          runId: move.run,
          workflow: "w",
          status: move.status
        }))
        assert.strictEqual(result._tag === "Success", allowed, `${from ?? "new"} -> ${move.status}`)
        if (result._tag === "Failure") assert.strictEqual(result.failure._tag, "IllegalTransition")
        if (allowed) model.set(move.run, move.status)
      }
      for (const [runId, status] of model) {
        const run = yield* log.getRun(runId)
        assert.strictEqual(run._tag === "Some" ? run.value.status : null, status)
        const history = yield* log.runHistory(runId)
        assert.strictEqual(history[history.length - 1]?.to, status)
      }
    }).pipe(Effect.provide(NerveStoreMemory)), checks(1))

  it.effect.prop("random queries return what a filter over the rows returns", [Schema.Array(Row), Schema.Array(Query)], ([rows, queries]) =>
    Effect.gen(function*() {
      const log = yield* LogStore
      const stored = yield* log.appendMany(rows)
      for (const q of queries) {
        const got = (yield* log.query(q)).map((row) => row.id)
        assert.deepStrictEqual(got, modelQuery(stored, q), JSON.stringify(q))
      }
    }).pipe(Effect.provide(NerveStoreMemory)), checks(2))

  it.effect.prop("archive then restore gives back every row with its id, day by day", [Schema.Array(ArchivedRow)], ([rows]) =>
    Effect.gen(function*() {
      const log = yield* LogStore
      const archive = yield* LogArchive
      const stored = yield* log.appendMany(rows.map((r) => ({
        source: "s",
        type: "t",
        payload: r.payload,
        timestamp: BASE + r.day * DAY_MS + r.offset
      })))
      const result = yield* archive.archive({ now: BASE + 40 * DAY_MS })
      assert.strictEqual(result.days.reduce((n, d) => n + d.rowCount, 0), stored.length)
      assert.deepStrictEqual(yield* log.query(), [])
      const archived: Array<LogEntry> = []
      for (const day of yield* archive.days()) {
        archived.push(...(yield* Stream.runCollect(archive.readDay(day.day))))
        yield* archive.restore(day.day)
      }
      const byId = (a: LogEntry, b: LogEntry) => a.id - b.id
      assert.deepStrictEqual([...archived].sort(byId), [...stored].sort(byId))
      assert.deepStrictEqual(yield* log.query({ limit: 100_000 }), [...stored].sort(byId))
    }).pipe(Effect.provide(NerveStoreMemory)), checks(3, 25))

  it.effect.prop("role-round counts and pages match the rule over the rows present through random appends, archives and restores", [Schema.Array(RoundsOp)], ([ops]) =>
    Effect.gen(function*() {
      const log = yield* LogStore
      const archive = yield* LogArchive
      const expectRules = (after: unknown) =>
        Effect.gen(function*() {
          for (const runId of ["a", "b"]) {
            const rows = yield* log.query({ refId: runId, source: "workflow", limit: 100_000 })
            const count = ThreadLog.numberRounds(rows).length
            assert.strictEqual(yield* log.threadRoundCount(runId), count, `${runId} after ${JSON.stringify(after)}`)
            for (const params of [{ before: 0, limit: 1_000 }, { before: 0, limit: 2 }, { before: Math.ceil(count / 2), limit: 3 }]) {
              assert.deepStrictEqual(yield* log.threadRounds(runId, params), ThreadLog.threadRounds(rows, params), `${runId} ${JSON.stringify(params)}`)
            }
          }
        })
      for (const step of ops) {
        if (step.op === "append") {
          yield* log.appendMany(step.rows.map((r) => ({
            source: r.source,
            type: r.type,
            refId: r.run,
            payload: THREAD_PAYLOADS[r.payload] ?? null,
            timestamp: BASE + r.day * DAY_MS + r.offset
          })))
        } else if (step.op === "archive") {
          yield* archive.archive({ now: BASE + 40 * DAY_MS, maxDays: step.maxDays, includeRestored: step.includeRestored })
        } else {
          const days = yield* archive.days()
          const day = days[step.pick % Math.max(1, days.length)]
          if (day !== undefined) yield* archive.restore(day.day)
        }
        yield* expectRules(step)
      }
      // Then every archived day back, newest first (restores fill in below rows already there).
      for (const day of [...(yield* archive.days())].reverse()) {
        yield* archive.restore(day.day)
        yield* expectRules({ restored: day.day })
      }
    }).pipe(Effect.provide(NerveStoreMemory)), checks(5, 25))

  it.effect.prop("any bytes go through the blob store unchanged, named by their sha256", [Schema.Uint8Array], ([bytes]) =>
    Effect.gen(function*() {
      const blobs = yield* BlobStore
      const digest = yield* blobs.write(bytes)
      assert.strictEqual(digest, createHash("sha256").update(bytes).digest("hex"))
      assert.deepStrictEqual(yield* blobs.read(digest), bytes)
      assert.strictEqual(yield* blobs.write(bytes), digest)
    }).pipe(Effect.provide(NerveStoreMemory)), checks(4, 60))
})
