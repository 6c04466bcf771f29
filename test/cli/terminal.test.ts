import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { spawn } from "node:child_process"
import { appendFileSync } from "node:fs"
import { join } from "node:path"
import { makeTempDir } from "../support/tempDir.ts"
import { MAIN, ROOT } from "./run.ts"
import { appendLate, OLD_ROWS, seed } from "./seed.ts"

/** Runs a shell command in a real pseudo-terminal (`script` from util-linux) and returns what it drew. */
const inTerminal = (command: string): Promise<{ readonly code: number | null; readonly output: string }> =>
  new Promise((resolve, reject) => {
    const child = spawn("script", ["-qefc", command, "/dev/null"], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] })
    let output = ""
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()))
    child.on("error", reject)
    child.on("close", (code) => resolve({ code, output }))
  })

describe("on a terminal", () => {
  it.live("archive draws a progress bar per day in place, then the summary table; a failing day is cleared and named", () =>
    Effect.gen(function*() {
      const dir = makeTempDir("nerve-cli-tty-")
      const { oldDays } = yield* Effect.promise(() => seed(dir))
      const { code, output } = yield* Effect.promise(() => inTerminal(`'${process.execPath}' --conditions=source '${MAIN}' --data-dir '${dir}' archive --yes`))
      assert.strictEqual(code, 0, output)
      for (const day of oldDays) {
        // Drawn at 0% with \r, then redrawn in place at 100% on the same line.
        assert.include(output, `\r${day} [${"-".repeat(30)}]   0% 0/${OLD_ROWS} rows`)
        assert.include(output, `\r${day} [${"#".repeat(30)}] 100% ${OLD_ROWS}/${OLD_ROWS} rows -> `)
        assert.notInclude(output, `${day}: archiving`)
      }
      assert.match(output, /DAY\s+ROWS\s+LINES\s+SIZE\s+FILE/)

      // A day file changed outside nerve-store, and a new row for that day: the day fails.
      const [day = ""] = oldDays
      yield* Effect.sync(() => appendFileSync(join(dir, "archive", "logs", `${day}.jsonl`), "tampered\n"))
      yield* Effect.promise(() => appendLate(dir, Date.parse(`${day}T12:00:00Z`)))
      const failing = yield* Effect.promise(() => inTerminal(`'${process.execPath}' --conditions=source '${MAIN}' --data-dir '${dir}' archive --yes`))
      assert.strictEqual(failing.code, 1, failing.output)
      assert.include(failing.output, `\r\x1b[2K${day}: FAILED (`)
      assert.match(failing.output, new RegExp(`FAILED DAY\\s+ERROR\\s+MESSAGE\\r?\\n${day}\\s`))
    }))
})
