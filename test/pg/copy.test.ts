// `nerve-store db copy` (issue 17): a SQLite data directory's database into PostgreSQL and back,
// checked by counts and digests; a copy killed half-way finishes when run again; a non-empty
// target is refused; a 0.5 data directory copies after `db upgrade`.
import { PgClient } from "@effect/sql-pg"
import { assert, beforeAll, describe, it } from "@effect/vitest"
import { Effect, Redacted, Stream } from "effect"
import * as Reactivity from "effect/reactivity/Reactivity"
import { spawn } from "node:child_process"
import { join } from "node:path"
import { NerveStoreLive, NerveStorePg } from "../../layers/index.ts"
import { CopyReport } from "../../src/DatabaseCopy.ts"
import { LogArchive, LogStore } from "../../src/index.ts"
import { COPY_TABLES } from "../../src/pg/CopyTables.ts"
import { create05Database } from "../fixtures/sqlite-legacy05.ts"
import { cli, decodeJson, MAIN } from "../cli/run.ts"
import { seed } from "../cli/seed.ts"
import { waitForExit, watchSpawn } from "../support/child.ts"
import { emptyDatabases } from "../support/pgDatabase.ts"
import { makeTempDir } from "../support/tempDir.ts"

/** Empty databases made by this file, dropped after it. */
const newDatabase = emptyDatabases()

/** Rows of a statement on `url` (a connection of its own). */
const onDatabase = <A extends object>(url: string, text: string): Promise<ReadonlyArray<A>> =>
  Effect.gen(function*() {
    const sql = yield* PgClient.makeClient({ url: Redacted.make(url), connectTimeout: "30 seconds" })
    return yield* sql.unsafe<A>(text)
  }).pipe(Effect.scoped, Effect.provide(Reactivity.layer), Effect.runPromise)

/** A seeded data directory: the CLI seed, two archived days, an idempotent append, and `extra` rows. */
const seededDir = async (extra: number): Promise<string> => {
  const dataDir = makeTempDir("nerve-copy-src-")
  await seed(dataDir)
  await Effect.gen(function*() {
    yield* (yield* LogArchive).archive({ retentionMs: 30 * 86_400_000 })
    const log = yield* LogStore
    yield* log.append({ source: "api", type: "once", payload: "{}" }, { idempotencyKey: "key-1" })
    for (let start = 0; start < extra; start += 5000) {
      yield* log.appendMany(Array.from({ length: Math.min(5000, extra - start) }, (_, i) => ({
        source: "bulk",
        type: "row",
        refId: `r-${(start + i) % 97}`,
        payload: JSON.stringify({ n: start + i, text: "ü\u0000é" }),
        timestamp: 1_700_000_000_000 + start + i
      })))
    }
  }).pipe(Effect.provide(NerveStoreLive({ dataDir })), Effect.runPromise)
  return dataDir
}

/** Every log row and run as a LogStore reads them. */
const readAll = Effect.gen(function*() {
  const log = yield* LogStore
  const rows = yield* Stream.runCollect(log.stream({}))
  const runs = yield* log.runs({ limit: 1000 })
  return { rows: Array.from(rows), runs: [...runs].sort((a, b) => (a.runId < b.runId ? -1 : 1)) }
})

const copyArgs = (dataDir: string, ...rest: ReadonlyArray<string>) => ["--data-dir", dataDir, "--json", "db", "copy", ...rest]

let source = ""
beforeAll(async () => {
  source = await seededDir(3000)
})

describe("nerve-store db copy", () => {
  it.live("--to copies every table (counts and digests equal, LogStore reads the same rows), ids go on past the highest; --from copies back", () =>
    Effect.gen(function*() {
      const url = yield* Effect.promise(newDatabase)
      const copied = yield* cli(copyArgs(source, "--to", url))
      assert.strictEqual(copied.code, 0, copied.stdout + copied.stderr)
      const report = decodeJson(CopyReport, copied.stdout)
      assert.isTrue(report.ok)
      assert.isFalse(report.resumed)
      assert.deepStrictEqual(report.tables.map((t) => t.table), COPY_TABLES.map((t) => t.name))
      for (const t of report.tables) assert.strictEqual(t.targetRows, t.sourceRows, t.table)
      assert.isAbove(report.tables.find((t) => t.table === "archive_manifest")?.sourceRows ?? 0, 0)
      assert.strictEqual(report.tables.find((t) => t.table === "idempotency_keys")?.sourceRows, 1)

      const fromSqlite = yield* readAll.pipe(Effect.provide(NerveStoreLive({ dataDir: source, readonly: true })))
      const pgDir = makeTempDir("nerve-copy-pg-")
      const next = yield* Effect.gen(function*() {
        const onPg = yield* readAll
        assert.deepStrictEqual(onPg.rows, fromSqlite.rows)
        assert.deepStrictEqual(onPg.runs, fromSqlite.runs)
        return yield* (yield* LogStore).append({ source: "after", type: "copy" })
      }).pipe(Effect.provide(NerveStorePg({ url, dataDir: pgDir })))
      assert.isAbove(next.id, fromSqlite.rows[fromSqlite.rows.length - 1]?.id ?? 0)

      const back = makeTempDir("nerve-copy-back-")
      const returned = yield* cli(copyArgs(back, "--from", url))
      assert.strictEqual(returned.code, 0, returned.stdout + returned.stderr)
      assert.isTrue(decodeJson(CopyReport, returned.stdout).ok)
      const roundTrip = yield* readAll.pipe(Effect.provide(NerveStoreLive({ dataDir: back, readonly: true })))
      assert.deepStrictEqual(roundTrip.rows, [...fromSqlite.rows, next])
      assert.deepStrictEqual(roundTrip.runs, fromSqlite.runs)
    }))

  it.live("a non-empty target is refused (exit 1, nothing written); the same copy run again only checks", () =>
    Effect.gen(function*() {
      const url = yield* Effect.promise(newDatabase)
      assert.strictEqual((yield* cli(copyArgs(source, "--to", url))).code, 0)
      const other = yield* Effect.promise(() => seededDir(0))
      const refused = yield* cli(["--data-dir", other, "db", "copy", "--to", url])
      assert.strictEqual(refused.code, 1)
      assert.match(refused.stderr, /db copy refused: the target holds a copy of another source/)
      const again = yield* cli(copyArgs(source, "--to", url))
      assert.strictEqual(again.code, 0, again.stderr)
      const report = decodeJson(CopyReport, again.stdout)
      assert.isTrue(report.resumed && report.ok)
      assert.strictEqual(report.copiedRows, 0)
      // A database with rows of its own and no copy in it.
      const busy = yield* Effect.promise(newDatabase)
      yield* Effect.gen(function*() {
        yield* (yield* LogStore).append({ source: "own", type: "row" })
      }).pipe(Effect.provide(NerveStorePg({ url: busy, dataDir: makeTempDir("nerve-copy-busy-") })))
      const notEmpty = yield* cli(["--data-dir", source, "db", "copy", "--to", busy])
      assert.strictEqual(notEmpty.code, 1)
      assert.match(notEmpty.stderr, /the target is not empty \(rows in logs\)/)
      const intoUsed = yield* cli(["--data-dir", other, "db", "copy", "--from", url])
      assert.strictEqual(intoUsed.code, 1)
      assert.match(intoUsed.stderr, /the target is not empty/)
      const both = yield* cli(["--data-dir", source, "db", "copy", "--to", busy, "--from", busy])
      assert.strictEqual(both.code, 2)
    }))

  it.live("a copy SIGKILLed half-way finishes when run again, without duplicates", () =>
    Effect.gen(function*() {
      const big = yield* Effect.promise(() => seededDir(40_000))
      const url = yield* Effect.promise(newDatabase)
      const child = watchSpawn(spawn(process.execPath, ["--conditions=source", MAIN, ...copyArgs(big, "--to", url, "--batch-size", "100")], {
        stdio: ["ignore", "ignore", "pipe"]
      }))
      const exited = waitForExit(child)
      // Wait until some log rows are committed, then kill it.
      let progress = ""
      for (let i = 0; i < 6000 && progress === ""; i++) {
        const rows = yield* Effect.promise(() =>
          onDatabase<{ value: string }>(url, "SELECT value FROM meta WHERE key = 'copy_progress'").catch(() => [])
        )
        const table = Number(/"table":(\d+)/.exec(rows[0]?.value ?? "")?.[1] ?? 0)
        if (table >= 1) progress = rows[0]?.value ?? ""
        else yield* Effect.sleep("20 millis")
      }
      child.kill("SIGKILL")
      const { code } = yield* Effect.promise(() => exited)
      assert.notStrictEqual(code, 0, "killed before it finished")
      assert.notStrictEqual(progress, "", "saw the copy under way")
      const left = yield* Effect.promise(() => onDatabase<{ value: string }>(url, "SELECT value FROM meta WHERE key = 'copy_progress'"))
      const stoppedAt = Number(/"table":(\d+)/.exec(left[0]?.value ?? "")?.[1] ?? 0)
      assert.isBelow(stoppedAt, COPY_TABLES.length, "the kill came before the copy finished")

      const resumed = yield* cli(copyArgs(big, "--to", url))
      assert.strictEqual(resumed.code, 0, resumed.stdout + resumed.stderr)
      const report = decodeJson(CopyReport, resumed.stdout)
      assert.isTrue(report.resumed)
      assert.isTrue(report.ok)
      const logs = report.tables.find((t) => t.table === "logs")
      assert.strictEqual(logs?.targetRows, logs?.sourceRows)
    }))

  it.live("a 0.5 data directory is refused until `db upgrade`, then copies cleanly", () =>
    Effect.gen(function*() {
      const legacy = makeTempDir("nerve-copy-05-")
      create05Database(join(legacy, "nerve.db"), false)
      const url = yield* Effect.promise(newDatabase)
      const refused = yield* cli(["--data-dir", legacy, "db", "copy", "--to", url])
      assert.strictEqual(refused.code, 1)
      assert.match(refused.stderr, /db upgrade/)
      assert.strictEqual((yield* cli(["--data-dir", legacy, "db", "upgrade"])).code, 0)
      const copied = yield* cli(copyArgs(legacy, "--to", url))
      assert.strictEqual(copied.code, 0, copied.stdout + copied.stderr)
      assert.isTrue(decodeJson(CopyReport, copied.stdout).ok)
    }))
})
