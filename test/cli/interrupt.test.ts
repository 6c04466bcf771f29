// Issue 18 item 10: Ctrl-C prints a partial result where a command has one. `archive` interrupted
// after its first day prints the summary of the days it finished (and they are on disk), exit 130.
import { assert, beforeAll, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { spawn } from "node:child_process"
import { CliOutput, LogStore } from "../../src/index.ts"
import { NerveStoreLive } from "../../layers/index.ts"
import { makeTempDir } from "../support/tempDir.ts"
import { cli, decodeJson, MAIN } from "./run.ts"
import { DAY_MS } from "./seed.ts"

const DAYS = 40
let dataDir = ""

beforeAll(async () => {
  dataDir = makeTempDir("nerve-cli-interrupt-")
  const today = Math.floor(Date.now() / DAY_MS) * DAY_MS
  await Effect.runPromise(Effect.gen(function*() {
    const log = yield* LogStore
    for (let d = 0; d < DAYS; d++) {
      const start = today - (100 - d) * DAY_MS
      yield* log.appendMany(Array.from({ length: 2_000 }, (_, i) => ({ source: "load", type: "row", payload: JSON.stringify({ d, i }), timestamp: start + i })))
    }
  }).pipe(Effect.provide(NerveStoreLive({ dataDir }))))
})

describe("Ctrl-C", () => {
  it.live("interrupting archive prints the summary of the days done so far", () =>
    Effect.gen(function*() {
      const result = yield* Effect.promise(() =>
        new Promise<{ code: number | null; stdout: string }>((resolve, reject) => {
          const child = spawn(process.execPath, ["--conditions=source", MAIN, "--data-dir", dataDir, "archive", "--yes"], { stdio: ["ignore", "pipe", "pipe"] })
          let stdout = ""
          let sent = false
          child.stdout.on("data", (chunk: Buffer) => {
            stdout += chunk.toString()
            // The first day is done: Ctrl-C.
            if (!sent && /: archived \d+ rows -> /.test(stdout)) {
              sent = true
              child.kill("SIGINT")
            }
          })
          child.on("error", reject)
          child.on("close", (code) => resolve({ code, stdout }))
        })
      )
      const onDisk = decodeJson(CliOutput.ArchiveDays, (yield* cli(["--data-dir", dataDir, "--json", "archive", "days"])).stdout).days.map((d) => d.day)
      if (result.code === 0) {
        // It finished every day before the signal arrived: nothing was left to interrupt.
        assert.strictEqual(onDisk.length, DAYS)
        return
      }
      assert.strictEqual(result.code, 130, result.stdout)
      assert.match(result.stdout, /\nDAY\s+ROWS\s+LINES\s+SIZE\s+FILE\n/)
      assert.match(result.stdout, new RegExp(`\\n${onDisk.length} day\\(s\\), ${onDisk.length * 2_000} rows archived\\ninterrupted: the day in progress stays in SQLite\\n$`))
      assert.isAtLeast(onDisk.length, 1)
      assert.isBelow(onDisk.length, DAYS)
    }))
})
