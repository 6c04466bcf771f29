// `npm start -- --database-url <url> --data-dir <dir>` (examples/daemon.ts on NerveStorePg): the
// demo daemon runs on PostgreSQL, its files in the data directory, and a second boot recovers what
// the first left (the same report as on SQLite).
import { assert, describe, it } from "@effect/vitest"
import { Effect, Redacted } from "effect"
import { spawn } from "node:child_process"
import { existsSync } from "node:fs"
import { join } from "node:path"
import { freshPgDatabase } from "../support/pgDatabase.ts"
import { makeTempDir } from "../support/tempDir.ts"

const ROOT = join(import.meta.dirname, "..", "..")
const database = freshPgDatabase()

/** The daemon demo on the test file's database; a hang guard kills it after 120 s. */
const daemon = (dataDir: string): Promise<{ readonly code: number | null; readonly stdout: string; readonly stderr: string }> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [
      "--conditions=source", join(ROOT, "examples", "daemon.ts"),
      "--database-url", Redacted.value(database.url()), "--data-dir", dataDir, "--seconds", "2"
    ], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] })
    let stdout = ""
    let stderr = ""
    const guard = setTimeout(() => {
      child.kill("SIGKILL")
      reject(new Error(`examples/daemon.ts hung:\n${stdout}\n${stderr}`))
    }, 120_000)
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()))
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()))
    child.on("error", (error) => {
      clearTimeout(guard)
      reject(error)
    })
    child.on("close", (code) => {
      clearTimeout(guard)
      resolve({ code, stdout, stderr })
    })
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
