import { assert, describe, it } from "@effect/vitest"
import { Effect, Option } from "effect"
import { DatabaseSync } from "node:sqlite"
import { join } from "node:path"
import { LogStoreFile } from "../../layers/index.ts"
import { LogStore } from "../../src/LogStore.ts"
import { LATEST_SCHEMA_VERSION } from "../../src/sqlite/Migrations.ts"
import { create05Database } from "../fixtures/sqlite-legacy05.ts"
import { createAtSchemaVersion } from "../support/olderSchema.ts"
import { makeTempDir } from "../support/tempDir.ts"

const inspect = (filename: string) => {
  const db = new DatabaseSync(filename)
  const version = Number(db.prepare("PRAGMA user_version").get()?.user_version)
  const schema = db.prepare("SELECT type, name, sql FROM sqlite_master ORDER BY name").all()
  const logIndexes = db.prepare("PRAGMA index_list(logs)").all().filter((index) => index.name !== "idx_logs_thread_rounds").length
  const journal = String(db.prepare("PRAGMA journal_mode").get()?.journal_mode)
  const hasCounts = db.prepare("SELECT 1 FROM sqlite_master WHERE name = 'thread_round_counts'").get() !== undefined
  const roundCounts = hasCounts ? db.prepare("SELECT ref_id, rounds FROM thread_round_counts ORDER BY ref_id").all().map((row) => ({ ...row })) : null
  db.close()
  return { version, schema, logIndexes, journal, roundCounts }
}

describe("nerve-store 0.5 databases", () => {
  for (const withExitCode of [true, false]) {
    it.effect(`open, upgrade in place and lose nothing (${withExitCode ? "with" : "without"} exit_code)`, () =>
      Effect.gen(function*() {
        const filename = join(makeTempDir(), "nerve.db")
        const legacyRows = create05Database(filename, withExitCode)
        const layer = () => LogStoreFile({ filename })

        yield* Effect.gen(function*() {
          const log = yield* LogStore
          const rows = yield* log.query()
          assert.deepStrictEqual(
            rows.map((r) => ({ id: r.id, source: r.source, type: r.type, ref_id: r.refId, payload: r.payload, timestamp: r.timestamp })),
            legacyRows.map((r) => ({ ...r }))
          )
          assert.deepStrictEqual(yield* log.getMeta("archived_up_to"), Option.some("2020-09-01"))
          const bad = yield* Effect.flip(log.getRun("bad"))
          assert.deepStrictEqual(bad._tag === "CorruptRow" ? [bad.table, bad.key] : bad, ["workflow_runs", "bad"])
          assert.deepStrictEqual(yield* log.getRun("done"), Option.some({
            runId: "done", workflow: "build", status: "completed", timestamp: 1_600_000_000_010, exitCode: withExitCode ? 0 : null
          }))
          assert.deepStrictEqual((yield* log.runs()).map((r) => r.runId), ["done", "good"])
          assert.deepStrictEqual((yield* log.activeRuns()).map((r) => r.runId), ["good"])
          assert.deepStrictEqual(yield* log.triggerPayload("good"), Option.some({ prompt: "p", maxRounds: 2, dryRun: false }))
          assert.strictEqual(yield* log.threadRoundCount("good"), 1)
          const next = yield* log.append({ source: "s", type: "t" })
          assert.strictEqual(next.id, legacyRows.length + 1)
          const completed = yield* log.transition({ source: "workflow", type: "completed" }, { runId: "good", workflow: "build", status: "completed", exitCode: 0 })
          assert.deepStrictEqual([completed.transition.from, completed.run.exitCode], ["started", 0])
        }).pipe(Effect.provide(layer()))

        const upgraded = inspect(filename)
        assert.strictEqual(upgraded.version, LATEST_SCHEMA_VERSION)
        assert.strictEqual(upgraded.logIndexes, 3, "0.5's indexes are adopted, not duplicated")
        assert.strictEqual(upgraded.journal, "wal")
        // Migration 8 counted the rounds the 0.5 rows already held (threadRoundCount above read it).
        assert.deepStrictEqual(upgraded.roundCounts, [{ ref_id: "good", rounds: 1 }])

        yield* Effect.gen(function*() {
          const log = yield* LogStore
          assert.strictEqual((yield* log.query()).length, legacyRows.length + 2)
        }).pipe(Effect.provide(layer()))
        assert.deepStrictEqual(inspect(filename), upgraded, "opening an upgraded file again changes nothing")
      }))
  }

  it.effect("leases written at schema 6 survive the move of run_leases to a WITHOUT ROWID table (migration 7)", () =>
    Effect.gen(function*() {
      const filename = join(makeTempDir(), "nerve.db")
      yield* createAtSchemaVersion(filename, 6, (sql) =>
        Effect.andThen(
          sql.run("INSERT INTO workflow_runs (run_id, workflow, status, timestamp) VALUES ('r1', 'w', 'started', 1)"),
          sql.run("INSERT INTO run_leases (run_id, owner, boot, expires_at) VALUES ('r1', 'other', 'b1', ?)", [4_000_000_000_000])
        ))
      yield* Effect.gen(function*() {
        const log = yield* LogStore
        assert.deepStrictEqual(yield* log.getLease("r1"), Option.some({ runId: "r1", owner: "other", boot: "b1", expiresAt: 4_000_000_000_000 }))
        const refused = yield* Effect.flip(log.transition({ source: "workflow", type: "completed" }, { runId: "r1", workflow: "w", status: "completed" }))
        assert.strictEqual(refused._tag, "RunLeased")
      }).pipe(Effect.provide(LogStoreFile({ filename })))
      const upgraded = inspect(filename)
      const leases = upgraded.schema.find((entry) => entry.name === "run_leases")
      assert.include(String(leases?.sql), "WITHOUT ROWID")
      assert.isUndefined(upgraded.schema.find((entry) => entry.name === "idx_run_leases_owner"))
    }))

  it.effect("a file from a newer nerve-store that has every table this version needs opens read-only as it is", () =>
    Effect.gen(function*() {
      const filename = join(makeTempDir(), "nerve.db")
      create05Database(filename, true)
      yield* Effect.provide(Effect.void, LogStoreFile({ filename }))
      const db = new DatabaseSync(filename)
      db.exec(`PRAGMA user_version = ${LATEST_SCHEMA_VERSION + 5}; CREATE TABLE future_feature (x INTEGER)`)
      db.close()
      yield* Effect.gen(function*() {
        const log = yield* LogStore
        assert.strictEqual((yield* log.query()).length, 4)
      }).pipe(Effect.provide(LogStoreFile({ filename, readonly: true }))) // writable: SchemaTooNew (issue 16, test/sqlite/opening.test.ts)
      assert.strictEqual(inspect(filename).version, LATEST_SCHEMA_VERSION + 5)
    }))

  it.effect("a file that claims a newer schema but lacks a table this version needs fails at startup, saying what to do", () =>
    Effect.gen(function*() {
      const filename = join(makeTempDir(), "nerve.db")
      create05Database(filename, true)
      const db = new DatabaseSync(filename)
      db.exec(`PRAGMA user_version = ${LATEST_SCHEMA_VERSION + 5}; CREATE TABLE future_feature (x INTEGER)`)
      db.close()
      const error = yield* Effect.flip(Effect.provide(Effect.void, LogStoreFile({ filename })))
      if (error._tag !== "DatabaseError") return assert.fail(`expected a DatabaseError, got ${error._tag}`)
      assert.strictEqual(error.reason, "corrupt")
      assert.strictEqual(error.operation, `open ${filename}`)
      assert.include(error.detail, "run_transitions")
      assert.include(error.detail, "Restore the file from a backup")
      assert.strictEqual(inspect(filename).version, LATEST_SCHEMA_VERSION + 5, "nothing was written to it")
    }))
})
