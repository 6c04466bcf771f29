import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { spawn } from "node:child_process"
import { join } from "node:path"
import { waitForExit } from "../support/child.ts"
import { makeTempDir } from "../support/tempDir.ts"

const ROWS = 1_000_000
const MiB = 1024 * 1024

const run = (args: ReadonlyArray<string>) =>
  Effect.promise(async () => {
    const child = spawn(process.execPath, ["--conditions=source", "--expose-gc", join(import.meta.dirname, "..", "fixtures", "archive-rss.ts"), ...args], {
      stdio: ["ignore", "pipe", "pipe"]
    })
    let stdout = ""
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString()
    })
    const exit = await waitForExit(child)
    return { ...exit, stdout }
  })

describe("LogArchive memory", () => {
  it.effect("a day of 1,000,000 rows archives with peak RSS growth under 100 MiB (child process)", () =>
    Effect.gen(function*() {
      const dir = makeTempDir("nerve-archive-rss-")
      const prepared = yield* run(["prepare", dir, String(ROWS)])
      assert.strictEqual(prepared.code, 0, prepared.stderr)
      const archived = yield* run(["archive", dir])
      assert.strictEqual(archived.code, 0, archived.stderr)
      const rows = /rows (\d+)/.exec(archived.stdout)
      const rss = /rss (\d+) (\d+)/.exec(archived.stdout)
      assert.strictEqual(Number(rows?.[1]), ROWS)
      const growth = Number(rss?.[2]) - Number(rss?.[1])
      assert.isBelow(growth, 100 * MiB, `peak RSS grew by ${(growth / MiB).toFixed(1)} MiB`)
    }), 900_000) // a guard against a hang, not a timing check: on a loaded machine the million rows take minutes
})
