import { assert, describe, it } from "@effect/vitest"
import { Deferred, Effect, Fiber } from "effect"
import { DatabaseSync } from "node:sqlite"
import { join } from "node:path"
import { make, Sqlite } from "../../src/sqlite/Sqlite.ts"
import { makeTempDir } from "../support/tempDir.ts"

const withTable = Effect.gen(function*() {
  const sql = yield* Sqlite
  yield* sql.exec("CREATE TABLE t (x INTEGER)")
  return sql
})
const count = (sql: Sqlite["Service"]) => Effect.map(sql.get("SELECT count(*) AS n FROM t"), (row) => Number(row?.n))

describe("Sqlite", () => {
  it.effect("values reads rows as arrays in select-list order, beside object rows of the same statement", () =>
    Effect.gen(function*() {
      const sql = yield* withTable
      yield* sql.run("INSERT INTO t VALUES (1), (2)")
      const query = "SELECT x, x * 10 AS y FROM t ORDER BY x"
      const arrays = yield* sql.sync("test", (connection) => connection.values(query))
      assert.deepStrictEqual(arrays, [[1, 10], [2, 20]])
      assert.deepStrictEqual(yield* sql.all(query), [{ x: 1, y: 10 }, { x: 2, y: 20 }], "the object statement is a separate one")
    }).pipe(Effect.provide(Sqlite.layer({ filename: ":memory:" }))))

  it.effect("a transaction that fails rolls back and reports the failure", () =>
    Effect.gen(function*() {
      const sql = yield* withTable
      const error = yield* Effect.flip(sql.transaction(Effect.andThen(sql.run("INSERT INTO t VALUES (1)"), Effect.fail("boom" as const))))
      assert.strictEqual(error, "boom")
      assert.strictEqual(yield* count(sql), 0)
    }).pipe(Effect.provide(Sqlite.layer({ filename: ":memory:" }))))

  it.effect("a transaction interrupted in the middle rolls back", () =>
    Effect.gen(function*() {
      const sql = yield* withTable
      const inside = yield* Deferred.make<void>()
      const fiber = yield* Effect.forkChild(sql.transaction(Effect.gen(function*() {
        yield* sql.run("INSERT INTO t VALUES (1)")
        yield* Deferred.succeed(inside, undefined)
        yield* Effect.never
      })))
      yield* Deferred.await(inside)
      yield* Fiber.interrupt(fiber)
      assert.strictEqual(yield* count(sql), 0)
      yield* sql.transaction(sql.run("INSERT INTO t VALUES (2)"))
      assert.strictEqual(yield* count(sql), 1)
    }).pipe(Effect.provide(Sqlite.layer({ filename: ":memory:" }))))

  it.effect("a transaction commits and nested transactions join it", () =>
    Effect.gen(function*() {
      const sql = yield* withTable
      yield* sql.transaction(Effect.gen(function*() {
        yield* sql.run("INSERT INTO t VALUES (1)")
        yield* sql.transaction(sql.run("INSERT INTO t VALUES (2)"))
        assert.isTrue(yield* sql.inTransaction)
      }))
      assert.isFalse(yield* sql.inTransaction)
      assert.strictEqual(yield* count(sql), 2)
    }).pipe(Effect.provide(Sqlite.layer({ filename: ":memory:" }))))

  it.effect("another fiber's statement waits for an open transaction instead of running inside it", () =>
    Effect.gen(function*() {
      const sql = yield* withTable
      const inside = yield* Deferred.make<void>()
      const release = yield* Deferred.make<void>()
      const writer = yield* Effect.forkChild(sql.transaction(Effect.gen(function*() {
        yield* sql.run("INSERT INTO t VALUES (1)")
        yield* Deferred.succeed(inside, undefined)
        yield* Deferred.await(release)
        return yield* Effect.fail("roll back" as const)
      })))
      yield* Deferred.await(inside)
      // Had it not waited, this row would be part of the writer's transaction and roll back with it.
      const other = yield* Effect.forkChild(Effect.andThen(sql.run("INSERT INTO t VALUES (2)"), count(sql)))
      for (let i = 0; i < 20; i++) yield* Effect.yieldNow
      assert.isUndefined(other.pollUnsafe(), "the other fiber is still waiting while the transaction is open")
      yield* Deferred.succeed(release, undefined)
      assert.strictEqual(yield* Effect.flip(Fiber.join(writer)), "roll back")
      assert.strictEqual(yield* Fiber.join(other), 1, "its row was committed on its own, after the rollback")
      assert.deepStrictEqual(yield* sql.all("SELECT x FROM t"), [{ x: 2 }])
    }).pipe(Effect.provide(Sqlite.layer({ filename: ":memory:" }))))

  it.effect("syncTransaction rolls back when its body throws", () =>
    Effect.gen(function*() {
      const sql = yield* withTable
      const error = yield* Effect.flip(sql.syncTransaction("test", (c) => {
        c.run("INSERT INTO t VALUES (1)")
        c.run("INSERT INTO nope VALUES (1)")
      }))
      assert.strictEqual(error.operation, "test")
      assert.strictEqual(yield* count(sql), 0)
    }).pipe(Effect.provide(Sqlite.layer({ filename: ":memory:" }))))

  it.live("a write lock held by another connection past the busy timeout is a 'busy' DatabaseError", () =>
    Effect.gen(function*() {
      const filename = join(makeTempDir(), "busy.db")
      const other = new DatabaseSync(filename)
      other.exec("PRAGMA journal_mode = WAL; CREATE TABLE t (x INTEGER); BEGIN IMMEDIATE; INSERT INTO t VALUES (1)")
      const error = yield* Effect.scoped(Effect.gen(function*() {
        const sql = yield* make({ filename, busyTimeoutMs: 50 })
        return yield* Effect.flip(sql.transaction(sql.run("INSERT INTO t VALUES (2)")))
      }))
      other.exec("ROLLBACK")
      other.close()
      assert.strictEqual(error._tag, "DatabaseError")
      assert.strictEqual(error.reason, "busy")
      assert.strictEqual(error.code, 5)
    }))

  it.effect("constraint violations and missing tables are classified", () =>
    Effect.gen(function*() {
      const sql = yield* Sqlite
      yield* sql.exec("CREATE TABLE u (k TEXT PRIMARY KEY)")
      yield* sql.run("INSERT INTO u VALUES ('a')")
      const duplicate = yield* Effect.flip(sql.run("INSERT INTO u VALUES ('a')"))
      assert.strictEqual(duplicate.reason, "constraint")
      const missing = yield* Effect.flip(sql.all("SELECT * FROM nope"))
      assert.strictEqual(missing.reason, "other")
    }).pipe(Effect.provide(Sqlite.layer({ filename: ":memory:" }))))

  it.effect("a file that is not a database fails to open as 'corrupt'", () =>
    Effect.gen(function*() {
      const filename = join(makeTempDir(), "garbage.db")
      const { writeFileSync } = yield* Effect.promise(() => import("node:fs"))
      writeFileSync(filename, "this is not a database, it is a text file of some length".repeat(100))
      const error = yield* Effect.flip(Effect.scoped(make({ filename })))
      assert.strictEqual(error.reason, "corrupt")
    }))

  it.effect("the connection is closed when its scope ends", () =>
    Effect.gen(function*() {
      const filename = join(makeTempDir(), "close.db")
      const sql = yield* Effect.scoped(Effect.tap(make({ filename }), (sql) => sql.exec("CREATE TABLE t (x)")))
      const error = yield* Effect.flip(sql.all("SELECT * FROM t"))
      assert.match(error.detail, /not open/)
    }))
})
