import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { spawn } from "node:child_process"
import { join } from "node:path"
import { DEMO_OWNER } from "../../examples/daemon.ts"
import { CliOutput } from "../../src/index.ts"
import { decodeJson, runCli } from "../cli/run.ts"
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
      assert.match(first.stdout, new RegExp(`as owner ${DEMO_OWNER} \\(boot \\w+\\)`))
      assert.match(first.stdout, new RegExp(`leases: deploy-b1-orphan held by ${DEMO_OWNER}, lease renewed until shutdown \\(it would end in (\\d|10)s\\), then released`))

      const second = yield* Effect.promise(() => npmStart(dataDir))
      assert.strictEqual(second.code, 0, second.stderr)
      assert.match(second.stdout, /boot #2 on /)
      assert.include(
        second.stdout,
        `recovered 1 orphaned run(s) (deploy-b1-orphan), resumed ${count(first.stdout, "interrupted")} interrupted, picked up ${count(first.stdout, "queued")} queued`
      )
      assert.match(second.stdout, /store now: \d+ runs/)
    }))

  it.live("a boot killed with -9 leaves runs whose leases still run; the next boot (same owner name) recovers them at once", () =>
    Effect.gen(function*() {
      const dataDir = join(makeTempDir("nerve-kill-"), "data")
      const killed = spawn(process.execPath, ["--conditions=source", join(ROOT, "examples", "daemon.ts"), "--data-dir", dataDir, "--seconds", "60"], {
        stdio: ["ignore", "pipe", "pipe"]
      })
      const exited = new Promise<void>((resolve, reject) => killed.on("error", reject).on("close", () => resolve()))
      // Wait until the orphan is started (and leased for 10 s), then kill the daemon outright.
      yield* Effect.promise(async () => {
        for (;;) {
          const shown = await runCli(["--data-dir", dataDir, "--json", "runs", "show", "deploy-b1-orphan"])
          if (shown.code === 0) return
          await new Promise((r) => setTimeout(r, 100))
        }
      })
      killed.kill("SIGKILL")
      yield* Effect.promise(() => exited)
      const lease = decodeJson(CliOutput.RunShow, (yield* Effect.promise(() => runCli(["--data-dir", dataDir, "--json", "runs", "show", "deploy-b1-orphan"]))).stdout).lease
      assert.isFalse(lease?.expired, "the killed boot's lease has not expired")
      const next = yield* Effect.promise(() => runCli(["--seconds", "1"], { env: { NERVE_DATA_DIR: dataDir }, script: join(ROOT, "examples", "daemon.ts") }))
      assert.strictEqual(next.code, 0, next.stderr)
      assert.match(next.stdout, /boot #2 on /)
      assert.match(next.stdout, /recovered [1-9]\d* orphaned run\(s\) \([^)]*deploy-b1-orphan/)
    }))
})
