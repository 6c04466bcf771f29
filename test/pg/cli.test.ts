// The CLI on PostgreSQL (issue 17): `--database-url` (or NERVE_DATABASE_URL) makes every reading
// and writing command work on the database, with day files and blobs still in `--data-dir`; `db
// check` / `db stats` report the PostgreSQL schema version; what maintenance cannot do there fails
// with a typed error.
import { assert, beforeAll, describe, it } from "@effect/vitest"
import { Effect, Redacted } from "effect"
import { existsSync } from "node:fs"
import { join } from "node:path"
import { NerveStorePg } from "../../layers/index.ts"
import { LogStore } from "../../src/index.ts"
import { LATEST_PG_SCHEMA_VERSION } from "../../src/pg/PgMigrations.ts"
import { cli, lines } from "../cli/run.ts"
import { freshPgDatabase } from "../support/pgDatabase.ts"
import { makeTempDir } from "../support/tempDir.ts"

const database = freshPgDatabase()
let dataDir = ""
let url = ""

const T0 = Date.UTC(2026, 11, 1, 12)

beforeAll(async () => {
  dataDir = makeTempDir("nerve-pg-cli-")
  url = Redacted.value(database.url())
  await Effect.gen(function*() {
    const log = yield* LogStore
    yield* log.appendMany([
      { source: "agent", type: "note", refId: "run-1", payload: "{\"n\":1}", timestamp: T0 },
      { source: "agent", type: "note", refId: "run-2", payload: "{\"n\":2}", timestamp: T0 + 1 }
    ])
    for (const [runId, end] of [["run-1", "completed"], ["run-2", "crashed"]] as const) {
      for (const status of ["queued", "started", end] as const) {
        yield* log.transition({ source: "daemon", type: status, timestamp: T0 + 10 }, { runId, workflow: "wf", status })
      }
    }
  }).pipe(Effect.provide(NerveStorePg({ url: database.url(), dataDir })), Effect.runPromise)
})

describe("nerve-store --database-url", () => {
  it.live("logs query, runs list/show and threads read the PostgreSQL database", () =>
    Effect.gen(function*() {
      const query = yield* cli(["--data-dir", dataDir, "--database-url", url, "--json", "logs", "query", "--source", "agent"])
      assert.strictEqual(query.code, 0, query.stderr)
      const rows = lines(query.stdout).map((line) => JSON.parse(line) as { refId: string })
      assert.deepStrictEqual(rows.map((row) => row.refId).sort(), ["run-1", "run-2"])
      const runs = yield* cli(["--data-dir", dataDir, "--json", "runs", "list"], { env: { NERVE_DATABASE_URL: url } })
      assert.strictEqual(runs.code, 0, runs.stderr)
      assert.match(runs.stdout, /"run-1"/)
      assert.match(runs.stdout, /"crashed"/)
      const show = yield* cli(["--data-dir", dataDir, "--database-url", url, "runs", "show", "run-2"])
      assert.strictEqual(show.code, 0, show.stderr)
      assert.match(show.stdout, /crashed/)
      const missing = yield* cli(["--data-dir", dataDir, "--database-url", url, "runs", "show", "run-404"])
      assert.strictEqual(missing.code, 1)
      const rounds = yield* cli(["--data-dir", dataDir, "--database-url", url, "threads", "rounds", "run-1"])
      assert.strictEqual(rounds.code, 0, rounds.stderr)
    }))

  it.live("runs retry writes to the PostgreSQL database; the data directory holds no nerve.db", () =>
    Effect.gen(function*() {
      const retry = yield* cli(["--data-dir", dataDir, "--database-url", url, "--json", "runs", "retry", "run-2"])
      assert.strictEqual(retry.code, 0, retry.stderr)
      const after = yield* cli(["--data-dir", dataDir, "--database-url", url, "--json", "runs", "show", "run-2"])
      assert.match(after.stdout, /"queued"/)
      const sqlite = yield* cli(["--data-dir", dataDir, "runs", "list"])
      assert.strictEqual(sqlite.code, 1, "without the URL the SQLite file is looked for, and there is none")
    }))

  it.live("db check and db stats report the PostgreSQL schema version and counts; db init says it is not for PostgreSQL", () =>
    Effect.gen(function*() {
      const check = yield* cli(["--data-dir", dataDir, "--database-url", url, "--json", "db", "check"])
      assert.strictEqual(check.code, 0, check.stdout + check.stderr)
      const report = JSON.parse(check.stdout) as { schemaVersion: number; latestSchemaVersion: number; ok: boolean }
      assert.strictEqual(report.schemaVersion, LATEST_PG_SCHEMA_VERSION)
      assert.strictEqual(report.latestSchemaVersion, LATEST_PG_SCHEMA_VERSION)
      const stats = yield* cli(["--data-dir", dataDir, "--database-url", url, "--json", "db", "stats"])
      assert.strictEqual(stats.code, 0, stats.stderr)
      const counts = JSON.parse(stats.stdout) as { rows: number; runs: number }
      assert.strictEqual(counts.runs, 2)
      assert.isAtLeast(counts.rows, 8)
      const upgrade = yield* cli(["--data-dir", dataDir, "--database-url", url, "db", "upgrade"])
      assert.strictEqual(upgrade.code, 0, upgrade.stderr)
      assert.match(upgrade.stdout, new RegExp(`the PostgreSQL database is at schema version ${LATEST_PG_SCHEMA_VERSION}: nothing to do`))
      const init = yield* cli(["--data-dir", dataDir, "--database-url", url, "db", "init"])
      assert.strictEqual(init.code, 1)
      assert.match(init.stderr, /not available on PostgreSQL/)
    }))

  it.live("a database without the schema is refused by reading commands and reported behind by db check", () =>
    Effect.gen(function*() {
      const empty = url.replace(/\/[^/?]+(\?|$)/, "/postgres$1")
      const runs = yield* cli(["--data-dir", dataDir, "--database-url", empty, "runs", "list"])
      assert.strictEqual(runs.code, 1)
      assert.match(runs.stderr, /schema version 0/)
      const check = yield* cli(["--data-dir", dataDir, "--database-url", empty, "--json", "db", "check"])
      assert.strictEqual(check.code, 1)
      assert.match(check.stdout, /behind/)
    }))

  it.live("archive --yes moves a day into day files of --data-dir; archive days and read read it (runs last: it deletes rows)", () =>
    Effect.gen(function*() {
      const flags = ["--data-dir", dataDir, "--database-url", url]
      const archived = yield* cli([...flags, "archive", "--retention", "1d", "--yes"])
      assert.strictEqual(archived.code, 0, archived.stdout + archived.stderr)
      const days = yield* cli([...flags, "--json", "archive", "days"])
      assert.strictEqual(days.code, 0, days.stderr)
      assert.match(days.stdout, /"2026-12-01"/)
      assert.isTrue(existsSync(join(dataDir, "archive", "logs")), "day files live in the data directory")
      const read = yield* cli([...flags, "--json", "archive", "read", "2026-12-01"])
      assert.strictEqual(read.code, 0, read.stderr)
      assert.isAtLeast(lines(read.stdout).length, 2)
      const query = yield* cli([...flags, "--json", "logs", "query", "--source", "agent"])
      assert.strictEqual(lines(query.stdout).length, 0, "the archived rows left the database")
    }))
})
