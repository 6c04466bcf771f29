// Two archivers on one database at once: fibers of one service, two services on one connection
// (what two processes look like to SQLite, without the in-process permit), and a real child
// process beside this one. No row may be lost, none may be in the file twice, and the day file
// must stay complete.
import { assert, describe, it } from "@effect/vitest"
import { Effect, type Layer, Stream } from "effect"
import { readdirSync } from "node:fs"
import { join } from "node:path"
import type { ArchiveDayResult, ArchiveProgress } from "../../schema/Archive.ts"
import type { DatabaseError } from "../../schema/Errors.ts"
import { readDayLines } from "../../src/archive/DayFile.ts"
import { DayFiles } from "../../src/archive/DayFileStore.ts"
import { isTempName } from "../../src/fs/DurableFile.ts"
import { make as makeLogArchive } from "../../src/archive/LogArchiveLive.ts"
import * as ArchiveRepositorySqlite from "../../src/sqlite/ArchiveRepositorySqlite.ts"
import { LogArchive } from "../../src/LogArchive.ts"
import { LogStore } from "../../src/LogStore.ts"
import { Sqlite } from "../../src/sqlite/Sqlite.ts"
import { utcDayStartMs } from "../../src/domain/UtcDay.ts"
import { type ArchiveStack, liveArchiveStack, memoryArchiveStack } from "../support/archiveStack.ts"
import { spawnFixture, waitForExit, waitForLine } from "../support/child.ts"
import { makeTempDir } from "../support/tempDir.ts"

const NOW = Date.UTC(2024, 2, 31, 12)
const DAY = "2024-01-01"
const ROWS = 20_000

/** ROWS rows on DAY; their ids, ascending. */
const fill = Effect.gen(function*() {
  const log = yield* LogStore
  const entries = Array.from({ length: ROWS }, (_, i) => ({ source: "s", type: "t", payload: `p${i}`, timestamp: utcDayStartMs(DAY) + i }))
  return (yield* log.appendMany(entries)).map((e) => e.id)
})

/**
 * Every id of `ids` is in SQLite or in a day file, exactly once; the day file is complete (it
 * matches its manifest row, which counts its lines); `expectInSqlite` ids are still in SQLite.
 */
const assertNothingLost = (ids: ReadonlyArray<number>, expectInSqlite: ReadonlyArray<number> = []) =>
  Effect.gen(function*() {
    const sql = yield* Sqlite
    const store = yield* DayFiles
    const archive = yield* LogArchive
    const inSqlite = (yield* sql.all("SELECT id FROM logs ORDER BY id")).map((row) => Number(row.id))
    const inFiles: Array<number> = []
    for (const file of yield* store.list) {
      inFiles.push(...(yield* Stream.runCollect(readDayLines(store, file.name))).map((line) => line.entry.id))
    }
    const everywhere = [...inSqlite, ...inFiles].sort((a, b) => a - b)
    assert.strictEqual(everywhere.length, ids.length, "a row was lost or duplicated")
    assert.deepStrictEqual(everywhere, [...ids].sort((a, b) => a - b))
    assert.deepStrictEqual(inSqlite, [...expectInSqlite])
    // readDay checks size and sha256 against the manifest row.
    const read = (yield* Stream.runCollect(archive.readDay(DAY))).map((e) => e.id)
    assert.deepStrictEqual(read, inFiles)
    const [day] = yield* archive.days()
    assert.strictEqual(day?.lineCount, inFiles.length)
  })

const tagsOf = (events: ReadonlyArray<ArchiveProgress>) => [...new Set(events.map((e) => e._tag))]

const contract = (name: string, makeLayer: () => Layer.Layer<ArchiveStack, DatabaseError>) =>
  describe(`LogArchive concurrency (${name})`, () => {
    const test = (title: string, body: () => Effect.Effect<void, unknown, ArchiveStack>) =>
      it.effect(title, () => body().pipe(Effect.provide(makeLayer())), 60_000)

    test(`two fibers archiving a day of ${ROWS} rows at once archive it once and lose nothing`, () =>
      Effect.gen(function*() {
        const archive = yield* LogArchive
        const ids = yield* fill
        const events: [Array<ArchiveProgress>, Array<ArchiveProgress>] = [[], []]
        const run = (i: 0 | 1) => archive.archive({ now: NOW }, (event) => Effect.sync(() => void events[i].push(event)))
        const [a, b] = yield* Effect.all([run(0), run(1)], { concurrency: 2 })
        const done = [...a.days, ...b.days]
        assert.deepStrictEqual(done.map((d) => [d.day, d.rowCount, d.lineCount]), [[DAY, ROWS, ROWS]])
        // The runs took turns: the later one found nothing left to export (the work was not done twice).
        assert.deepStrictEqual(events.map((e) => e.length === 0).sort(), [false, true])
        yield* assertNothingLost(ids)
      }))

    test("a second archiver whose export is overtaken by another run skips the day and publishes nothing", () =>
      Effect.gen(function*() {
        const first = yield* LogArchive
        // A second service on the same connection and store: no shared in-process permit, as
        // another process would be; only the checks under the write lock stand between them.
        const second = yield* makeLogArchive(ArchiveRepositorySqlite.make(yield* Sqlite), yield* DayFiles)
        const ids = yield* fill
        const events: Array<ArchiveProgress> = []
        let overtaken: ReadonlyArray<ArchiveDayResult> = []
        const result = yield* second.archive({ now: NOW }, (event) =>
          Effect.gen(function*() {
            events.push(event)
            if (event._tag !== "DayProgress" || overtaken.length > 0) return
            // The first page is in the second run's temp file: now the first run does the whole day.
            overtaken = (yield* Effect.orDie(first.archive({ now: NOW }))).days
          }))
        assert.deepStrictEqual(overtaken.map((d) => [d.day, d.rowCount]), [[DAY, ROWS]])
        assert.deepStrictEqual(result.days, [])
        assert.deepStrictEqual(tagsOf(events), ["DayStarted", "DayProgress", "DaySkipped"])
        const last = events[events.length - 1]
        assert.strictEqual(last?._tag, "DaySkipped")
        if (last?._tag === "DaySkipped") {
          assert.strictEqual(last.day, DAY)
          assert.include(last.reason, "changed while it was exported")
        }
        yield* assertNothingLost(ids)
      }))

    test("a day whose file changed during the export is skipped, even though its rows did not change", () =>
      Effect.gen(function*() {
        const archive = yield* LogArchive
        const store = yield* DayFiles
        const log = yield* LogStore
        const ids = yield* fill
        yield* archive.archive({ now: NOW })
        const late = yield* log.append({ source: "late", type: "t", timestamp: utcDayStartMs(DAY) + 5 })
        // Another program republishes the day's file (here: the same lines plus one) meanwhile.
        const extra = { id: late.id + 1_000, source: "other", type: "t", refId: null, payload: null, timestamp: utcDayStartMs(DAY) }
        const events: Array<ArchiveProgress> = []
        let planted = false
        const result = yield* archive.archive({ now: NOW }, (event) =>
          Effect.gen(function*() {
            events.push(event)
            if (event._tag !== "DayProgress" || planted) return
            planted = true
            const lines = yield* Effect.orDie(Stream.runCollect(readDayLines(store, `${DAY}.jsonl`)))
            const text = [...lines.map((l) => JSON.stringify(l.entry)), JSON.stringify(extra)].join("\n") + "\n"
            const temp = yield* Effect.orDie(store.writeTemp(Stream.make(new TextEncoder().encode(text))))
            yield* Effect.orDie(store.publish(temp, `${DAY}.jsonl`))
          }))
        assert.deepStrictEqual(result.days, [])
        const skip = events.find((e) => e._tag === "DaySkipped")
        assert.include(skip?._tag === "DaySkipped" ? skip.reason : "", "archive file changed")
        // Nothing was published or deleted by the skipped run: the late row waits in SQLite.
        const sql = yield* Sqlite
        const inSqlite = (yield* sql.all("SELECT id FROM logs")).map((row) => Number(row.id))
        assert.deepStrictEqual(inSqlite, [late.id])
        const inFile = (yield* Stream.runCollect(readDayLines(store, `${DAY}.jsonl`))).map((l) => l.entry.id)
        assert.deepStrictEqual(inFile, [...ids, extra.id])
        // The planted file does not match the manifest: the next run refuses to merge it (no
        // laundering of a file changed outside nerve-store), moves it aside and keeps the row.
        const again = yield* Effect.flip(archive.archive({ now: NOW }))
        assert.strictEqual(again._tag === "ArchiveError" ? again.reason : again._tag, "corrupt")
        assert.deepStrictEqual((yield* sql.all("SELECT id FROM logs")).map((row) => Number(row.id)), [late.id])
        assert.deepStrictEqual((yield* archive.days()).map((d) => d.status), ["quarantined"])
      }))
  })

contract("file system", () => liveArchiveStack(makeTempDir("nerve-archive-")))
contract("memory", memoryArchiveStack)

/** Spawns test/fixtures/archive-run.ts on `dir`, collecting its stdout. */
const spawnArchiver = (dir: string, env: NodeJS.ProcessEnv = {}) => {
  const child = spawnFixture("archive-run.ts", [dir, String(NOW), "none"], env)
  let stdout = ""
  child.stdout?.on("data", (chunk: Buffer) => {
    stdout += chunk.toString()
  })
  const exited = waitForExit(child)
  return { child, exited, stdout: () => stdout }
}

const tempFiles = (dir: string) => readdirSync(join(dir, "archive", "logs")).filter(isTempName)

describe("LogArchive concurrency (a child process archiving the same database)", () => {
  it.live(`the child's export is overtaken by this process: it skips the day, the file keeps all ${ROWS} rows`, () =>
    Effect.gen(function*() {
      const dir = makeTempDir("nerve-archive-race-")
      const ids = yield* fill.pipe(Effect.provide(liveArchiveStack(dir)))
      yield* Effect.gen(function*() {
        const archive = yield* LogArchive
        const other = spawnArchiver(dir, { NERVE_ARCHIVE_PAUSE_MS: "1500" })
        yield* Effect.promise(() => waitForLine(other.child, `exporting ${DAY}`))
        const ours = yield* archive.archive({ now: NOW })
        assert.deepStrictEqual(ours.days.map((d) => [d.day, d.rowCount, d.lineCount]), [[DAY, ROWS, ROWS]])
        const exit = yield* Effect.promise(() => other.exited)
        assert.strictEqual(exit.code, 0, exit.stderr)
        assert.include(other.stdout(), `skipped ${DAY}\n`)
        assert.notInclude(other.stdout(), `finished ${DAY}\n`)
        yield* assertNothingLost(ids)
        assert.deepStrictEqual(tempFiles(dir), [])
      }).pipe(Effect.provide(liveArchiveStack(dir)))
    }), 60_000)

  it.live("both processes archive at once: one of them archives the day, and no row is lost", () =>
    Effect.gen(function*() {
      const dir = makeTempDir("nerve-archive-race-")
      const ids = yield* fill.pipe(Effect.provide(liveArchiveStack(dir)))
      yield* Effect.gen(function*() {
        const archive = yield* LogArchive
        const other = spawnArchiver(dir)
        yield* Effect.promise(() => waitForLine(other.child, `started ${DAY}`))
        const ours = yield* archive.archive({ now: NOW })
        const exit = yield* Effect.promise(() => other.exited)
        assert.strictEqual(exit.code, 0, exit.stderr)
        const theirs = other.stdout().includes(`finished ${DAY}\n`)
        assert.strictEqual(ours.days.length + (theirs ? 1 : 0), 1, other.stdout())
        yield* assertNothingLost(ids)
        assert.deepStrictEqual(tempFiles(dir), [])
      }).pipe(Effect.provide(liveArchiveStack(dir)))
    }), 60_000)
})
