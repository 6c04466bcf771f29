// What an attack on the archive found (issue 11), kept as tests: byte-bounded export pages, one
// bad day never blocking the others, tampered or missing files never laundered, interrupted
// publishes recognised, readers that see the old or the new day, and restored days held back.
import { assert, describe, it } from "@effect/vitest"
import { Effect, type Layer, Option, Stream, type Tracer } from "effect"
import { TestClock } from "effect/testing"
import { gzipSync } from "node:zlib"
import type { ArchiveProgress } from "../../schema/Archive.ts"
import { ArchiveError, type DatabaseError } from "../../schema/Errors.ts"
import { DayFiles, type DayFileStore } from "../../src/archive/DayFileStore.ts"
import { ArchiveFaultHook } from "../../src/archive/FaultHook.ts"
import { make as makeLogArchive } from "../../src/archive/LogArchiveLive.ts"
import * as ArchiveRepositorySqlite from "../../src/sqlite/ArchiveRepositorySqlite.ts"
import { LogArchive } from "../../src/LogArchive.ts"
import { LogStore } from "../../src/LogStore.ts"
import { Sqlite } from "../../src/sqlite/Sqlite.ts"
import { utcDayStartMs } from "../../src/domain/UtcDay.ts"
import { type ArchiveStack, liveArchiveStack, memoryArchiveStack } from "../support/archiveStack.ts"
import { makeTempDir } from "../support/tempDir.ts"

const NOW = Date.UTC(2024, 2, 31, 12)
const DAY_MS = 86_400_000
const at = (day: string, offsetMs = 0) => utcDayStartMs(day) + offsetMs

const append = (day: string, count: number, payload = (i: number) => `${day}:${i}`) =>
  Effect.gen(function*() {
    const log = yield* LogStore
    const entries = Array.from({ length: count }, (_, i) => ({ source: "s", type: "t", payload: payload(i), timestamp: at(day, i) }))
    return (yield* log.appendMany(entries)).map((e) => e.id)
  })

const sqliteIds = Effect.gen(function*() {
  const sql = yield* Sqlite
  return (yield* sql.all("SELECT id FROM logs ORDER BY id")).map((row) => Number(row.id))
})

const readIds = (day: string) =>
  Effect.gen(function*() {
    const archive = yield* LogArchive
    return (yield* Stream.runCollect(archive.readDay(day))).map((entry) => entry.id)
  })

const bytesOf = (store: DayFileStore, name: string) =>
  Effect.map(Stream.runCollect(store.read(name)), (chunks) => Buffer.concat(chunks))

/** Publishes `content` as `name` through the store, as another program writing the folder would. */
const plant = (name: string, content: string | Uint8Array) =>
  Effect.gen(function*() {
    const store = yield* DayFiles
    const temp = yield* store.writeTemp(Stream.make(typeof content === "string" ? new TextEncoder().encode(content) : content))
    yield* store.publish(temp, name)
  })

const line = (id: number, day: string) =>
  JSON.stringify({ id, source: "old", type: "t", refId: null, payload: `${id}`, timestamp: at(day, id) })

const collect = (events: Array<ArchiveProgress>) => (event: ArchiveProgress) => Effect.sync(() => void events.push(event))

const reasonOf = (error: { readonly _tag: string }) => (error instanceof ArchiveError ? error.reason : error._tag)

const contract = (name: string, makeLayer: () => Layer.Layer<ArchiveStack, DatabaseError>) =>
  describe(`LogArchive reliability (${name})`, () => {
    const test = (title: string, body: () => Effect.Effect<void, unknown, ArchiveStack>) =>
      it.effect(title, () => body().pipe(Effect.provide(makeLayer())), 60_000)

    test("export pages are bounded by bytes: rows of 3 MiB are exported one page each, and the next day follows", () =>
      Effect.gen(function*() {
        const archive = yield* LogArchive
        const big = "x".repeat(3 * 1024 * 1024)
        const ids = yield* append("2024-01-01", 12, (i) => `${i}${big}`)
        const next = yield* append("2024-01-02", 3)
        const events: Array<ArchiveProgress> = []
        const result = yield* archive.archive({ now: NOW }, collect(events))
        assert.deepStrictEqual(result.days.map((d) => [String(d.day), d.rowCount]), [["2024-01-01", 12], ["2024-01-02", 3]])
        // A page of 4,096 such rows would be 12 GiB, far past SQLite's string limit (1 GB).
        const written = events.flatMap((e) => (e._tag === "DayProgress" && e.day === "2024-01-01" ? [e.rowsWritten] : []))
        assert.deepStrictEqual(written, Array.from({ length: 12 }, (_, i) => i + 1))
        assert.deepStrictEqual(yield* readIds("2024-01-01"), ids)
        assert.deepStrictEqual(yield* readIds("2024-01-02"), next)
        // Merging a back-dated row into the day writes the large lines a few at a time too.
        const late = yield* append("2024-01-01", 1)
        const merge: Array<ArchiveProgress> = []
        yield* archive.archive({ now: NOW }, collect(merge))
        assert.isAtLeast(merge.filter((e) => e._tag === "DayProgress").length, 6)
        assert.deepStrictEqual(yield* readIds("2024-01-01"), [...ids, ...late])
      }))

    test("a damaged day file (a duplicate id line) fails that day only: DayFailed, later days archived, the run fails at the end", () =>
      Effect.gen(function*() {
        const archive = yield* LogArchive
        yield* plant("2024-01-01.jsonl", [line(1, "2024-01-01"), line(1, "2024-01-01")].join("\n") + "\n")
        const late = yield* append("2024-01-01", 1)
        const later = yield* append("2024-01-02", 2)
        const events: Array<ArchiveProgress> = []
        const error = yield* Effect.flip(archive.archive({ now: NOW }, collect(events)))
        assert.strictEqual(reasonOf(error), "corrupt")
        assert.deepStrictEqual(events.filter((e) => e._tag !== "DayProgress").map((e) => [e._tag, String(e.day)]), [
          ["DayStarted", "2024-01-01"],
          ["DayFailed", "2024-01-01"],
          ["DayStarted", "2024-01-02"],
          ["DayFinished", "2024-01-02"]
        ])
        const failed = events.find((e) => e._tag === "DayFailed")
        assert.include(failed?._tag === "DayFailed" ? failed.message : "", "ascending")
        assert.deepStrictEqual(yield* sqliteIds, late)
        assert.deepStrictEqual(yield* readIds("2024-01-02"), later)
      }))

    test("a truncated gzip day file fails that day only, and the next day is archived", () =>
      Effect.gen(function*() {
        const archive = yield* LogArchive
        const whole = gzipSync([1, 2, 3].map((id) => line(id, "2024-01-03")).join("\n") + "\n")
        yield* plant("2024-01-03.jsonl.gz", whole.subarray(0, whole.length - 8))
        const late = yield* append("2024-01-03", 1)
        const later = yield* append("2024-01-04", 2)
        const events: Array<ArchiveProgress> = []
        const error = yield* Effect.flip(archive.archive({ now: NOW }, collect(events)))
        assert.strictEqual(reasonOf(error), "corrupt")
        assert.deepStrictEqual(events.flatMap((e) => (e._tag === "DayFailed" || e._tag === "DayFinished" ? [[e._tag, String(e.day)]] : [])), [
          ["DayFailed", "2024-01-03"],
          ["DayFinished", "2024-01-04"]
        ])
        assert.deepStrictEqual(yield* sqliteIds, late)
        assert.deepStrictEqual(yield* readIds("2024-01-04"), later)
      }))

    test("a file that does not match its manifest is never merged: the day fails corrupt, the file is kept in quarantine, the rows stay", () =>
      Effect.gen(function*() {
        const archive = yield* LogArchive
        const store = yield* DayFiles
        yield* append("2024-01-05", 3)
        yield* archive.archive({ now: NOW })
        const original = yield* bytesOf(store, "2024-01-05.jsonl")
        // Same size, one payload edited: valid lines, but not what was archived.
        const tampered = original.toString("utf8").replace("2024-01-05:1", "2024-01-05:9")
        yield* plant("2024-01-05.jsonl", tampered)
        const late = yield* append("2024-01-05", 1)
        const error = yield* Effect.flip(archive.archive({ now: NOW }))
        assert.strictEqual(reasonOf(error), "corrupt")
        assert.include(error.message, "quarantine")
        assert.deepStrictEqual(yield* sqliteIds, late)
        const [day] = yield* archive.days()
        assert.strictEqual(day?.status, "quarantined")
        assert.strictEqual(day?.sha256?.length, 64)
        // The evidence is kept as it was found.
        const [kept] = yield* store.quarantined
        assert.isTrue(kept?.startsWith("2024-01-05.jsonl."))
        assert.isTrue(Option.isNone(yield* store.stat("2024-01-05.jsonl")))
        // Every later run refuses the day instead of writing a smaller file.
        const again = yield* Effect.flip(archive.archive({ now: NOW }))
        assert.include(again.message, "quarantine")
        assert.deepStrictEqual(yield* sqliteIds, late)
      }))

    test("a manifest row whose file was deleted is reported missing, and a back-dated row never overwrites it with fewer lines", () =>
      Effect.gen(function*() {
        const archive = yield* LogArchive
        const store = yield* DayFiles
        yield* append("2024-01-06", 5)
        yield* archive.archive({ now: NOW })
        yield* store.remove("2024-01-06.jsonl")
        const late = yield* append("2024-01-06", 1)
        const error = yield* Effect.flip(archive.archive({ now: NOW }))
        assert.strictEqual(reasonOf(error), "missing")
        assert.deepStrictEqual(yield* sqliteIds, late)
        const [day] = yield* archive.days()
        assert.deepStrictEqual([day?.status, day?.lineCount, day?.bytes], ["missing", 5, null])
        const read = yield* Effect.flip(readIds("2024-01-06"))
        assert.strictEqual(reasonOf(read), "missing")
      }))

    test("invalid UTF-8 in a day file is reported, not read as U+FFFD", () =>
      Effect.gen(function*() {
        const good = Buffer.from(line(1, "2024-01-07") + "\n")
        const bad = Buffer.from(line(2, "2024-01-07").replace("\"2\"", "\"\u0000X\"") + "\n")
        bad[bad.indexOf(0)] = 0xff
        yield* plant("2024-01-07.jsonl", Buffer.concat([good, bad]))
        const error = yield* Effect.flip(readIds("2024-01-07"))
        assert.strictEqual(reasonOf(error), "corrupt")
        assert.include(error.message, "UTF-8")
      }))

    test("a publish whose transaction failed after the rename leaves a day that reads, restores and lists as pending; the next run records it", () =>
      Effect.gen(function*() {
        const archive = yield* LogArchive
        const first = yield* append("2024-01-08", 3)
        yield* archive.archive({ now: NOW })
        const late = yield* append("2024-01-08", 2)
        const fresh = yield* append("2024-01-09", 2)
        // As a failed COMMIT (e.g. a disk full at commit) or a crash would: the file is published,
        // the transaction that records it and deletes the rows rolls back.
        const died = yield* Effect.exit(archive.archive({ now: NOW }).pipe(
          Effect.provideService(ArchiveFaultHook, (stage) => (stage === "after-rename" ? Effect.die("commit failed") : Effect.void))
        ))
        assert.strictEqual(died._tag, "Failure")
        assert.deepStrictEqual(yield* sqliteIds, [...late, ...fresh])
        // The merged file is the one on disk and it is recognised: no false corruption.
        assert.deepStrictEqual(yield* readIds("2024-01-08"), [...first, ...late])
        const days = yield* archive.days()
        assert.deepStrictEqual(days.map((d) => [String(d.day), d.status, d.lineCount]), [["2024-01-08", "pending", 5]])
        const restored = yield* archive.restore("2024-01-08")
        assert.deepStrictEqual([restored.restored, restored.skipped], [3, 2])
        // The next run records the file and finishes the job (restored rows come back in with includeRestored).
        const result = yield* archive.archive({ now: NOW, includeRestored: true })
        assert.deepStrictEqual(result.days.map((d) => [String(d.day), d.rowCount, d.lineCount]), [["2024-01-08", 5, 5], ["2024-01-09", 2, 2]])
        assert.deepStrictEqual((yield* archive.days()).map((d) => d.status), ["ok", "ok"])
        assert.deepStrictEqual(yield* sqliteIds, [])
        assert.deepStrictEqual(yield* readIds("2024-01-08"), [...first, ...late])
      }))

    test("a reader whose day is republished between reading the manifest and opening the file sees the new day, not a mismatch", () =>
      Effect.gen(function*() {
        const writer = yield* LogArchive
        const store = yield* DayFiles
        const first = yield* append("2024-01-10", 3)
        yield* writer.archive({ now: NOW })
        const late = yield* append("2024-01-10", 2)
        // A reader on its own service (as another process would be): the first time it opens the
        // day file, the writer archives the day again just before the open.
        let raced = false
        const race = <A, E, R>(self: Effect.Effect<A, E, R>) =>
          Effect.suspend(() => {
            if (raced) return self
            raced = true
            return Effect.andThen(Effect.orDie(writer.archive({ now: NOW })), self)
          })
        const reader = yield* makeLogArchive(ArchiveRepositorySqlite.make(yield* Sqlite), {
          ...store,
          open: (name) => race(store.open(name)),
          read: (name) => Stream.unwrap(race(Effect.succeed(store.read(name))))
        })
        const ids = (yield* Stream.runCollect(reader.readDay("2024-01-10"))).map((e) => e.id)
        assert.isTrue(raced)
        assert.deepStrictEqual(ids, [...first, ...late])
        assert.deepStrictEqual(yield* sqliteIds, [])
      }))

    test("a file of the day taken by another archiver while this one read it skips the day instead of failing the run", () =>
      Effect.gen(function*() {
        const store = yield* DayFiles
        yield* plant("2024-01-11.jsonl", line(1, "2024-01-11") + "\n")
        const late = yield* append("2024-01-11", 1)
        const later = yield* append("2024-01-12", 1)
        const archive = yield* makeLogArchive(ArchiveRepositorySqlite.make(yield* Sqlite), {
          ...store,
          read: (name) =>
            name.startsWith("2024-01-11")
              ? Stream.fail(new ArchiveError({ file: store.describe(name), reason: "notFound", detail: "ENOENT: no such file" }))
              : store.read(name)
        })
        const events: Array<ArchiveProgress> = []
        const result = yield* archive.archive({ now: NOW }, collect(events))
        assert.deepStrictEqual(result.days.map((d) => String(d.day)), ["2024-01-12"])
        const skip = events.find((e) => e._tag === "DaySkipped")
        assert.strictEqual(skip?._tag === "DaySkipped" ? String(skip.day) : "", "2024-01-11")
        assert.deepStrictEqual(yield* sqliteIds, late)
        assert.isFalse(later.some((id) => late.includes(id)))
      }))

    test("each archived day runs in a LogArchive.archiveDay span carrying the day, its row and line counts and the file size", () =>
      Effect.gen(function*() {
        const archive = yield* LogArchive
        yield* append("2024-01-14", 4)
        const spans: Array<Tracer.Span> = []
        const result = yield* archive.archive({ now: NOW }, (event) =>
          event._tag === "DayProgress"
            ? Effect.flatMap(Effect.option(Effect.currentSpan), (span) => Effect.sync(() => void spans.push(...Option.toArray(span))))
            : Effect.void)
        const [span] = spans
        assert.strictEqual(span?.name, "LogArchive.archiveDay")
        const [day] = result.days
        assert.deepStrictEqual(
          ["day", "rowCount", "lineCount", "bytes"].map((key) => span?.attributes.get(key)),
          ["2024-01-14", 4, 4, day?.bytes]
        )
      }))

    test("a restored day stays in SQLite for keepRestoredMs (7 days by default, on the Effect Clock), unless includeRestored", () =>
      Effect.gen(function*() {
        const archive = yield* LogArchive
        yield* TestClock.setTime(NOW)
        const ids = yield* append("2024-01-13", 3)
        yield* archive.archive({ compress: "gzip" })
        yield* archive.restore("2024-01-13")
        const [day] = yield* archive.days()
        assert.strictEqual(day?.restoredAt, NOW)
        // The next periodic pass does not undo the restore.
        const events: Array<ArchiveProgress> = []
        const pass = yield* archive.archive({ compress: "gzip" }, collect(events))
        assert.deepStrictEqual(pass.days, [])
        const skip = events.find((e) => e._tag === "DaySkipped")
        assert.include(skip?._tag === "DaySkipped" ? skip.reason : "", "restored")
        assert.deepStrictEqual(yield* sqliteIds, ids)
        // A day later still held; a custom hold of a day lets it go.
        yield* TestClock.adjust(DAY_MS)
        assert.deepStrictEqual((yield* archive.archive({ compress: "gzip" })).days, [])
        const short = yield* archive.archive({ compress: "gzip", keepRestoredMs: DAY_MS / 2 })
        assert.deepStrictEqual(short.days.map((d) => [String(d.day), d.rowCount]), [["2024-01-13", 3]])
        assert.strictEqual((yield* archive.days())[0]?.restoredAt, null)
        // Restored again: after 7 days the default pass takes it; includeRestored takes it at once.
        yield* archive.restore("2024-01-13")
        yield* TestClock.adjust(7 * DAY_MS)
        assert.deepStrictEqual((yield* archive.archive({ compress: "gzip" })).days.map((d) => d.rowCount), [3])
        yield* archive.restore("2024-01-13")
        assert.deepStrictEqual((yield* archive.archive({ includeRestored: true })).days.map((d) => d.rowCount), [3])
        assert.deepStrictEqual(yield* readIds("2024-01-13"), ids)
      }))
  })

contract("file system", () => liveArchiveStack(makeTempDir("nerve-archive-rel-")))
contract("memory", memoryArchiveStack)
