// Links and owners in the data directory (issue 19 item 10), and a read-only stack on a folder
// with no nerve.db (issue 16 item 8): one inspection, refused by the live layer, flagged by check.
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { chmodSync, chownSync, existsSync, lstatSync, mkdirSync, renameSync, symlinkSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { MaintenanceSqlite, NerveStoreLive } from "../../layers/index.ts"
import { LogStore } from "../../src/LogStore.ts"
import { Maintenance } from "../../src/Maintenance.ts"
import { makeTempDir } from "../support/tempDir.ts"

const check = (dataDir: string) => Maintenance.use((m) => m.check()).pipe(Effect.provide(MaintenanceSqlite({ dataDir })))
const buildLive = (dataDir: string, readonly = false) => Effect.flip(Layer.build(NerveStoreLive({ dataDir, readonly })).pipe(Effect.scoped))

/** A data directory the live stack made, with a row, a blob folder and an archive folder. */
const made = (dataDir: string) =>
  Effect.gen(function*() {
    yield* LogStore.use((log) => log.append({ source: "daemon", type: "x" })).pipe(Effect.provide(NerveStoreLive({ dataDir })))
    mkdirSync(join(dataDir, "blobs"), { recursive: true, mode: 0o700 })
    mkdirSync(join(dataDir, "archive", "logs"), { recursive: true, mode: 0o700 })
  })

describe("links and owners in the data directory", () => {
  it.effect("a dangling nerve.db symlink is refused by the live layer (its target is not created) and flagged by check", () =>
    Effect.gen(function*() {
      const dataDir = makeTempDir()
      const target = join(makeTempDir(), "elsewhere.db")
      symlinkSync(target, join(dataDir, "nerve.db"))
      const error = yield* buildLive(dataDir)
      assert.strictEqual(error._tag, "DataDirectoryError")
      assert.match(error.message, /nerve\.db is a symbolic link/)
      assert.isFalse(existsSync(target))
      const report = yield* check(dataDir)
      assert.isFalse(report.ok)
      assert.deepStrictEqual(report.layout.find((e) => e.path === "nerve.db")?.found, "symlink")
      assert.isTrue(report.problems.some((line) => line.startsWith("nerve.db is a symbolic link")))
      assert.isFalse(existsSync(target))
    }))

  for (const link of ["archive", "archive/logs", "blobs"]) {
    it.effect(`${link} as a symlink: the live layer refuses it, check flags it`, () =>
      Effect.gen(function*() {
        const dataDir = makeTempDir()
        yield* made(dataDir)
        const elsewhere = join(makeTempDir(), "moved")
        renameSync(join(dataDir, link), elsewhere)
        symlinkSync(elsewhere, join(dataDir, link))
        const error = yield* buildLive(dataDir)
        assert.strictEqual(error._tag, "DataDirectoryError")
        assert.include(error.message, `${link} is a symbolic link`)
        const report = yield* check(dataDir)
        assert.isFalse(report.ok)
        assert.deepStrictEqual(report.layout.filter((e) => e.found === "symlink").map((e) => e.path), [link])
        assert.strictEqual(report.problems.filter((line) => line.startsWith(`${link} is a symbolic link`)).length, 1)
        // Reading is not refused: a read-only stack writes nothing through the link.
        yield* LogStore.use((log) => log.query({})).pipe(Effect.provide(NerveStoreLive({ dataDir, readonly: true })))
      }))
  }

  it.effect("a 0777 folder owned by another user: the live layer refuses it, check flags owner and mode", () =>
    Effect.gen(function*() {
      const asRoot = process.getuid?.() === 0
      // Root makes one and gives it away; anyone else finds one: the system temp folder (root's, 1777).
      const dataDir = asRoot ? makeTempDir() : tmpdir()
      if (asRoot) {
        chmodSync(dataDir, 0o777)
        chownSync(dataDir, 65534, 65534)
      }
      const before = lstatSync(dataDir).mtimeMs
      const error = yield* buildLive(dataDir)
      assert.strictEqual(error._tag, "DataDirectoryError")
      assert.match(error.message, /is owned by uid \d+, not by this user/)
      assert.isFalse(existsSync(join(dataDir, "nerve.db")) && asRoot)
      assert.strictEqual(lstatSync(dataDir).mtimeMs, before)
      if (!asRoot) return
      // check needs a database to look at: put one there as its owner would.
      chownSync(dataDir, 0, 0)
      yield* made(dataDir)
      chmodSync(dataDir, 0o777)
      chownSync(dataDir, 65534, 65534)
      const report = yield* check(dataDir)
      assert.isFalse(report.ok)
      assert.isTrue(report.problems.some((line) => /^\. is owned by uid 65534/.test(line)))
      assert.isTrue(report.warnings.some((line) => line.startsWith(". has mode 0777")))
    }))

  it.effect("a read-only stack on a folder with no nerve.db names the missing file (not reason other)", () =>
    Effect.gen(function*() {
      const dataDir = makeTempDir()
      const error = yield* buildLive(dataDir, true)
      assert.strictEqual(error._tag, "DataDirectoryError")
      assert.deepStrictEqual(error._tag === "DataDirectoryError" ? [error.reason, error.path] : [], ["notFound", join(dataDir, "nerve.db")])
      assert.isFalse(existsSync(join(dataDir, "nerve.db")))
    }))
})
