// Role rounds are numbered by SQL (src/logstore/ThreadRoundsSql.ts) and, for backends without
// JSON functions, by the JavaScript rules of src/domain/ThreadLog.ts. These tests hold the two to
// one rule, and the SQL to the index migration 6 builds for it.
import { assert, describe, it } from "@effect/vitest"
import { Arbitrary, Effect, Layer, Schema } from "effect"
import { DatabaseSync } from "node:sqlite"
import { join } from "node:path"
import { DatabaseMemory, LogStoreFile } from "../../layers/index.ts"
import * as ThreadLog from "../../src/domain/ThreadLog.ts"
import { LogStore } from "../../src/LogStore.ts"
import * as LogStoreSqlite from "../../src/logstore/LogStoreSqlite.ts"
import * as ThreadRoundsSql from "../../src/logstore/ThreadRoundsSql.ts"
import { Sqlite } from "../../src/sqlite/Sqlite.ts"
import { RawSql } from "../support/rawSql.ts"
import { makeTempDir } from "../support/tempDir.ts"

const stack = () => Layer.mergeAll(LogStoreSqlite.layer, RawSql).pipe(Layer.provideMerge(DatabaseMemory))

/** Payloads around the rule's edges: markers, arrays, scalars, bad JSON, odd types, plus arbitrary JSON. */
const edgePayloads: ReadonlyArray<string | null> = [
  null,
  "",
  "{not json",
  "[1, 2",
  "123",
  "\"text\"",
  "null",
  "true",
  "[]",
  "{}",
  " {\"role\": \"user\", \"content\": \"padded\"} ",
  JSON.stringify({ type: "thread_start" }),
  JSON.stringify({ role: "__start__", content: "x" }),
  JSON.stringify({ type: "thread_start", role: "user", content: "x" }),
  JSON.stringify({ type: ["thread_start"] }),
  JSON.stringify({ role: { name: "__start__" } }),
  JSON.stringify([{ type: "thread_start" }]),
  JSON.stringify({ role: "user", content: 1 }),
  JSON.stringify({ role: 1, content: "x", type: "tool" }),
  JSON.stringify({ type: 7 }),
  JSON.stringify({ type: "tool", content: "ran" }),
  JSON.stringify({ role: "assistant", content: "bye", meta: { model: "m" }, timestamp: 5 }),
  JSON.stringify({ role: "user", content: "hi", timestamp: "late" })
]

/** Arbitrary thread payloads: edge cases and arbitrary JSON values. */
const payloads = Arbitrary.array(
  Arbitrary.map(
    Arbitrary.all({ pick: Arbitrary.schema(Schema.Int.pipe(Schema.check(Schema.isBetween({ minimum: 0, maximum: 40 })))), json: Arbitrary.schema(Schema.Unknown) }),
    ({ json, pick }) => (pick < edgePayloads.length ? edgePayloads[pick]! : JSON.stringify(json) ?? null)
  ),
  { maxLength: 40 }
)

describe("thread rounds in SQL", () => {
  it.effect("the count and page queries read logs through idx_logs_thread_rounds", () =>
    Effect.gen(function*() {
      const sql = yield* Sqlite
      const detailsOf = (rows: ReadonlyArray<Record<string, unknown>>) => rows.map((row) => String(row.detail))
      const count = detailsOf(yield* sql.all(`EXPLAIN QUERY PLAN ${ThreadRoundsSql.COUNT_SQL}`, ["run"]))
      assert.strictEqual(count.length, 1)
      assert.match(count[0]!, /^SEARCH logs USING (COVERING )?INDEX idx_logs_thread_rounds \(ref_id=\? AND <expr>=\?\)$/)
      const page = detailsOf(yield* sql.all(`EXPLAIN QUERY PLAN ${ThreadRoundsSql.pageQuery("run", 0, 50).sql}`, ["run", 50, 0]))
      const onLogs = page.filter((detail) => /\blogs\b/.test(detail))
      assert.isNotEmpty(onLogs)
      for (const detail of onLogs) assert.include(detail, "idx_logs_thread_rounds", detail)
    }).pipe(Effect.provide(stack())))

  it.effect("counts stay exact when another writer inserts rows and the archive deletes them", () =>
    Effect.gen(function*() {
      const log = yield* LogStore
      const sql = yield* Sqlite
      const message = (content: string) => JSON.stringify({ role: "user", content })
      yield* log.appendMany(["a", "b", "c"].map((content) => ({ source: "workflow", type: ThreadLog.THREAD_MESSAGE_TYPE, refId: "run", payload: message(content) })))
      // A nerve-store 0.5 process writes with plain SQL; the archive deletes old rows the same way.
      yield* sql.run("INSERT INTO logs (source, type, ref_id, payload, timestamp) VALUES ('workflow', ?, 'run', ?, 5)", [ThreadLog.THREAD_EVENT_TYPE, JSON.stringify({ type: "tool" })])
      yield* sql.run("INSERT INTO logs (source, type, ref_id, payload, timestamp) VALUES ('workflow', ?, 'run', 'oops', 6)", [ThreadLog.THREAD_MESSAGE_TYPE])
      assert.strictEqual(yield* log.threadRoundCount("run"), 4)
      const first = yield* sql.get("SELECT min(id) AS id FROM logs")
      yield* sql.run("DELETE FROM logs WHERE id = ?", [Number(first?.id)])
      assert.strictEqual(yield* log.threadRoundCount("run"), 3)
      const rows = yield* log.query({ refId: "run" })
      assert.deepStrictEqual(yield* log.threadRounds("run", { before: 0, limit: 10 }), ThreadLog.threadRounds(rows, { before: 0, limit: 10 }))
      yield* sql.run("DELETE FROM logs")
      assert.strictEqual(yield* log.threadRoundCount("run"), 0)
      assert.deepStrictEqual(yield* log.threadRounds("run", { before: 0, limit: 10 }), [])
    }).pipe(Effect.provide(stack())))

  it.effect.prop("SQL numbers, counts and pages rounds exactly as the JavaScript rules do", { rows: payloads }, ({ rows }) =>
    Effect.gen(function*() {
      const log = yield* LogStore
      const types = [ThreadLog.THREAD_MESSAGE_TYPE, ThreadLog.THREAD_EVENT_TYPE]
      const stored = yield* log.appendMany(rows.map((payload, i) => ({
        source: "workflow",
        type: types[i % 2]!,
        refId: "run",
        payload,
        timestamp: 1_000 + i
      })))
      const expectedCount = ThreadLog.numberRounds(stored).length
      assert.strictEqual(yield* log.threadRoundCount("run"), expectedCount)
      for (const params of [{ before: 0, limit: 1_000 }, { before: 0, limit: 3 }, { before: Math.ceil(expectedCount / 2), limit: 2 }, { before: 1, limit: 5 }]) {
        assert.deepStrictEqual(yield* log.threadRounds("run", params), ThreadLog.threadRounds(stored, params), JSON.stringify(params))
      }
    }).pipe(Effect.provide(stack())), { arbitrary: { seed: 20261127, runs: 60 } })

  it.effect("a page fills up across rounds that yield no row, and before counts from the newest round", () =>
    Effect.gen(function*() {
      const log = yield* LogStore
      const message = (content: string) => ({ source: "workflow", type: ThreadLog.THREAD_MESSAGE_TYPE, refId: "run", payload: JSON.stringify({ role: "user", content }) })
      const bare = { source: "workflow", type: ThreadLog.THREAD_MESSAGE_TYPE, refId: "run", payload: "42" }
      // rounds 1-2 messages, 3-12 bare numbers (no row), 13-14 messages
      yield* log.appendMany([message("a"), message("b"), ...Array.from({ length: 10 }, () => bare), message("c"), message("d")])
      const page = (before: number, limit: number) => Effect.map(log.threadRounds("run", { before, limit }), (rows) => rows.map((r) => [r.round, r.message.content]))
      assert.deepStrictEqual(yield* page(0, 3), [[14, "d"], [13, "c"], [2, "b"]])
      assert.deepStrictEqual(yield* page(13, 1), [[2, "b"]])
      assert.deepStrictEqual(yield* page(99, 10), [[14, "d"], [13, "c"], [2, "b"], [1, "a"]])
      assert.strictEqual(yield* log.threadRoundCount("run"), 14)
    }).pipe(Effect.provide(stack())))

  it.effect("upgrading a file that already holds thread rows counts its rounds", () =>
    Effect.gen(function*() {
      const filename = join(makeTempDir(), "old.db")
      const db = new DatabaseSync(filename)
      db.exec(`CREATE TABLE logs (id INTEGER PRIMARY KEY AUTOINCREMENT, source TEXT NOT NULL, type TEXT NOT NULL,
        ref_id TEXT, payload TEXT, timestamp INTEGER NOT NULL)`)
      const insert = db.prepare("INSERT INTO logs (source, type, ref_id, payload, timestamp) VALUES ('workflow', ?, ?, ?, 1)")
      insert.run(ThreadLog.THREAD_EVENT_TYPE, "old", JSON.stringify({ type: "thread_start" }))
      for (const content of ["a", "b"]) insert.run(ThreadLog.THREAD_MESSAGE_TYPE, "old", JSON.stringify({ role: "user", content }))
      insert.run(ThreadLog.THREAD_MESSAGE_TYPE, "other", "[1]")
      db.close()
      const [old, other, rounds] = yield* LogStore.use((log) =>
        Effect.all([log.threadRoundCount("old"), log.threadRoundCount("other"), log.threadRounds("old", { before: 0, limit: 5 })])
      ).pipe(Effect.provide(LogStoreFile({ filename })))
      assert.deepStrictEqual([old, other, rounds.map((r) => [r.round, r.message.content])], [2, 1, [[2, "b"], [1, "a"]]])
    }))
})
