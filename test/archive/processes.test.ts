// A reader in another process while this one archives the same day again and again (issue 11,
// bug 2): every read sees the old or the new day, never "missing", a mismatch or a raw NotFound.
import { assert, describe, it } from "@effect/vitest"
import { Effect, Stream } from "effect"
import { writeFileSync } from "node:fs"
import { join } from "node:path"
import { LogArchive } from "../../src/LogArchive.ts"
import { LogStore } from "../../src/LogStore.ts"
import { utcDayStartMs } from "../../src/domain/UtcDay.ts"
import { liveArchiveStack } from "../support/archiveStack.ts"
import { spawnFixture, waitForExit, waitForLine } from "../support/child.ts"
import { makeTempDir } from "../support/tempDir.ts"

const NOW = Date.UTC(2024, 2, 31, 12)
const DAY = "2024-01-01"
const ROUNDS = 25

describe("LogArchive with a reader in another process", () => {
  it.effect(`readDay in a child never fails while this process re-archives the day ${ROUNDS} times (plain and gzip)`, () =>
    Effect.gen(function*() {
      const dir = makeTempDir("nerve-archive-reader-")
      const stopFile = join(dir, "stop")
      yield* Effect.gen(function*() {
        const log = yield* LogStore
        const archive = yield* LogArchive
        const rows = (n: number, from: number) =>
          Array.from({ length: n }, (_, i) => ({ source: "s", type: "t", payload: `${from + i}`, timestamp: utcDayStartMs(DAY) + from + i }))
        const ids = (yield* log.appendMany(rows(2000, 0))).map((e) => e.id)
        yield* archive.archive({ now: NOW })
        const child = spawnFixture("archive-reader.ts", [dir, DAY, stopFile])
        let stdout = ""
        child.stdout?.on("data", (chunk: Buffer) => {
          stdout += chunk.toString()
        })
        const exited = waitForExit(child)
        yield* Effect.promise(() => waitForLine(child, "ready"))
        for (let round = 0; round < ROUNDS; round++) {
          ids.push(...(yield* log.appendMany(rows(50, 2000 + round * 50))).map((e) => e.id))
          // Switching the format each round also removes the other file: the reader's file vanishes.
          yield* archive.archive({ now: NOW, compress: round % 2 === 0 ? "gzip" : "none" })
        }
        writeFileSync(stopFile, "")
        const exit = yield* Effect.promise(() => exited)
        assert.strictEqual(exit.code, 0, exit.stderr)
        const counts = /reads (\d+) (\d+)/.exec(stdout)
        assert.isAbove(Number(counts?.[1]), 0, stdout)
        assert.strictEqual(Number(counts?.[2]), 0, stdout)
        const read = (yield* Stream.runCollect(archive.readDay(DAY))).map((e) => e.id)
        assert.deepStrictEqual(read, ids)
      }).pipe(Effect.provide(liveArchiveStack(dir)))
    }), 120_000)
})
