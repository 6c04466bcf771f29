import { assert, describe, it } from "@effect/vitest"
import { Effect, Stream } from "effect"
import { readdirSync } from "node:fs"
import { join } from "node:path"
import { DayFiles } from "../../src/archive/DayFileStore.ts"
import { readDayLines } from "../../src/archive/DayFile.ts"
import type { ArchiveStage } from "../../src/archive/FaultHook.ts"
import { LogArchive } from "../../src/LogArchive.ts"
import { LogStore } from "../../src/LogStore.ts"
import { Sqlite } from "../../src/sqlite/Sqlite.ts"
import { isTempName } from "../../src/fs/DurableFile.ts"
import { utcDayStartMs } from "../../src/domain/UtcDay.ts"
import { liveArchiveStack } from "../support/archiveStack.ts"
import { spawnFixture, waitForExit } from "../support/child.ts"
import { makeTempDir } from "../support/tempDir.ts"

const NOW = Date.UTC(2024, 2, 31, 12)
const STAGES: ReadonlyArray<ArchiveStage> = ["after-temp-write", "after-rename", "after-manifest", "inside-delete", "after-delete-step"]

/** Every log id: in SQLite, and in each published day file (decoded line by line, without trusting the manifest). */
const inventory = Effect.gen(function*() {
  const sql = yield* Sqlite
  const store = yield* DayFiles
  const inSqlite = (yield* sql.all("SELECT id FROM logs")).map((row) => Number(row.id))
  const inFiles: Array<number> = []
  for (const file of yield* store.list) {
    const lines = yield* Stream.runCollect(readDayLines(store, file.name))
    inFiles.push(...lines.map((line) => line.entry.id))
  }
  return { inSqlite, inFiles }
})

const prepare = (dir: string) =>
  Effect.gen(function*() {
    const log = yield* LogStore
    const archive = yield* LogArchive
    const rows = (day: string, n: number) =>
      Array.from({ length: n }, (_, i) => ({ source: "s", type: "t", payload: `${day}:${i}`, timestamp: utcDayStartMs(day) + i }))
    // Day 1 is archived already, then gets a back-dated row (the merge path); days 2 and 3 are new.
    const first = yield* log.appendMany(rows("2024-01-01", 300))
    yield* archive.archive({ now: NOW })
    const later = yield* log.appendMany([...rows("2024-01-01", 5), ...rows("2024-01-02", 2000), ...rows("2024-01-03", 10)])
    return [...first, ...later].map((e) => e.id)
  }).pipe(Effect.provide(liveArchiveStack(dir)))

const runChild = (dir: string, crashAt: ArchiveStage | undefined, compress: "none" | "gzip") =>
  Effect.promise(() => {
    const child = spawnFixture("archive-run.ts", [dir, String(NOW), compress], crashAt === undefined ? {} : { NERVE_ARCHIVE_CRASH_AT: crashAt })
    return Promise.all([
      waitForExit(child),
      new Promise<NodeJS.Signals | null>((resolve) => child.on("exit", (_code, signal) => resolve(signal)))
    ])
  })

describe("LogArchive crash safety (a real child process, SIGKILLed at each stage)", () => {
  for (const compress of ["none", "gzip"] as const) {
    for (const stage of STAGES) {
      it.effect(`killed ${stage} (${compress}): every row is in SQLite or a complete file, and a re-run finishes the job`, () =>
        Effect.gen(function*() {
          const dir = makeTempDir("nerve-archive-crash-")
          const ids = yield* prepare(dir)

          const [exit, signal] = yield* runChild(dir, stage, compress)
          assert.strictEqual(signal, "SIGKILL", exit.stderr)

          const afterCrash = yield* inventory.pipe(Effect.provide(liveArchiveStack(dir)))
          const held = new Set([...afterCrash.inSqlite, ...afterCrash.inFiles])
          assert.deepStrictEqual(ids.filter((id) => !held.has(id)), [], "rows lost")

          const [rerun, rerunSignal] = yield* runChild(dir, undefined, compress)
          assert.strictEqual(rerun.code, 0, rerun.stderr)
          assert.isNull(rerunSignal)

          const final = yield* Effect.gen(function*() {
            const archive = yield* LogArchive
            const days = yield* archive.days()
            const read: Array<number> = []
            for (const day of days) read.push(...(yield* Stream.runCollect(archive.readDay(day.day))).map((e) => e.id))
            return { days, read, ...(yield* inventory) }
          }).pipe(Effect.provide(liveArchiveStack(dir)))
          assert.deepStrictEqual(final.inSqlite, [])
          assert.deepStrictEqual([...final.read].sort((a, b) => a - b), [...ids].sort((a, b) => a - b))
          assert.deepStrictEqual(final.days.map((d) => d.day), ["2024-01-01", "2024-01-02", "2024-01-03"])
          assert.isTrue(final.days.every((d) => d.sha256 !== null && d.lineCount !== null && d.status === "ok"))
          // Leftover temp files are allowed; partial files under a final name are not (checked by decoding above).
          const names = readdirSync(join(dir, "archive", "logs")).filter((name) => !isTempName(name))
          assert.isTrue(names.every((name) => /^\d{4}-\d{2}-\d{2}\.jsonl(\.gz)?$/.test(name)), names.join(","))
        }))
    }
  }
})
