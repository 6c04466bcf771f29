import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber, Ref } from "effect"
import * as Reactivity from "effect/reactivity/Reactivity"
import { DatabaseError } from "../../schema/Errors.ts"
import * as PgDatabase from "../../src/pg/PgDatabase.ts"
import { mapSqlError, retryConflicts } from "../../src/pg/PgError.ts"
import { freshPgDatabase } from "../support/pgDatabase.ts"

const database = freshPgDatabase()

/** A statement that fails with the given SQLSTATE. */
const raise = (sqlState: string) => `DO $$ BEGIN RAISE EXCEPTION 'raised on purpose' USING ERRCODE = '${sqlState}'; END $$`

describe("PostgreSQL errors", () => {
  it.effect("a failure carries its SQLSTATE and a reason: conflict and connection are retryable, a constraint is not", () =>
    Effect.gen(function*() {
      const { sql } = yield* PgDatabase.make({ url: database.url(), maxConnections: 1 })
      const failWith = (sqlState: string) => sql.unsafe(raise(sqlState)).pipe(mapSqlError("test.raise"), Effect.flip)
      const cases = [
        ["40001", "conflict", true],
        ["40P01", "conflict", true],
        ["57P01", "connection", true],
        ["08006", "connection", true],
        ["23505", "constraint", false],
        ["53100", "full", false],
        ["22012", "other", false]
      ] as const
      for (const [sqlState, reason, retryable] of cases) {
        const error = yield* failWith(sqlState)
        assert.instanceOf(error, DatabaseError)
        assert.strictEqual(error.sqlState, sqlState)
        assert.strictEqual(error.reason, reason, sqlState)
        assert.strictEqual(error.isRetryable, retryable, sqlState)
        assert.strictEqual(error.operation, "test.raise")
        assert.include(error.message, `SQLSTATE ${sqlState}`)
      }
    }).pipe(Effect.provide(Reactivity.layer)))

  // it.live: the retries pause on the real clock.
  it.live("a transaction that hits a serialization failure is run again inside, and then succeeds", () =>
    Effect.gen(function*() {
      const { sql } = yield* PgDatabase.make({ url: database.url(), maxConnections: 1 })
      const attempts = yield* Ref.make(0)
      const transaction = sql.withTransaction(Effect.gen(function*() {
        const attempt = yield* Ref.updateAndGet(attempts, (n) => n + 1)
        if (attempt < 3) yield* sql.unsafe(raise("40001"))
        return attempt
      })).pipe(mapSqlError("test.transaction"), retryConflicts())
      assert.strictEqual(yield* transaction, 3)
    }).pipe(Effect.provide(Reactivity.layer)))

  it.live("a real deadlock between two transactions is retried inside: both commit", () =>
    Effect.gen(function*() {
      const { sql } = yield* PgDatabase.make({ url: database.url(), maxConnections: 4 })
      yield* sql`CREATE TABLE deadlock_test (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)`
      yield* sql`INSERT INTO deadlock_test VALUES (1, 0), (2, 0)`
      // Each locks one row, waits until the other holds its row, then asks for the other's row.
      const both = yield* Effect.all([Ref.make(0), Ref.make(0)])
      const holding = yield* Ref.make(0)
      const lockBoth = (first: number, second: number) =>
        sql.withTransaction(Effect.gen(function*() {
          yield* sql`UPDATE deadlock_test SET n = n + 1 WHERE id = ${first}`
          yield* Ref.update(holding, (n) => n + 1)
          yield* Ref.update(both[first - 1]!, (n) => n + 1)
          // Wait (at most ~10 s) for the other to hold its row; a retry finds it already done.
          for (let i = 0; i < 1000 && (yield* Ref.get(holding)) < 2; i++) yield* Effect.sleep("10 millis")
          yield* sql`UPDATE deadlock_test SET n = n + 1 WHERE id = ${second}`
        })).pipe(mapSqlError("test.deadlock"), retryConflicts())
      yield* Effect.all([lockBoth(1, 2), lockBoth(2, 1)], { concurrency: 2 })
      const rows = yield* sql<{ id: number; n: number }>`SELECT id, n FROM deadlock_test ORDER BY id`
      assert.deepStrictEqual(rows.map((row) => row.n), [2, 2])
      // One of them ran twice: the server chose it as the deadlock victim.
      assert.strictEqual((yield* Ref.get(both[0]!)) + (yield* Ref.get(both[1]!)), 3)
    }).pipe(Effect.provide(Reactivity.layer)))

  it.live("a statement whose connection the server terminates fails retryable, and the pool reconnects", () =>
    Effect.gen(function*() {
      const { sql } = yield* PgDatabase.make({ url: database.url(), maxConnections: 1 })
      const other = yield* PgDatabase.make({ url: database.url(), maxConnections: 1 })
      const sleeping = yield* sql`SELECT pg_sleep(60)`.pipe(mapSqlError("test.sleep"), Effect.flip, Effect.forkChild)
      const sleeper = () =>
        other.sql<{ pid: number }>`SELECT pid FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(60)' AND state = 'active'`
      let pids = yield* sleeper()
      for (let i = 0; i < 1000 && pids.length === 0; i++) pids = yield* Effect.andThen(Effect.sleep("10 millis"), sleeper())
      assert.strictEqual(pids.length, 1)
      yield* other.sql`SELECT pg_terminate_backend(${pids[0]!.pid})`
      const error = yield* Fiber.join(sleeping)
      assert.instanceOf(error, DatabaseError)
      assert.isTrue(error.isRetryable, `${error.reason} ${error.sqlState}`)
      const again = yield* sql<{ one: number }>`SELECT 1 AS one`.pipe(Effect.retry({ times: 20, while: (e) => e.isRetryable }))
      assert.deepStrictEqual(again, [{ one: 1 }])
    }).pipe(Effect.provide(Reactivity.layer)))
})
