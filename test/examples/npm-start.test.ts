import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { spawn } from "node:child_process"
import { join } from "node:path"
import { makeTempDir } from "../support/tempDir.ts"

const ROOT = join(import.meta.dirname, "..", "..")

/** `npm start` in the repository with NERVE_DATA_DIR pointing at `dataDir`. */
const npmStart = (dataDir: string): Promise<{ readonly code: number | null; readonly stdout: string; readonly stderr: string }> =>
  new Promise((resolve, reject) => {
    const child = spawn("npm", ["start", "--silent", "--", "--seconds", "2"], {
      cwd: ROOT,
      // npm on Node 24 would leave its compile cache in TMPDIR (CI fails on leftovers).
      env: { ...process.env, NERVE_DATA_DIR: dataDir, NODE_DISABLE_COMPILE_CACHE: "1" },
      stdio: ["ignore", "pipe", "pipe"]
    })
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()))
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()))
    child.on("error", reject)
    child.on("close", (code) => resolve({ code, stdout, stderr }))
  })

const count = (report: string, status: string) => Number(new RegExp(`this boot: .*\\b${status} (\\d+)`).exec(report)?.[1] ?? 0)

describe("npm start", () => {
  it.live("runs twice on one data directory; the second boot reports and recovers what the first left", () =>
    Effect.gen(function*() {
      const dataDir = join(makeTempDir("nerve-start-"), "data")
      const first = yield* Effect.promise(() => npmStart(dataDir))
      assert.strictEqual(first.code, 0, first.stderr)
      assert.match(first.stdout, /boot #1 on /)
      assert.match(first.stdout, /recovered 0 orphaned run\(s\) \(none\), resumed 0 interrupted, picked up 0 queued/)
      assert.include(first.stdout, `npx nerve-store --data-dir ${dataDir} runs list`)

      const second = yield* Effect.promise(() => npmStart(dataDir))
      assert.strictEqual(second.code, 0, second.stderr)
      assert.match(second.stdout, /boot #2 on /)
      assert.include(
        second.stdout,
        `recovered 1 orphaned run(s) (deploy-b1-orphan), resumed ${count(first.stdout, "interrupted")} interrupted, picked up ${count(first.stdout, "queued")} queued`
      )
      assert.match(second.stdout, /store now: \d+ runs/)
    }))
})
