// `npm start -- --database-url <url> --data-dir <dir>` (examples/daemon.ts on NerveStorePg): the
// demo daemon runs on PostgreSQL, its files in the data directory, and a second boot recovers what
// the first left (the same report as on SQLite).
import { assert, describe, it } from "@effect/vitest"
import { Effect, Redacted } from "effect"
import { existsSync } from "node:fs"
import { join } from "node:path"
import { runScript } from "../support/child.ts"
import { freshPgDatabase } from "../support/pgDatabase.ts"
import { makeTempDir } from "../support/tempDir.ts"

const ROOT = join(import.meta.dirname, "..", "..")
const database = freshPgDatabase()

/** The daemon demo on the test file's database; a hang guard kills it after 120 s. */
const daemon = (dataDir: string) =>
  runScript("examples/daemon.ts", ["--database-url", Redacted.value(database.url()), "--data-dir", dataDir, "--seconds", "2"], {
    cwd: ROOT,
    hangMs: 120_000
  })

describe("npm start -- --database-url", () => {
  it.live("runs the daemon demo on PostgreSQL with its files in --data-dir; the next boot recovers the orphan", () =>
    Effect.gen(function*() {
      const dataDir = join(makeTempDir("nerve-start-pg-"), "data")
      const first = yield* Effect.promise(() => daemon(dataDir))
      assert.strictEqual(first.code, 0, first.stderr)
      assert.include(first.stdout, `on PostgreSQL (files in ${dataDir})`)
      assert.match(first.stdout, /boot #1 on /)
      assert.match(first.stdout, /archive: 3 day\(s\), \d+ rows moved to archive\/logs\//)
      assert.isTrue(existsSync(join(dataDir, "archive", "logs")))
      assert.isFalse(existsSync(join(dataDir, "nerve.db")), "no SQLite database is made")
      const second = yield* Effect.promise(() => daemon(dataDir))
      assert.strictEqual(second.code, 0, second.stderr)
      assert.match(second.stdout, /boot #2 on /)
      assert.match(second.stdout, /recovered 1 orphaned run\(s\) \(deploy-b1-orphan\)/)
    }), 300_000)
})
