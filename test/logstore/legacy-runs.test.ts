// Run listings over legacy rows that do not decode (a 0.5 status this version does not know):
// they are left out, and never end a stream early.
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, Logger, Stream } from "effect"
import { DatabaseMemory } from "../../layers/index.ts"
import { LogStore } from "../../src/LogStore.ts"
import * as LogStoreSqlite from "../../src/logstore/LogStoreSqlite.ts"
import { Sqlite } from "../../src/sqlite/Sqlite.ts"
import { RawSql } from "../support/rawSql.ts"

const stack = () => Layer.mergeAll(LogStoreSqlite.layer, RawSql).pipe(Layer.provideMerge(DatabaseMemory))

describe("run listings over legacy rows", () => {
  it.effect("streamRuns goes on past a whole page of rows that do not decode", () =>
    Effect.gen(function*() {
      const sql = yield* Sqlite
      const log = yield* LogStore
      yield* log.transition({ source: "workflow", type: "started", timestamp: 1 }, { runId: "old", workflow: "w", status: "started" })
      // 1,500 newer legacy runs with a status this version does not know: more than a page.
      yield* sql.transaction(Effect.forEach(Array.from({ length: 1_500 }, (_, i) => i), (i) =>
        sql.run("INSERT INTO workflow_runs (run_id, workflow, status, timestamp) VALUES (?, 'w', 'paused', ?)", [`legacy-${i}`, 100 + i]), { discard: true }))
      yield* log.transition({ source: "workflow", type: "started", timestamp: 10_000 }, { runId: "new", workflow: "w", status: "started" })
      const listed = yield* Stream.runCollect(log.streamRuns())
      assert.deepStrictEqual(listed.map((r) => r.runId), ["new", "old"])
      assert.deepStrictEqual((yield* log.activeRuns()).map((r) => r.runId), ["old", "new"])
    }).pipe(Effect.provide(stack()), Effect.provide(Logger.layer([])))) // one warning per skipped row
})
