// Role rounds are numbered by SQL (src/sqlite/ThreadRoundsSql.ts) and, for backends without
// JSON functions, by the JavaScript rules of src/domain/ThreadLog.ts. These tests hold the two to
// one rule, the SQL to the index migration 6 builds for it, and the stored counts
// (src/sqlite/ThreadRoundCounts.ts, migration 8) to the rows.
import { assert, describe, it } from "@effect/vitest"
import { Arbitrary, Effect, Layer, Schema } from "effect"
import { DatabaseSync } from "node:sqlite"
import { join } from "node:path"
import { DatabaseFile, DatabaseMemory, LogStoreFile } from "../../layers/index.ts"
import * as ThreadLog from "../../src/domain/ThreadLog.ts"
import { LogStore } from "../../src/LogStore.ts"
import * as LogStoreSqlite from "../../src/logstore/LogStoreSqlite.ts"
import * as ThreadRoundCounts from "../../src/sqlite/ThreadRoundCounts.ts"
import * as ThreadRoundsSql from "../../src/sqlite/ThreadRoundsSql.ts"
import { Sqlite } from "../../src/sqlite/Sqlite.ts"
import { RawSql } from "../support/rawSql.ts"
import { createAtSchemaVersion } from "../support/olderSchema.ts"
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
  it.effect("the count reads one stored row, pages read logs through idx_logs_thread_rounds, the batch counts read rows by id", () =>
    Effect.gen(function*() {
      const sql = yield* Sqlite
      const plan = (statement: string, params: ReadonlyArray<string | number>) =>
        Effect.map(sql.all(`EXPLAIN QUERY PLAN ${statement}`, params), (rows) => rows.map((row) => String(row.detail)))
      const stored = ThreadRoundsSql.queries("stored")
      const count = yield* plan(stored.count, ["run"])
      assert.deepStrictEqual(count.filter((detail) => /^(SEARCH|SCAN) /.test(detail)), [
        "SCAN CONSTANT ROW",
        "SEARCH thread_round_counts USING PRIMARY KEY (ref_id=?)"
      ])
      // The count of a file older than the stored counts (opened read-only) walks index entries only.
      const legacy = yield* plan(ThreadRoundsSql.queries("index").count, ["run"])
      assert.isTrue(legacy.some((detail) => /^SEARCH logs USING (COVERING )?INDEX idx_logs_thread_rounds \(ref_id=\? AND <expr>=\?\)$/.test(detail)), legacy.join("; "))
      for (const belowId of [ThreadRoundsSql.NO_ID_BOUND, 1_000]) {
        const page = ThreadRoundsSql.pageQuery(stored, "run", { before: 0, belowId }, 50)
        const details = yield* plan(page.sql, page.params as Array<number | string>)
        const onLogs = details.filter((detail) => /\blogs\b/.test(detail))
        assert.deepStrictEqual(onLogs, ["SEARCH logs USING INDEX idx_logs_thread_rounds (ref_id=? AND <expr>=? AND id<?)"])
        assert.isFalse(details.some((detail) => detail.includes("TEMP B-TREE FOR ORDER BY")), details.join("; "))
      }
    }).pipe(Effect.provide(stack())))

  it.effect("rows another program writes leave the stored count behind; mismatches finds the run and rebuild recounts it", () =>
    Effect.gen(function*() {
      const log = yield* LogStore
      const sql = yield* Sqlite
      const message = (content: string) => JSON.stringify({ role: "user", content })
      yield* log.appendMany(["a", "b", "c"].map((content) => ({ source: "workflow", type: ThreadLog.THREAD_MESSAGE_TYPE, refId: "run", payload: message(content) })))
      assert.deepStrictEqual(yield* ThreadRoundCounts.mismatches(sql), [])
      // A nerve-store 0.5 process (or the sqlite3 shell) writes with plain SQL and keeps no counts.
      yield* sql.run("INSERT INTO logs (source, type, ref_id, payload, timestamp) VALUES ('workflow', ?, 'run', ?, 5)", [ThreadLog.THREAD_EVENT_TYPE, JSON.stringify({ type: "tool" })])
      yield* sql.run("INSERT INTO logs (source, type, ref_id, payload, timestamp) VALUES ('workflow', ?, 'new', ?, 6)", [ThreadLog.THREAD_MESSAGE_TYPE, message("d")])
      yield* sql.run("INSERT INTO logs (source, type, ref_id, payload, timestamp) VALUES ('workflow', ?, 'run', 'oops', 6)", [ThreadLog.THREAD_MESSAGE_TYPE])
      assert.deepStrictEqual([yield* log.threadRoundCount("run"), yield* log.threadRoundCount("new")], [3, 0])
      // A page never numbers below round 1, however far behind the count is.
      assert.deepStrictEqual((yield* log.threadRounds("new")).map((r) => r.round), [])
      assert.deepStrictEqual(yield* ThreadRoundCounts.mismatches(sql), [{ runId: "new", stored: 0, actual: 1 }, { runId: "run", stored: 3, actual: 4 }])
      assert.deepStrictEqual(yield* ThreadRoundCounts.mismatches(sql, 1), [{ runId: "new", stored: 0, actual: 1 }])
      assert.strictEqual(yield* ThreadRoundCounts.rebuild(sql), 2)
      assert.deepStrictEqual(yield* ThreadRoundCounts.mismatches(sql), [])
      assert.strictEqual(yield* ThreadRoundCounts.rebuild(sql), 0)
      const rows = yield* log.query({ refId: "run" })
      assert.strictEqual(yield* log.threadRoundCount("run"), 4)
      assert.deepStrictEqual(yield* log.threadRounds("run", { before: 0, limit: 10 }), ThreadLog.threadRounds(rows, { before: 0, limit: 10 }))
      // Deleting rows behind the store's back: a stored count above its rows is found the same way.
      yield* sql.run("DELETE FROM logs")
      assert.deepStrictEqual(yield* ThreadRoundCounts.mismatches(sql), [{ runId: "new", stored: 1, actual: 0 }, { runId: "run", stored: 4, actual: 0 }])
      assert.strictEqual(yield* ThreadRoundCounts.rebuild(sql), 2)
      assert.deepStrictEqual([yield* log.threadRoundCount("run"), yield* log.threadRounds("run")], [0, []])
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

  it.effect("upgrading a file of schema version 6 counts the rounds its rows already hold", () =>
    Effect.gen(function*() {
      const filename = join(makeTempDir(), "v6.db")
      // Schema 6 exactly as its migrations made it, then rows written by a 0.7 build of that schema.
      yield* createAtSchemaVersion(filename, 6)
      const db = new DatabaseSync(filename)
      const insert = db.prepare("INSERT INTO logs (source, type, ref_id, payload, timestamp) VALUES (?, ?, ?, ?, 1)")
      const rows: Array<[string, string, string | null, string | null]> = [
        ["workflow", ThreadLog.THREAD_MESSAGE_TYPE, "a", JSON.stringify({ role: "user", content: "1" })],
        ["workflow", ThreadLog.THREAD_EVENT_TYPE, "a", JSON.stringify({ type: "thread_start" })],
        ["workflow", ThreadLog.THREAD_EVENT_TYPE, "a", JSON.stringify({ type: "tool" })],
        ["workflow", ThreadLog.THREAD_MESSAGE_TYPE, "a", "{bad"],
        ["workflow", ThreadLog.THREAD_MESSAGE_TYPE, "b", JSON.stringify({ role: "__start__", content: "x" })],
        ["workflow", ThreadLog.THREAD_MESSAGE_TYPE, null, JSON.stringify({ role: "user", content: "no run" })],
        ["daemon", ThreadLog.THREAD_MESSAGE_TYPE, "c", JSON.stringify({ role: "user", content: "other source" })],
        ["workflow", "started", "c", JSON.stringify({ prompt: "p", maxRounds: 1 })]
      ]
      for (const row of rows) insert.run(...row)
      db.close()
      const counts = yield* Effect.gen(function*() {
        const log = yield* LogStore
        const sql = yield* Sqlite
        assert.deepStrictEqual(yield* ThreadRoundCounts.mismatches(sql), [])
        return [yield* log.threadRoundCount("a"), yield* log.threadRoundCount("b"), yield* log.threadRoundCount("c")]
      }).pipe(Effect.provide(Layer.mergeAll(LogStoreSqlite.layer, RawSql).pipe(Layer.provideMerge(DatabaseFile({ filename })))))
      assert.deepStrictEqual(counts, [2, 0, 0])
      const upgraded = new DatabaseSync(filename)
      assert.deepStrictEqual(upgraded.prepare("SELECT ref_id, rounds FROM thread_round_counts ORDER BY ref_id").all().map((r) => ({ ...r })), [{ ref_id: "a", rounds: 2 }])
      upgraded.close()
    }))

  it.effect("a file of schema version 6 opened read-only (never migrated) counts and pages its rounds from the index", () =>
    Effect.gen(function*() {
      const filename = join(makeTempDir(), "v6-readonly.db")
      yield* createAtSchemaVersion(filename, 6, (sql) =>
        Effect.forEach(["a", "b", "c"], (content) =>
          sql.run("INSERT INTO logs (source, type, ref_id, payload, timestamp) VALUES ('workflow', ?, 'run', ?, 1)", [
            ThreadLog.THREAD_MESSAGE_TYPE,
            JSON.stringify({ role: "user", content })
          ])))
      const [count, rounds] = yield* LogStore.use((log) => Effect.all([log.threadRoundCount("run"), log.threadRounds("run", { before: 3, limit: 5 })])).pipe(
        Effect.provide(LogStoreSqlite.layer.pipe(Layer.provideMerge(DatabaseFile({ filename, readonly: true }))))
      )
      assert.deepStrictEqual([count, rounds.map((r) => [r.round, r.message.content])], [3, [[2, "b"], [1, "a"]]])
    }))
})
