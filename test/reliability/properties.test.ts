// Property tests against models, on the in-memory stack (the same SQLite code as the live one),
// with fixed seeds so a failure replays: random transition sequences against a model of the state
// machine, random queries against a filtered array, random archive/restore round trips, and random
// bytes through the blob store.
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

  it.effect.prop("any bytes go through the blob store unchanged, named by their sha256", [Schema.Uint8Array], ([bytes]) =>
    Effect.gen(function*() {
      const blobs = yield* BlobStore
      const digest = yield* blobs.write(bytes)
      assert.strictEqual(digest, createHash("sha256").update(bytes).digest("hex"))
      assert.deepStrictEqual(yield* blobs.read(digest), bytes)
      assert.strictEqual(yield* blobs.write(bytes), digest)
    }).pipe(Effect.provide(NerveStoreMemory)), checks(4, 60))
})
