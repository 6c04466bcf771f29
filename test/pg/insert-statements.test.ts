// `insertMany` on PostgreSQL (issue 17 follow-up, group commit throughput): a batch that fits one
// statement is written by that one statement, with no BEGIN/COMMIT around it (two round trips
// fewer per group commit), thread rounds included; it stays all-or-nothing; a batch too large for
// one statement still runs in one transaction.
import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, Layer } from "effect"
import type { NewLogRow } from "../../src/domain/TransitionPlan.ts"
import * as ThreadLog from "../../src/domain/ThreadLog.ts"
import * as LogRepositoryPg from "../../src/pg/LogRepositoryPg.ts"
import { PgDatabase } from "../../src/pg/PgDatabase.ts"
import { freshPgDatabase } from "../support/pgDatabase.ts"
import { emptyPgDatabase } from "../support/pgStore.ts"

const database = freshPgDatabase()
const OP = "test.insertMany"

const row = (i: number, over: Partial<NewLogRow> = {}): NewLogRow => ({
  source: "s",
  type: "t",
  refId: `ref-${i}`,
  payload: "{}",
  timestamp: i,
  ...over
})

const message = (runId: string, i: number): NewLogRow =>
  row(i, {
    source: ThreadLog.WORKFLOW_SOURCE,
    type: ThreadLog.THREAD_MESSAGE_TYPE,
    refId: runId,
    payload: JSON.stringify({ role: "user", content: `m${i}`, timestamp: i })
  })

/** The repository over a database whose `withTransaction` calls are counted. */
const counted = Effect.gen(function*() {
  const db = yield* PgDatabase
  let transactions = 0
  const sql = new Proxy(db.sql, {
    get: (target, property, receiver) =>
      property === "withTransaction"
        ? <A, E, R>(self: Effect.Effect<A, E, R>) => {
          transactions++
          return target.withTransaction(self)
        }
        : Reflect.get(target, property, receiver)
  })
  const repository = yield* LogRepositoryPg.make.pipe(Effect.provideService(PgDatabase, PgDatabase.of({ ...db, sql })))
  return { repository, sql: db.sql, transactions: () => transactions }
})

const run = <A, E>(self: Effect.Effect<A, E, PgDatabase>) => Effect.provide(self, emptyPgDatabase(database).pipe(Layer.fresh))

describe("insertMany on PostgreSQL: one statement per batch", () => {
  it.live("64 rows: one statement, no explicit transaction, ids in order", () =>
    run(Effect.gen(function*() {
      const { repository, transactions } = yield* counted
      const rows = Array.from({ length: 64 }, (_, i) => row(i))
      const written = yield* repository.insertMany(OP, rows)
      assert.strictEqual(transactions(), 0)
      assert.deepStrictEqual(written.map((entry) => entry.refId), rows.map((r) => r.refId))
      for (let i = 1; i < written.length; i++) assert.isTrue(written[i]!.id > written[i - 1]!.id)
      const read = yield* repository.selectLogs(OP, { order: "asc" }, 100)
      assert.deepStrictEqual(read, written)
    })))

  it.live("thread rounds of several runs are counted by the same statement", () =>
    run(Effect.gen(function*() {
      const { repository, transactions } = yield* counted
      yield* repository.insertMany(OP, [message("b", 1), message("a", 2), row(3, { refId: "a" }), message("b", 4), message("b", 5)])
      assert.strictEqual(transactions(), 0)
      assert.strictEqual(yield* repository.roundCount(OP, "a"), 1)
      assert.strictEqual(yield* repository.roundCount(OP, "b"), 3)
      yield* repository.insertMany(OP, [message("a", 6)])
      assert.strictEqual(yield* repository.roundCount(OP, "a"), 2)
    })))

  it.live("a batch whose round count fails writes nothing (the one statement is atomic) and reports the SQLSTATE", () =>
    run(Effect.gen(function*() {
      const { repository, sql, transactions } = yield* counted
      yield* sql.unsafe("INSERT INTO thread_round_counts (ref_id, rounds) VALUES ('full', 9223372036854775807)")
      const exit = yield* Effect.exit(repository.insertMany(OP, [row(1), message("full", 2), row(3)]))
      assert.isTrue(Exit.isFailure(exit))
      const failure = Exit.isFailure(exit) ? exit.cause.reasons[0] : undefined
      const error = failure?._tag === "Fail" ? failure.error : undefined
      assert.strictEqual(error?._tag, "DatabaseError")
      assert.strictEqual(error?.operation, OP)
      assert.strictEqual(error?.sqlState, "22003") // numeric_value_out_of_range
      assert.strictEqual(transactions(), 0)
      assert.deepStrictEqual(yield* repository.selectLogs(OP, {}, 10), [])
    })))

  it.live("rows read back are decoded: a stored row beyond the schema is a CorruptRow naming the table and its id", () =>
    run(Effect.gen(function*() {
      const { repository, sql } = yield* counted
      const [good] = yield* repository.insertMany(OP, [row(1, { refId: "r" })])
      // 2^53 + 2: a BIGINT no JavaScript number holds exactly (it stays a bigint and fails the schema).
      const [bad] = yield* sql<{ readonly id: bigint }>`INSERT INTO logs (source, type, ref_id, payload, timestamp)
        VALUES ('s', 't', 'r', NULL, 9007199254740994) RETURNING id`
      assert.deepStrictEqual(yield* repository.selectLogs(OP, { refId: "r", limit: 1 }, 1), [good!])
      const error = yield* Effect.flip(repository.selectLogs(OP, { refId: "r" }, 10))
      assert.strictEqual(error._tag, "CorruptRow")
      assert.strictEqual(error._tag === "CorruptRow" ? `${error.table} ${error.key}` : "", `logs ${bad!.id}`)
    })))

  it.live("a batch too large for one statement runs in one transaction, in order", () =>
    run(Effect.gen(function*() {
      const { repository, transactions } = yield* counted
      const rows = Array.from({ length: 12_001 }, (_, i) => row(i, { refId: i % 1000 === 0 ? "a" : null }))
      const written = yield* repository.insertMany(OP, rows)
      assert.strictEqual(transactions(), 1)
      assert.strictEqual(written.length, rows.length)
      for (let i = 1; i < written.length; i++) assert.isTrue(written[i]!.id > written[i - 1]!.id)
      const read = yield* repository.selectLogs(OP, { refId: "a", order: "asc" }, 100)
      assert.deepStrictEqual(read.map((entry) => entry.timestamp), Array.from({ length: 13 }, (_, i) => i * 1000))
    })))
})
