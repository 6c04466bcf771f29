// `follow` on PostgreSQL is pushed by LISTEN/NOTIFY: rows another stack (another pool, as another
// process or machine would be) commits reach a follower whose polling is an hour apart.
import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber, Layer, Stream } from "effect"
import { LogStorePg } from "../../layers/index.ts"
import { LogStore } from "../../src/LogStore.ts"
import * as PgDatabase from "../../src/pg/PgDatabase.ts"
import { freshPgDatabase } from "../support/pgDatabase.ts"

const database = freshPgDatabase()

const stack = () => Layer.build(LogStorePg({ url: database.url(), maxConnections: 2 }))

/** Waits (at most ~30 s, polling the server's view) until `count` sessions are LISTENing. */
const waitForListeners = (count: number) =>
  Effect.scoped(Effect.gen(function*() {
    const { sql } = yield* PgDatabase.make({ url: database.url(), maxConnections: 1 })
    for (let i = 0; i < 3000; i++) {
      const rows = yield* sql<{ n: bigint }>`SELECT count(*) AS n FROM pg_stat_activity
        WHERE datname = current_database() AND query LIKE 'LISTEN%'`
      if (Number(rows[0]!.n) >= count) return
      yield* Effect.sleep("10 millis")
    }
    return yield* Effect.die(`fewer than ${count} sessions LISTEN`)
  })).pipe(Effect.provide(PgDatabase.layerReactivity))

describe("follow on PostgreSQL", () => {
  it.live("rows another stack commits reach a follower at once, not at its next poll", () =>
    Effect.gen(function*() {
      const reader = yield* stack()
      const writer = yield* stack()
      const follower = yield* LogStore.use((log) =>
        Stream.runCollect(Stream.take(log.follow({ source: "remote" }, { pollInterval: "1 hour" }), 3))
      ).pipe(Effect.provide(reader), Effect.forkChild)
      yield* waitForListeners(2)
      yield* LogStore.use((log) =>
        Effect.gen(function*() {
          yield* log.append({ source: "remote", type: "one" })
          yield* log.appendMany([{ source: "other", type: "skip" }, { source: "remote", type: "two" }])
          yield* log.transition({ source: "remote", type: "started" }, { runId: "r1", workflow: "w", status: "started" })
        })
      ).pipe(Effect.provide(writer))
      const rows = yield* Fiber.join(follower)
      assert.deepStrictEqual(rows.map((row) => row.type), ["one", "two", "started"])
    }))

  it.live("after its LISTEN connection is killed, a follower listens again and catches up", () =>
    Effect.gen(function*() {
      const reader = yield* stack()
      const writer = yield* stack()
      const follower = yield* LogStore.use((log) =>
        Stream.runCollect(Stream.take(log.follow({ source: "after-loss" }, { pollInterval: "1 hour" }), 1))
      ).pipe(Effect.provide(reader), Effect.forkChild)
      yield* waitForListeners(2)
      const killed = yield* Effect.scoped(Effect.gen(function*() {
        const { sql } = yield* PgDatabase.make({ url: database.url(), maxConnections: 1 })
        return yield* sql<{ ok: boolean }>`SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity
          WHERE datname = current_database() AND query LIKE 'LISTEN%'`
      })).pipe(Effect.provide(PgDatabase.layerReactivity))
      assert.isAtLeast(killed.length, 1)
      yield* LogStore.use((log) => log.append({ source: "after-loss", type: "x" })).pipe(Effect.provide(writer))
      const rows = yield* Fiber.join(follower)
      assert.deepStrictEqual(rows.map((row) => row.type), ["x"])
    }))
})
