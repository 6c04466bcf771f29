// Issue 18 item 3: a reader that closes the pipe early (`| head`) ends every command quietly with
// exit 0 — no "Unhandled 'error' event … EPIPE" stack trace, no "Unknown: Stdio.stdout". Each
// command prints far more than a pipe buffer holds, so the write after `head` exits does fail.
import { assert, beforeAll, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { BlobStore, LogArchive, LogStore } from "../../src/index.ts"
import { NerveStoreLive } from "../../layers/index.ts"
import { makeTempDir } from "../support/tempDir.ts"
import { CLI, sh } from "./shell.ts"

const ROWS = 6_000
let dataDir = ""
let day = ""
let digest = ""

beforeAll(async () => {
  dataDir = makeTempDir("nerve-cli-pipes-")
  const start = Date.parse("2026-01-10T00:00:00Z")
  day = "2026-01-10"
  await Effect.runPromise(Effect.gen(function*() {
    const log = yield* LogStore
    const rows = (from: number) => Array.from({ length: ROWS }, (_, i) => ({ source: "load", type: "row", payload: JSON.stringify({ i, pad: "x".repeat(60) }), timestamp: from + i }))
    yield* log.appendMany(rows(start))
    yield* (yield* LogArchive).archive({ retentionMs: 86_400_000 })
    yield* log.appendMany(rows(Date.now() - ROWS))
    digest = yield* (yield* BlobStore).write("text line\n".repeat(100_000))
  }).pipe(Effect.provide(NerveStoreLive({ dataDir }))))
})

describe("a closed pipe", () => {
  it.live("ends logs query, logs tail -f, archive read and blobs get quietly with exit 0", () =>
    Effect.gen(function*() {
      const base = `${CLI} --data-dir '${dataDir}'`
      const pipelines = [
        [`${base} logs query --limit ${ROWS} | head -1`, 1],
        [`${base} --json logs query --since 2026-01-01 --limit ${ROWS} | head -1`, 1],
        [`${base} logs tail -f -n ${ROWS} | head -3`, 3],
        [`${base} archive read ${day} | head -2`, 2],
        [`${base} blobs get ${digest} | head -c 300`, 30]
      ] as const
      const results = yield* Effect.forEach(pipelines, ([pipeline]) =>
        Effect.promise(() => sh(`${pipeline}; echo "exit=\${PIPESTATUS[0]}" >&2`)), { concurrency: 2 })
      results.forEach((result, i) => {
        const [pipeline, expectedLines] = pipelines[i] ?? ["", 0]
        assert.strictEqual(result.stderr, "exit=0\n", pipeline)
        assert.strictEqual(result.stdout.split("\n").filter((line) => line !== "").length, expectedLines, pipeline)
      })
    }))
})
