// The maintenance service on a SQLite data directory, in-process: what `db check`, `db stats`,
// `db upgrade` and `doctor` stand on (issues 15, 16, 18, 19).
import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit } from "effect"
import { existsSync, mkdirSync, writeFileSync } from "node:fs"
import { DatabaseSync } from "node:sqlite"
import { join } from "node:path"
import { MaintenanceSqlite, NerveStoreLive } from "../../layers/index.ts"
import { BlobStore } from "../../src/BlobStore.ts"
import { LogArchive } from "../../src/LogArchive.ts"
import { LogStore } from "../../src/LogStore.ts"
import { Maintenance } from "../../src/Maintenance.ts"
import { makeTempDir } from "../support/tempDir.ts"
import { makeHotJournal } from "./hotJournal.ts"

const DAY_MS = 86_400_000
const maintain = <A, E>(dataDir: string, f: (m: Maintenance["Service"]) => Effect.Effect<A, E>) =>
  Maintenance.use(f).pipe(Effect.provide(MaintenanceSqlite({ dataDir })))

/** A data directory with one old day (40 days ago, 3 rows), archived; returns that day. */
const archivedDataDir = (dataDir: string) =>
  Effect.gen(function*() {
    const log = yield* LogStore
    const archive = yield* LogArchive
    const start = (Math.floor(Date.now() / DAY_MS) - 40) * DAY_MS
    yield* log.appendMany([0, 1, 2].map((i) => ({ source: "daemon", type: "old", timestamp: start + i * 1000 })))
    yield* log.append({ source: "daemon", type: "today" })
    const result = yield* archive.archive({ retentionMs: DAY_MS })
    return { day: result.days[0]?.day ?? "", start }
  }).pipe(Effect.provide(NerveStoreLive({ dataDir })))

describe("the maintenance service", () => {
  it.effect("check flags a corrupt blob in blobs/quarantine/ (issue 18 item 10)", () =>
    Effect.gen(function*() {
      const dataDir = makeTempDir()
      yield* BlobStore.use((b) => b.write("a blob")).pipe(Effect.provide(NerveStoreLive({ dataDir })))
      assert.isTrue((yield* maintain(dataDir, (m) => m.check())).ok)
      const digest = "ab".repeat(32)
      mkdirSync(join(dataDir, "blobs", "quarantine"), { mode: 0o700 })
      writeFileSync(join(dataDir, "blobs", "quarantine", `${digest}.1764900000000.0a1b2c3d`), "not what it says", { mode: 0o600 })
      const report = yield* maintain(dataDir, (m) => m.check())
      assert.isFalse(report.ok)
      assert.deepStrictEqual(report.quarantinedBlobs.map((b) => [b.digest, b.quarantinedAt, b.bytes]), [[digest, 1764900000000, 16]])
      assert.strictEqual(report.problems.length, 1)
      assert.match(report.problems[0] ?? "", new RegExp(`^blob ${digest} is in blobs/quarantine/.*write the blob again`))
    }))

  it.live("stats says when rows of archived days are still in SQLite: late rows, and days put back by restore (issue 18 item 10)", () =>
    Effect.gen(function*() {
      const dataDir = makeTempDir()
      const { day, start } = yield* archivedDataDir(dataDir)
      const clean = yield* maintain(dataDir, (m) => m.stats())
      assert.strictEqual(clean.archivedUpTo !== null && clean.archivedUpTo >= day, true)
      assert.isNull(clean.behindArchive)
      // A late row, timestamped inside the archived day.
      yield* LogStore.use((log) => log.append({ source: "daemon", type: "late", timestamp: start + 5000 })).pipe(Effect.provide(NerveStoreLive({ dataDir })))
      const late = yield* maintain(dataDir, (m) => m.stats())
      assert.deepStrictEqual(late.behindArchive, { rows: 1, oldestDay: day, newestDay: day, restoredDays: [] })
      // The day put back by restore.
      yield* LogArchive.use((a) => a.restore(day)).pipe(Effect.provide(NerveStoreLive({ dataDir })))
      const restored = yield* maintain(dataDir, (m) => m.stats())
      assert.deepStrictEqual(restored.behindArchive, { rows: 4, oldestDay: day, newestDay: day, restoredDays: [day] })
    }))

  it.effect("upgrade refuses a file whose schema is newer than this build, and changes nothing (issue 16 item 5)", () =>
    Effect.gen(function*() {
      const dataDir = makeTempDir()
      yield* LogStore.use((log) => log.append({ source: "daemon", type: "x" })).pipe(Effect.provide(NerveStoreLive({ dataDir })))
      const db = new DatabaseSync(join(dataDir, "nerve.db"))
      db.exec("PRAGMA user_version = 99")
      db.close()
      const exit = yield* Effect.exit(maintain(dataDir, (m) => m.upgrade()))
      assert.isTrue(Exit.isFailure(exit))
      const error = Exit.isFailure(exit) ? exit.cause.reasons[0] : undefined
      assert.strictEqual(error?._tag === "Fail" ? error.error._tag : "", "UpgradeRefused")
      assert.match(error?._tag === "Fail" ? error.error.message : "", /schema version 99, newer than this nerve-store knows \(\d+\)/)
      assert.deepStrictEqual(yield* maintain(dataDir, (m) => Effect.map(m.schemaVersion(), (v) => v.found)), 99)
    }))

  it.effect("a hot rollback journal: check says to run upgrade, stats says what to do, upgrade rolls it back (issue 19 item 3)", () =>
    Effect.gen(function*() {
      const dataDir = makeTempDir()
      yield* Effect.promise(() => makeHotJournal(dataDir))
      const check = yield* maintain(dataDir, (m) => m.check())
      assert.isTrue(check.hotJournal)
      assert.isFalse(check.ok)
      assert.match(check.problems[0] ?? "", /hot rollback journal.*`nerve-store db upgrade`/)
      const stats = yield* Effect.flip(maintain(dataDir, (m) => m.stats()))
      assert.match(stats.message, /sqlite code 776.*hot rollback journal.*run `nerve-store db upgrade`/)
      const upgraded = yield* maintain(dataDir, (m) => m.upgrade())
      assert.deepStrictEqual([upgraded.from, upgraded.journalRolledBack], [0, true])
      assert.isFalse(existsSync(join(dataDir, "nerve.db-journal")))
      const after = yield* maintain(dataDir, (m) => m.check())
      assert.deepStrictEqual([after.ok, after.hotJournal, after.problems], [true, false, []])
      // The rolled-back transaction left nothing: the 0.5 rows only.
      assert.strictEqual((yield* maintain(dataDir, (m) => m.stats())).rows, 4)
    }))

  it.effect("init creates an owner-only data directory and database; a second init leaves it as it is", () =>
    Effect.gen(function*() {
      const dataDir = join(makeTempDir(), "new", "data")
      const first = yield* maintain(dataDir, (m) => m.init())
      assert.isTrue(first.created)
      const second = yield* maintain(dataDir, (m) => m.init())
      assert.deepStrictEqual([second.created, second.schemaVersion], [false, first.schemaVersion])
      const layout = (yield* maintain(dataDir, (m) => m.check())).layout
      assert.deepStrictEqual(layout.slice(0, 2).map((e) => [e.path, e.found, e.mode]), [[".", "ok", "0700"], ["nerve.db", "ok", "0600"]])
    }))
})
