import { assert, describe, it } from "@effect/vitest"
import { NodeServices } from "@effect/platform-node"
import { Effect, FileSystem, Layer, Stream } from "effect"
import * as PlatformError from "effect/PlatformError"
import { TestClock } from "effect/testing"
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, utimesSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { gzipSync } from "node:zlib"
import { MAX_TIMESTAMP_MS } from "../../schema/Primitives.ts"
import { CHECKPOINT_AFTER_ROWS } from "../../src/archive/ArchiveRun.ts"
import { LogArchive } from "../../src/LogArchive.ts"
import { LogStore } from "../../src/LogStore.ts"
import { Sqlite } from "../../src/sqlite/Sqlite.ts"
import {
  compareIsoDays,
  DEFAULT_LOG_RETENTION_MS,
  lastArchivableUtcDay,
  LOG_ARCHIVE_META_KEY,
  nextUtcDay,
  prevUtcDay,
  utcDateStringFromMs,
  utcDayEndExclusiveMs,
  utcDayStartMs
} from "../../src/domain/UtcDay.ts"
import { liveArchiveStack } from "../support/archiveStack.ts"
import { makeTempDir } from "../support/tempDir.ts"

const NOW = Date.UTC(2024, 2, 31, 12)

// Lines exactly as nerve-store 0.5 wrote them: JSON.stringify of the row object, one per line.
const legacyLines = [
  { id: 7, source: "workflow", type: "started", refId: "run-1", payload: "{\"prompt\":\"hi\",\"maxRounds\":3}", timestamp: Date.UTC(2023, 11, 1, 8) },
  { id: 9, source: "daemon", type: "boot", refId: null, payload: null, timestamp: Date.UTC(2023, 11, 1, 9) }
]

describe("LogArchive files", () => {
  it.effect("a run removes temp files older than an hour (left by a killed run) and keeps younger ones, whatever its `now`", () =>
    Effect.gen(function*() {
      const dir = makeTempDir("nerve-archive-temps-")
      const logs = join(dir, "archive", "logs")
      mkdirSync(logs, { recursive: true })
      const stale = join(logs, ".tmp.00112233445566778899aabbccddeeff")
      const young = join(logs, ".tmp.ffeeddccbbaa99887766554433221100")
      writeFileSync(stale, "half a day file")
      writeFileSync(young, "a concurrent run's file")
      // File times are real time: the sweep compares them with the wall clock, not the run's `now`.
      const realNow = Date.now()
      utimesSync(stale, new Date(realNow - 2 * 60 * 60 * 1000), new Date(realNow - 2 * 60 * 60 * 1000))
      utimesSync(young, new Date(realNow - 5 * 60 * 1000), new Date(realNow - 5 * 60 * 1000))
      yield* Effect.gen(function*() {
        const archive = yield* LogArchive
        yield* archive.archive({ now: NOW })
        assert.isFalse(existsSync(stale))
        assert.isTrue(existsSync(young))
        // A `now` far in the future (or a TestClock) must not make a live run's temp file look stale.
        yield* archive.archive({ now: Date.UTC(2200, 0, 1) })
        yield* TestClock.setTime(Date.UTC(2300, 0, 1))
        yield* archive.archive()
        assert.isTrue(existsSync(young))
      }).pipe(Effect.provide(liveArchiveStack(dir)))
    }))

  it.effect("reads a day file written by nerve-store 0.5 (no manifest row) and lists it", () =>
    Effect.gen(function*() {
      const dir = makeTempDir("nerve-archive-files-")
      const logs = join(dir, "archive", "logs")
      mkdirSync(logs, { recursive: true })
      writeFileSync(join(logs, "2023-12-01.jsonl"), legacyLines.map((l) => JSON.stringify(l)).join("\n") + "\n")
      writeFileSync(join(logs, "2023-12-02.jsonl.gz"), gzipSync(JSON.stringify({ ...legacyLines[1], id: 10 }) + "\n"))
      writeFileSync(join(logs, "notes.txt"), "not a day file")
      yield* Effect.gen(function*() {
        const archive = yield* LogArchive
        const days = yield* archive.days()
        assert.deepStrictEqual(days.map((d) => [d.day, d.compressed, d.lineCount, d.sha256, d.status]), [
          ["2023-12-01", false, null, null, "unrecorded"],
          ["2023-12-02", true, null, null, "unrecorded"]
        ])
        assert.deepStrictEqual(yield* Stream.runCollect(archive.readDay("2023-12-01")), legacyLines)
        assert.deepStrictEqual((yield* Stream.runCollect(archive.readDay("2023-12-02"))).map((e) => e.id), [10])
        // A 0.5 watermark is respected and never moved backwards.
        const sql = yield* Sqlite
        yield* sql.run("INSERT INTO meta (key, value) VALUES (?, ?)", [LOG_ARCHIVE_META_KEY, "2024-03-10"])
        const log = yield* LogStore
        yield* log.append({ source: "s", type: "t", timestamp: Date.UTC(2023, 11, 1, 10) })
        const result = yield* archive.archive({ now: NOW })
        assert.deepStrictEqual(result.days.map((d) => [d.day, d.rowCount, d.lineCount]), [["2023-12-01", 1, 3]])
        assert.strictEqual(String((yield* sql.get("SELECT value FROM meta WHERE key = ?", [LOG_ARCHIVE_META_KEY]))?.value), "2024-03-10")
        // The merged file keeps the 0.5 line format.
        const text = readFileSync(join(logs, "2023-12-01.jsonl"), "utf8")
        assert.include(text, JSON.stringify(legacyLines[0]) + "\n")
        assert.isTrue(text.endsWith("\n"))
      }).pipe(Effect.provide(liveArchiveStack(dir)))
    }))

  it.effect("a file that no longer matches its manifest sha256 is detected and restores nothing", () =>
    Effect.gen(function*() {
      const dir = makeTempDir("nerve-archive-files-")
      yield* Effect.gen(function*() {
        const log = yield* LogStore
        const archive = yield* LogArchive
        yield* log.appendMany([1, 2, 3].map((i) => ({ source: "s", type: "t", payload: `p${i}`, timestamp: Date.UTC(2024, 0, 5, i) })))
        const [day] = (yield* archive.archive({ now: NOW })).days
        const path = day?.file ?? ""
        // Same size, one byte changed: still valid JSON lines, but not what was archived.
        writeFileSync(path, readFileSync(path, "utf8").replace("p2", "p9"))
        const error = yield* Effect.flip(Stream.runCollect(archive.readDay("2024-01-05")))
        assert.strictEqual(error._tag, "ArchiveError")
        assert.include(error.message, "does not match the manifest")
        const restoreError = yield* Effect.flip(archive.restore("2024-01-05"))
        assert.strictEqual(restoreError._tag, "ArchiveError")
        assert.strictEqual((yield* log.query({})).length, 0)
      }).pipe(Effect.provide(liveArchiveStack(dir)))
    }))
})

const bigDay = (day: string, rows: number, payloadBytes = 200) =>
  Array.from({ length: rows }, (_, i) => ({ source: "s", type: "t", payload: `${i}:${"x".repeat(payloadBytes)}`, timestamp: utcDayStartMs(day) + i }))

/** A Node file system whose `rename`, or `open` of a new temp file (flag `wx`), fails while `fault.on` names it. */
const faultyPlatform = (fault: { on: "rename" | "open-temp" | undefined }) =>
  Layer.effect(
    FileSystem.FileSystem,
    Effect.map(FileSystem.FileSystem, (fs) =>
      FileSystem.FileSystem.of({
        ...fs,
        rename: (from, to) =>
          fault.on === "rename"
            ? Effect.fail(PlatformError.systemError({ _tag: "PermissionDenied", module: "FileSystem", method: "rename", pathOrDescriptor: from, description: "injected fault" }))
            : fs.rename(from, to),
        open: (path, options) =>
          fault.on === "open-temp" && options?.flag === "wx"
            ? Effect.fail(PlatformError.systemError({ _tag: "PermissionDenied", module: "FileSystem", method: "open", pathOrDescriptor: path, description: "injected fault" }))
            : fs.open(path, options)
      }))
  ).pipe(Layer.provideMerge(NodeServices.layer))

describe("LogArchive on the file system: WAL, VACUUM and I/O failures", () => {
  it.effect(`after archiving a day of ${CHECKPOINT_AFTER_ROWS * 2} rows the WAL is checkpointed down to nothing`, () =>
    Effect.gen(function*() {
      const dir = makeTempDir("nerve-archive-wal-")
      yield* Effect.gen(function*() {
        const log = yield* LogStore
        const archive = yield* LogArchive
        yield* log.appendMany(bigDay("2024-01-01", CHECKPOINT_AFTER_ROWS * 2))
        const before = statSync(join(dir, "nerve.db-wal")).size
        const result = yield* archive.archive({ now: NOW })
        assert.deepStrictEqual(result.days.map((d) => d.rowCount), [CHECKPOINT_AFTER_ROWS * 2])
        assert.isAbove(before, 1024 * 1024)
        assert.strictEqual(statSync(join(dir, "nerve.db-wal")).size, 0)
      }).pipe(Effect.provide(liveArchiveStack(dir)))
    }))

  it.effect("VACUUM after a big delete leaves no free pages and a smaller file (and an empty WAL)", () =>
    Effect.gen(function*() {
      const dir = makeTempDir("nerve-archive-vacuum-")
      yield* Effect.gen(function*() {
        const log = yield* LogStore
        const archive = yield* LogArchive
        const sql = yield* Sqlite
        const pragma = (name: string) => Effect.map(sql.get(`PRAGMA ${name}`), (row) => Number(row?.[name]))
        yield* log.appendMany([...bigDay("2024-01-01", 20_000), ...bigDay("2024-03-30", 100)])
        yield* archive.archive({ now: NOW })
        const freeAfterDelete = yield* pragma("freelist_count")
        const pagesAfterDelete = yield* pragma("page_count")
        assert.isAbove(freeAfterDelete, 100, "the delete should leave free pages")
        const result = yield* archive.archive({ now: NOW, vacuum: true })
        assert.isTrue(result.vacuumed)
        assert.strictEqual(yield* pragma("freelist_count"), 0)
        assert.isBelow(yield* pragma("page_count"), pagesAfterDelete - freeAfterDelete / 2)
        assert.strictEqual(statSync(join(dir, "nerve.db-wal")).size, 0)
        assert.strictEqual((yield* log.query({})).length, 100)
      }).pipe(Effect.provide(liveArchiveStack(dir)))
    }))

  for (const on of ["rename", "open-temp"] as const) {
    it.effect(`an injected I/O failure (${on}) fails the run with ArchiveError, deletes nothing and leaves no file`, () =>
      Effect.gen(function*() {
        const dir = makeTempDir("nerve-archive-fault-")
        const fault: { on: "rename" | "open-temp" | undefined } = { on: undefined }
        yield* Effect.gen(function*() {
          const log = yield* LogStore
          const archive = yield* LogArchive
          const rows = yield* log.appendMany([...bigDay("2024-01-01", 5000, 20), ...bigDay("2024-01-02", 10, 20)])
          fault.on = on
          const error = yield* Effect.flip(archive.archive({ now: NOW }))
          assert.strictEqual(error._tag, "ArchiveError")
          assert.include(error.message, "injected fault")
          assert.deepStrictEqual((yield* log.query({ limit: 10_000 })).map((e) => e.id), rows.map((e) => e.id))
          assert.deepStrictEqual(readdirSync(join(dir, "archive", "logs")), [])
          assert.deepStrictEqual(yield* archive.days(), [])
          // Once the fault is gone, a run finishes the job.
          fault.on = undefined
          const result = yield* archive.archive({ now: NOW })
          assert.deepStrictEqual(result.days.map((d) => [d.day, d.rowCount]), [["2024-01-01", 5000], ["2024-01-02", 10]])
          assert.deepStrictEqual(yield* log.query({}), [])
        }).pipe(Effect.provide(liveArchiveStack(dir, faultyPlatform(fault))))
      }))
  }
})

describe("UTC days", () => {
  it("are computed in UTC, across months and leap days", () => {
    assert.strictEqual(utcDateStringFromMs(Date.UTC(2024, 1, 29, 23, 59, 59, 999)), "2024-02-29")
    assert.strictEqual(utcDayStartMs("2024-03-01"), Date.UTC(2024, 2, 1))
    assert.strictEqual(utcDayEndExclusiveMs("2024-02-29"), Date.UTC(2024, 2, 1))
    assert.strictEqual(prevUtcDay("2024-03-01"), "2024-02-29")
    assert.strictEqual(nextUtcDay("2023-12-31"), "2024-01-01")
    assert.strictEqual(lastArchivableUtcDay(NOW, DEFAULT_LOG_RETENTION_MS), "2024-02-29")
    assert.strictEqual(lastArchivableUtcDay(Date.UTC(2024, 2, 31), 0), "2024-03-30")
    assert.strictEqual(DEFAULT_LOG_RETENTION_MS, 30 * 86_400_000)
    // Every finite input gives a day a YYYY-MM-DD string can name.
    assert.strictEqual(lastArchivableUtcDay(MAX_TIMESTAMP_MS, 0), "9999-12-31")
    assert.strictEqual(lastArchivableUtcDay(0, MAX_TIMESTAMP_MS), "0000-01-01")
    assert.strictEqual(lastArchivableUtcDay(0, 0), "1969-12-31")
    assert.strictEqual(lastArchivableUtcDay(Date.UTC(2024, 0, 1), -DEFAULT_LOG_RETENTION_MS), "2024-01-30")
    assert.deepStrictEqual(["2024-01-02", "2023-12-31", "2024-01-01"].sort(compareIsoDays), ["2023-12-31", "2024-01-01", "2024-01-02"])
    assert.strictEqual(compareIsoDays("2024-01-01", "2024-01-01"), 0)
  })
})
