/**
 * Day files that are not what they say (issue 19, items 1 and 4): a FIFO, a link to /dev/zero or
 * a huge sparse file in place of a recorded day file. `readDay`, `restore` and `archive` must end
 * with a typed `ArchiveError` — never hang (a FIFO opened blocking held a thread-pool thread for
 * good), never follow the link, never die with a defect (`RangeError: Invalid string length`).
 * Each case runs in a child process killed after a hard time limit, so a hang fails the test
 * instead of hanging the suite.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Stream } from "effect"
import { spawn } from "node:child_process"
import { execFileSync } from "node:child_process"
import { rmSync, symlinkSync, truncateSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { MAX_LINE_CHARS, decodeDayFile } from "../../src/archive/DayFile.ts"
import { LogArchive } from "../../src/LogArchive.ts"
import { LogStore } from "../../src/LogStore.ts"
import { utcDayStartMs } from "../../src/domain/UtcDay.ts"
import { liveArchiveStack } from "../support/archiveStack.ts"
import { makeTempDir } from "../support/tempDir.ts"

const NOW = Date.UTC(2024, 2, 31, 12)
const DAY = "2024-01-05"
/** Generous: the child needs a few seconds; a hang is forever. */
const HARD_LIMIT_MS = 60_000

interface ChildResult {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

/** Runs the fixture on `dir`, killing it (and failing) after `HARD_LIMIT_MS`. */
const runChild = (dir: string): Promise<ChildResult> =>
  new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ["--conditions=source", join(import.meta.dirname, "..", "fixtures", "hostile-day-file.ts"), dir, DAY, String(NOW)],
      { stdio: ["ignore", "pipe", "pipe"] }
    )
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (chunk: Buffer) => void (stdout += chunk.toString()))
    child.stderr.on("data", (chunk: Buffer) => void (stderr += chunk.toString()))
    const timer = setTimeout(() => {
      child.kill("SIGKILL")
      reject(new Error(`the child did not finish within ${HARD_LIMIT_MS} ms (hung); it printed: ${stdout}${stderr}`))
    }, HARD_LIMIT_MS)
    child.on("error", (error) => {
      clearTimeout(timer)
      reject(error)
    })
    child.on("exit", (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr })
    })
  })

/** A data folder with `DAY` archived (and a later row of that day in SQLite), its day file replaced by `plant`. */
const prepare = (plant: (file: string) => void) =>
  Effect.gen(function*() {
    const dir = makeTempDir("nerve-hostile-day-")
    yield* Effect.gen(function*() {
      const log = yield* LogStore
      const archive = yield* LogArchive
      const row = (i: number) => ({ source: "s", type: "t", payload: `p${i}`, timestamp: utcDayStartMs(DAY) + i })
      yield* log.appendMany([row(1), row(2), row(3)])
      const [archived] = (yield* archive.archive({ now: NOW })).days
      // A back-dated row: the next archive run must merge into (so first check) the recorded file.
      yield* log.appendMany([row(4)])
      const file = archived?.file ?? ""
      rmSync(file)
      plant(file)
    }).pipe(Effect.provide(liveArchiveStack(dir)))
    return dir
  })

const CASES: ReadonlyArray<readonly [string, (file: string) => void]> = [
  ["a FIFO", (file) => execFileSync("mkfifo", ["-m", "600", file])],
  ["a symbolic link to /dev/zero", (file) => symlinkSync("/dev/zero", file)],
  // 600 MB of NULs, no line break, taking no disk space: more than a JavaScript string can hold.
  ["a 600 MB sparse file (another size than recorded)", (file) => {
    writeFileSync(file, "")
    truncateSync(file, 600 * 1024 * 1024)
  }]
]

describe("a recorded day file that is not a regular file of its recorded size", () => {
  for (const [what, plant] of CASES) {
    it.live(`${what}: readDay, restore and archive end with ArchiveError, unread, and blobs still work`, () =>
      Effect.gen(function*() {
        const dir = yield* prepare(plant)
        const result = yield* Effect.promise(() => runChild(dir))
        assert.strictEqual(result.code, 0, result.stderr)
        const lines = result.stdout.split("\n").filter((line) => line.startsWith("result ")).map((line) => line.slice("result ".length))
        assert.deepStrictEqual(lines.map((line) => line.split(" ").slice(0, 2).join(" ")), [
          "readDay ArchiveError",
          "restore ArchiveError",
          "archive ArchiveError",
          "blobs ok",
          "done"
        ], result.stdout)
      }), HARD_LIMIT_MS + 30_000)
  }
})

describe("a day file line longer than the bound", () => {
  it.effect("fails with ArchiveError naming the line, before the line is assembled (never a RangeError)", () =>
    Effect.gen(function*() {
      const long = JSON.stringify({ id: 2, source: "s", type: "t", payload: "x".repeat(5000), timestamp: utcDayStartMs(DAY) })
      const short = JSON.stringify({ id: 1, source: "s", type: "t", payload: "p", timestamp: utcDayStartMs(DAY) })
      const bytes = new TextEncoder().encode(`${short}\n${long}\n`)
      // Split into small chunks: the bound holds across chunks.
      const chunks = Array.from({ length: Math.ceil(bytes.byteLength / 100) }, (_, i) => bytes.subarray(i * 100, (i + 1) * 100))
      const error = yield* Effect.flip(Stream.runCollect(decodeDayFile("day.jsonl", "day.jsonl", Stream.fromIterable(chunks), undefined, { maxLineChars: 1000 })))
      assert.strictEqual(error._tag, "ArchiveError")
      assert.strictEqual(error.reason, "corrupt")
      assert.strictEqual(error.line, 2)
      assert.include(error.message, "longer than 1000 characters")
      // Under the bound, the same content reads.
      const read = yield* Stream.runCollect(decodeDayFile("day.jsonl", "day.jsonl", Stream.fromIterable(chunks), undefined, { maxLineChars: 5100 }))
      assert.deepStrictEqual(read.map((l) => l.line), [1, 2])
      // The default stays below what V8 can hold in one string (2^29 - 24 code units).
      assert.isBelow(MAX_LINE_CHARS, 2 ** 29 - 24)
    }))
})
