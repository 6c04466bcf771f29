// `nerve-store db init|check|stats|upgrade` on the maintenance service (issues 15, 16, 18, 19).
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { existsSync, mkdirSync, statSync, symlinkSync, writeFileSync } from "node:fs"
import { DatabaseSync } from "node:sqlite"
import { join } from "node:path"
import { NerveStoreLive } from "../../layers/index.ts"
import { LogArchive } from "../../src/LogArchive.ts"
import { LogStore } from "../../src/LogStore.ts"
import * as Maintenance from "../../src/Maintenance.ts"
import { makeHotJournal } from "../maintenance/hotJournal.ts"
import { makeTempDir } from "../support/tempDir.ts"
import { cli, decodeJson, ROOT } from "./run.ts"

const DAY_MS = 86_400_000

describe("nerve-store db, on the maintenance service", () => {
  it.live("writing commands never create a data directory; db init does, owner-only (issue 18 item 5)", () =>
    Effect.gen(function*() {
      const dataDir = join(makeTempDir(), "nonexistent")
      const put = yield* cli(["--data-dir", dataDir, "blobs", "put", join(ROOT, "README.md")])
      assert.strictEqual(put.code, 1)
      assert.match(put.stderr, /^nerve-store: cannot use .*nonexistent in the data directory: it does not exist\n$/)
      assert.isFalse(existsSync(dataDir))
      const init = yield* cli(["--data-dir", dataDir, "--json", "db", "init"])
      assert.strictEqual(init.code, 0, init.stderr)
      assert.isTrue(decodeJson(Maintenance.InitReport, init.stdout).created)
      assert.strictEqual(statSync(dataDir).mode & 0o777, 0o700)
      assert.strictEqual(statSync(join(dataDir, "nerve.db")).mode & 0o777, 0o600)
      const again = yield* cli(["--data-dir", dataDir, "blobs", "put", join(ROOT, "README.md")])
      assert.strictEqual(again.code, 0, again.stderr)
    }))

  it.live("a reading command on a folder without nerve.db names the file and what to run (issue 16 item 8)", () =>
    Effect.gen(function*() {
      const dataDir = makeTempDir()
      const result = yield* cli(["--data-dir", dataDir, "logs", "query"])
      assert.strictEqual(result.code, 1)
      assert.strictEqual(result.stderr, `nerve-store: no database at ${join(dataDir, "nerve.db")}; run the daemon or \`nerve-store db init\`\n`)
      assert.isFalse(existsSync(join(dataDir, "nerve.db")))
    }))

  it.live("db upgrade on a file newer than this build exits 1 and says why (issue 16 item 5)", () =>
    Effect.gen(function*() {
      const dataDir = makeTempDir()
      yield* LogStore.use((log) => log.append({ source: "daemon", type: "x" })).pipe(Effect.provide(NerveStoreLive({ dataDir })))
      const db = new DatabaseSync(join(dataDir, "nerve.db"))
      db.exec("PRAGMA user_version = 99")
      db.close()
      const result = yield* cli(["--data-dir", dataDir, "db", "upgrade"])
      assert.strictEqual(result.code, 1)
      assert.match(result.stderr, /^nerve-store: .*nerve\.db has schema version 99, newer than this nerve-store knows \(\d+\).*nothing was changed/)
      assert.strictEqual(result.stdout, "")
    }))

  it.live("a hot rollback journal: db check and logs query say to run db upgrade, which recovers it (issue 19 item 3)", () =>
    Effect.gen(function*() {
      const dataDir = makeTempDir()
      yield* Effect.promise(() => makeHotJournal(dataDir))
      const checked = yield* cli(["--data-dir", dataDir, "db", "check"])
      assert.strictEqual(checked.code, 1)
      assert.match(checked.stdout, /hot rollback journal.*run `nerve-store db upgrade`/)
      const query = yield* cli(["--data-dir", dataDir, "logs", "query"])
      assert.strictEqual(query.code, 1)
      assert.match(query.stderr, /^nerve-store: .*hot rollback journal.*run `nerve-store db upgrade`/)
      const upgraded = yield* cli(["--data-dir", dataDir, "db", "upgrade"])
      assert.strictEqual(upgraded.code, 0, upgraded.stderr)
      assert.match(upgraded.stdout, /schema version 0 -> \d+; rolled back the hot journal a crash left/)
      const after = yield* cli(["--data-dir", dataDir, "--json", "db", "check"])
      assert.strictEqual(after.code, 0, after.stdout)
      assert.isFalse(decodeJson(Maintenance.CheckReport, after.stdout).hotJournal)
    }))

  it.live("db check flags a quarantined blob; db stats says archived days still have rows in SQLite (issue 18 item 10)", () =>
    Effect.gen(function*() {
      const dataDir = makeTempDir()
      const start = (Math.floor(Date.now() / DAY_MS) - 40) * DAY_MS
      const day = new Date(start).toISOString().slice(0, 10)
      yield* Effect.gen(function*() {
        const log = yield* LogStore
        yield* log.appendMany([0, 1].map((i) => ({ source: "daemon", type: "old", timestamp: start + i })))
        yield* (yield* LogArchive).archive({ retentionMs: DAY_MS })
        yield* log.append({ source: "daemon", type: "late", timestamp: start + 10 })
      }).pipe(Effect.provide(NerveStoreLive({ dataDir })))
      mkdirSync(join(dataDir, "blobs", "quarantine"), { recursive: true, mode: 0o700 })
      writeFileSync(join(dataDir, "blobs", "quarantine", `${"cd".repeat(32)}.1764900000000.00ff00ff`), "corrupt", { mode: 0o600 })
      const checked = yield* cli(["--data-dir", dataDir, "db", "check"])
      assert.strictEqual(checked.code, 1)
      assert.match(checked.stdout, new RegExp(`PROBLEMS FOUND:\\n  blob ${"cd".repeat(32)} is in blobs/quarantine/`))
      const stats = yield* cli(["--data-dir", dataDir, "db", "stats"])
      assert.strictEqual(stats.code, 0, stats.stderr)
      assert.match(stats.stdout, new RegExp(`^archived:\\s+up to \\d{4}-\\d{2}-\\d{2}, 1 day file\\(s\\); but 1 row\\(s\\) from ${day} are still in SQLite \\(late rows`, "m"))
    }))

  it.live("db check flags archive/ as a symbolic link and exits 1; runs recover (a writing command) refuses it (issue 19 item 10)", () =>
    Effect.gen(function*() {
      const dataDir = makeTempDir()
      yield* LogStore.use((log) => log.append({ source: "daemon", type: "x" })).pipe(Effect.provide(NerveStoreLive({ dataDir })))
      const elsewhere = makeTempDir()
      symlinkSync(elsewhere, join(dataDir, "archive"))
      const checked = yield* cli(["--data-dir", dataDir, "--json", "db", "check"])
      assert.strictEqual(checked.code, 1)
      const report = decodeJson(Maintenance.CheckReport, checked.stdout)
      assert.deepStrictEqual(report.layout.filter((e) => e.found === "symlink").map((e) => [e.path, e.target]), [["archive", elsewhere]])
      const archived = yield* cli(["--data-dir", dataDir, "runs", "recover"])
      assert.strictEqual(archived.code, 1)
      assert.include(archived.stderr, "archive is a symbolic link")
    }))

  it.live("the --help of db check, stats, upgrade, init and doctor shows an example", () =>
    Effect.gen(function*() {
      const helps = yield* Effect.forEach(
        [["db", "check"], ["db", "stats"], ["db", "upgrade"], ["db", "init"], ["doctor"]],
        (command) => cli([...command, "--help"]),
        { concurrency: 2 }
      )
      for (const help of helps) {
        assert.strictEqual(help.code, 0, help.stderr)
        assert.match(help.stdout, /\nEXAMPLES\n(.*\n)*\s+nerve-store .*(db|doctor)/)
      }
    }))
})
