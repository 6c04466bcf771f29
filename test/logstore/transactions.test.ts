import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber, Layer, Option, Stream } from "effect"
import { LogStore } from "../../src/LogStore.ts"
import * as LogStoreSqlite from "../../src/logstore/LogStoreSqlite.ts"
import { Sqlite } from "../../src/sqlite/Sqlite.ts"
import { DatabaseMemory } from "../../layers/index.ts"
import { RawSql } from "../support/rawSql.ts"

// LogStore and the connection under it, so a test can open a transaction around LogStore calls.
const stack = () => Layer.mergeAll(LogStoreSqlite.layer, RawSql).pipe(Layer.provideMerge(DatabaseMemory))
const count = LogStore.use((log) => Stream.runCount(log.stream()))

describe("LogStore inside a Sqlite transaction", () => {
  it.effect("appends and transitions commit together with the caller's transaction", () =>
    Effect.gen(function*() {
      const sql = yield* Sqlite
      const log = yield* LogStore
      yield* sql.transaction(Effect.gen(function*() {
        yield* log.append({ source: "s", type: "t" })
        yield* log.transition({ source: "workflow", type: "started" }, { runId: "r", workflow: "w", status: "started" })
      }))
      assert.strictEqual(yield* count, 2)
      assert.isTrue(Option.isSome(yield* log.getRun("r")))
    }).pipe(Effect.provide(stack())))

  it.effect("they roll back with it, and a concurrent appender's row is not dragged along", () =>
    Effect.gen(function*() {
      const sql = yield* Sqlite
      const log = yield* LogStore
      // Forked first, so it runs as soon as the transaction's fiber yields: a shared group commit
      // would put its row into the transaction below and roll it back after reporting success.
      const outside = yield* Effect.forkChild(log.append({ source: "outside", type: "t" }))
      const error = yield* Effect.flip(sql.transaction(Effect.gen(function*() {
        yield* log.append({ source: "inside", type: "t" })
        yield* log.transition({ source: "workflow", type: "started" }, { runId: "r", workflow: "w", status: "started" })
        return yield* Effect.fail("abort" as const)
      })))
      assert.strictEqual(error, "abort")
      assert.strictEqual((yield* Fiber.join(outside)).source, "outside")
      const rows = yield* Stream.runCollect(log.stream())
      assert.deepStrictEqual(rows.map((r) => r.source), ["outside"])
      assert.isTrue(Option.isNone(yield* log.getRun("r")))
    }).pipe(Effect.provide(stack())))
})
