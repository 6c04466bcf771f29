import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, Option, Schema, Stream } from "effect"
import { TestClock } from "effect/testing"
import { ArchiveProgress, type ArchiveOptions } from "../../schema/Archive.ts"
import type { DatabaseError } from "../../schema/Errors.ts"
import { MAX_TIMESTAMP_MS } from "../../schema/Primitives.ts"
import { DayFiles } from "../../src/archive/DayFileStore.ts"
import { LogArchive } from "../../src/LogArchive.ts"
import { LogStore } from "../../src/LogStore.ts"
import * as ThreadLog from "../../src/domain/ThreadLog.ts"
import * as ThreadRoundCounts from "../../src/logstore/ThreadRoundCounts.ts"
import { Sqlite } from "../../src/sqlite/Sqlite.ts"
import { LOG_ARCHIVE_META_KEY, parseUtcDay, utcDayEndExclusiveMs, utcDayStartMs } from "../../src/domain/UtcDay.ts"
import { type ArchiveStack, liveArchiveStack, memoryArchiveStack } from "../support/archiveStack.ts"
import { makeTempDir } from "../support/tempDir.ts"

const DAY_MS = 86_400_000
const RETENTION = 30 * DAY_MS
// now - 30 days = 2024-03-01T12:00Z, so the last eligible day is 2024-02-29.
const NOW = Date.UTC(2024, 2, 31, 12)
const LAST_ELIGIBLE = "2024-02-29"

const at = (day: string, offsetMs = 0) => utcDayStartMs(day) + offsetMs

const append = (timestamps: ReadonlyArray<number>, source = "test") =>
  Effect.gen(function*() {
    const log = yield* LogStore
    return yield* log.appendMany(timestamps.map((timestamp, i) => ({ source, type: "t", payload: `p${i}`, timestamp })))
  })

const sqliteIds = Effect.gen(function*() {
  const sql = yield* Sqlite
  return (yield* sql.all("SELECT id FROM logs ORDER BY id")).map((row) => Number(row.id))
})

const watermark = Effect.gen(function*() {
  const sql = yield* Sqlite
  const row = yield* sql.get("SELECT value FROM meta WHERE key = ?", [LOG_ARCHIVE_META_KEY])
  return row === undefined ? null : String(row.value)
})

const readIds = (day: string) =>
  Effect.gen(function*() {
    const archive = yield* LogArchive
    return (yield* Stream.runCollect(archive.readDay(day))).map((entry) => entry.id)
  })

const plant = (name: string, text: string) =>
  Effect.gen(function*() {
    const store = yield* DayFiles
    const temp = yield* store.writeTemp(Stream.make(new TextEncoder().encode(text)))
    yield* store.publish(temp, name)
  })

export const archiveContract = (name: string, makeLayer: () => Layer.Layer<ArchiveStack, DatabaseError>) =>
  describe(`LogArchive contract (${name})`, () => {
    const test = (title: string, body: () => Effect.Effect<void, unknown, ArchiveStack>) =>
      it.effect(title, () => body().pipe(Effect.provide(makeLayer())))

    test("a row at the last millisecond of the last eligible day is archived; the first millisecond of the next day is not", () =>
      Effect.gen(function*() {
        const archive = yield* LogArchive
        const [last, next] = yield* append([utcDayEndExclusiveMs(LAST_ELIGIBLE) - 1, utcDayEndExclusiveMs(LAST_ELIGIBLE)])
        yield* TestClock.setTime(NOW)
        const result = yield* archive.archive({ retentionMs: RETENTION })
        assert.deepStrictEqual(result.days.map((d) => [d.day, d.rowCount]), [[LAST_ELIGIBLE, 1]])
        assert.isFalse(result.vacuumed)
        assert.deepStrictEqual(yield* sqliteIds, [next?.id])
        assert.deepStrictEqual(yield* readIds(LAST_ELIGIBLE), [last?.id])
        assert.strictEqual(yield* watermark, LAST_ELIGIBLE)
      }))

    test("plan lists the days with rows and writes nothing", () =>
      Effect.gen(function*() {
        const archive = yield* LogArchive
        yield* append([at("2024-01-01", 5), at("2024-01-01", 6), at("2024-02-10"), at("2024-03-20")])
        const plan = yield* archive.plan({ now: NOW })
        assert.strictEqual(plan.lastEligibleDay, LAST_ELIGIBLE)
        assert.deepStrictEqual(plan.days.map((d) => [d.day, d.rowCount]), [["2024-01-01", 2], ["2024-02-10", 1]])
        assert.strictEqual((yield* sqliteIds).length, 4)
        assert.deepStrictEqual(yield* archive.days(), [])
        assert.isNull(yield* watermark)
      }))

    test("a row back-dated into an archived day is merged into its file and the watermark stays", () =>
      Effect.gen(function*() {
        const archive = yield* LogArchive
        const first = yield* append([at("2024-01-10", 1), at("2024-01-10", 2)])
        yield* archive.archive({ now: NOW })
        assert.strictEqual(yield* watermark, LAST_ELIGIBLE)
        const late = yield* append([at("2024-01-10", 0)], "late")
        const result = yield* archive.archive({ now: NOW })
        assert.deepStrictEqual(result.days.map((d) => [d.day, d.rowCount, d.lineCount]), [["2024-01-10", 1, 3]])
        assert.deepStrictEqual(yield* readIds("2024-01-10"), [...first.map((e) => e.id), ...late.map((e) => e.id)])
        assert.strictEqual(yield* watermark, LAST_ELIGIBLE)
        assert.deepStrictEqual(yield* sqliteIds, [])
        const [day] = yield* archive.days()
        assert.strictEqual(day?.lineCount, 3)
      }))

    test("maxDays archives the oldest days only and moves the watermark to the last one done", () =>
      Effect.gen(function*() {
        const archive = yield* LogArchive
        yield* append([at("2024-01-01"), at("2024-01-02"), at("2024-01-03")])
        const result = yield* archive.archive({ now: NOW, maxDays: 2 })
        assert.deepStrictEqual(result.days.map((d) => d.day), ["2024-01-01", "2024-01-02"])
        assert.strictEqual((yield* sqliteIds).length, 1)
        assert.strictEqual(yield* watermark, "2024-01-02")
        const rest = yield* archive.archive({ now: NOW, maxDays: 2 })
        assert.deepStrictEqual(rest.days.map((d) => d.day), ["2024-01-03"])
        assert.strictEqual(yield* watermark, LAST_ELIGIBLE)
      }))

    test("empty days produce no file and count as archived", () =>
      Effect.gen(function*() {
        const archive = yield* LogArchive
        yield* append([at("2024-01-01"), at("2024-01-10")])
        const result = yield* archive.archive({ now: NOW })
        assert.deepStrictEqual(result.days.map((d) => d.day), ["2024-01-01", "2024-01-10"])
        assert.deepStrictEqual((yield* archive.days()).map((d) => d.day), ["2024-01-01", "2024-01-10"])
        assert.strictEqual(yield* watermark, LAST_ELIGIBLE)
        const nothing = yield* archive.archive({ now: NOW })
        assert.deepStrictEqual(nothing.days, [])
      }))

    test("a re-run writes and deletes nothing", () =>
      Effect.gen(function*() {
        const archive = yield* LogArchive
        yield* append([at("2024-01-01"), at("2024-01-02"), at("2024-03-30")])
        yield* archive.archive({ now: NOW })
        const daysBefore = yield* archive.days()
        const idsBefore = yield* sqliteIds
        const again = yield* archive.archive({ now: NOW })
        assert.deepStrictEqual(again.days, [])
        assert.deepStrictEqual(yield* archive.days(), daysBefore)
        assert.deepStrictEqual(yield* sqliteIds, idsBefore)
      }))

    test("gzip files round-trip, and a later plain run merges into the day and replaces the gzip file", () =>
      Effect.gen(function*() {
        const archive = yield* LogArchive
        const rows = yield* append([at("2024-01-05", 1), at("2024-01-05", 2), at("2024-01-06", 3)])
        const result = yield* archive.archive({ now: NOW, compress: "gzip" })
        assert.isTrue(result.days.every((d) => d.file.endsWith(".jsonl.gz")))
        const days = yield* archive.days()
        assert.deepStrictEqual(days.map((d) => [String(d.day), d.compressed, d.lineCount]), [["2024-01-05", true, 2], ["2024-01-06", true, 1]])
        const entries = yield* Stream.runCollect(archive.readDay("2024-01-05"))
        assert.deepStrictEqual(entries, rows.slice(0, 2))
        const late = yield* append([at("2024-01-05", 0)])
        yield* archive.archive({ now: NOW })
        const after = yield* archive.days()
        assert.deepStrictEqual(after.map((d) => [d.day, d.compressed]), [["2024-01-05", false], ["2024-01-06", true]])
        assert.deepStrictEqual(yield* readIds("2024-01-05"), [...rows.slice(0, 2), ...late].map((e) => e.id))
      }))

    test("restore puts rows back with their ids, is idempotent, and archiving again loses nothing", () =>
      Effect.gen(function*() {
        const archive = yield* LogArchive
        const log = yield* LogStore
        const rows = yield* append([at("2024-01-05", 1), at("2024-01-05", 2)])
        yield* archive.archive({ now: NOW })
        assert.deepStrictEqual(yield* sqliteIds, [])
        const restored = yield* archive.restore("2024-01-05")
        assert.deepStrictEqual([restored.restored, restored.skipped], [2, 0])
        assert.deepStrictEqual(yield* log.query({}), rows)
        const twice = yield* archive.restore("2024-01-05")
        assert.deepStrictEqual([twice.restored, twice.skipped], [0, 2])
        const again = yield* archive.archive({ now: NOW })
        assert.deepStrictEqual(again.days.map((d) => [d.day, d.rowCount, d.lineCount]), [["2024-01-05", 2, 2]])
        assert.deepStrictEqual(yield* sqliteIds, [])
        assert.deepStrictEqual(yield* readIds("2024-01-05"), rows.map((e) => e.id))
      }))

    test("bad day strings fail with InvalidUtcDay", () =>
      Effect.gen(function*() {
        const archive = yield* LogArchive
        for (const input of ["2024-02-30", "2024-2-1", "../x"]) {
          const read = yield* Effect.flip(Stream.runCollect(archive.readDay(input)))
          assert.strictEqual(read._tag, "InvalidUtcDay")
          const restore = yield* Effect.flip(archive.restore(input))
          assert.strictEqual(restore._tag, "InvalidUtcDay")
          const parsed = yield* Effect.flip(parseUtcDay(input))
          assert.strictEqual(parsed.input, input)
        }
        assert.strictEqual(yield* parseUtcDay("2024-02-29"), "2024-02-29")
      }))

    test("a malformed line fails with ArchiveError naming the file and the line", () =>
      Effect.gen(function*() {
        const archive = yield* LogArchive
        const good = JSON.stringify({ id: 1, source: "s", type: "t", refId: null, payload: "x", timestamp: at("2024-01-07") })
        yield* plant("2024-01-07.jsonl", `${good}\n{"id":"two"}\n`)
        const error = yield* Effect.flip(Stream.runCollect(archive.readDay("2024-01-07")))
        assert.strictEqual(error._tag, "ArchiveError")
        if (error._tag === "ArchiveError") {
          assert.strictEqual(error.line, 2)
          assert.isTrue(error.file.endsWith("2024-01-07.jsonl"))
        }
        // Archiving a back-dated row into that day refuses to merge the bad file and deletes nothing.
        yield* append([at("2024-01-07", 5)])
        const archiveError = yield* Effect.flip(archive.archive({ now: NOW }))
        assert.strictEqual(archiveError._tag, "ArchiveError")
        assert.strictEqual((yield* sqliteIds).length, 1)
      }))

    test("log ids are never reused after an archive deletes every row", () =>
      Effect.gen(function*() {
        const archive = yield* LogArchive
        const rows = yield* append([at("2024-01-01"), at("2024-01-02"), at("2024-01-03")])
        yield* archive.archive({ now: NOW })
        assert.deepStrictEqual(yield* sqliteIds, [])
        const [next] = yield* append([at("2024-03-30")])
        assert.isTrue((next?.id ?? 0) > Math.max(...rows.map((e) => e.id)))
      }))

    test("archive reports per-day progress and VACUUMs when asked", () =>
      Effect.gen(function*() {
        const archive = yield* LogArchive
        yield* append(Array.from({ length: 20_000 }, (_, i) => at("2024-01-01", i)))
        const events: Array<ArchiveProgress> = []
        const result = yield* archive.archive({ now: NOW, vacuum: true }, (event) => Effect.sync(() => void events.push(event)))
        assert.isTrue(result.vacuumed)
        assert.isTrue(events.every(Schema.is(ArchiveProgress)))
        assert.deepStrictEqual(events[0], { _tag: "DayStarted", day: yield* parseUtcDay("2024-01-01"), dayIndex: 0, dayCount: 1, totalRows: 20_000 })
        const progress = events.flatMap((e) => (e._tag === "DayProgress" ? [e.rowsWritten] : []))
        assert.isTrue(progress.length >= 2)
        assert.strictEqual(progress[progress.length - 1], 20_000)
        assert.strictEqual(events[events.length - 1]?._tag, "DayFinished")
        assert.strictEqual(Option.isNone(Option.fromNullishOr(events.find((e) => e._tag === "DayFinished" && e.result.rowCount !== 20_000))), true)
      }))

    test("a row whose columns do not fit the log format fails with CorruptRow and nothing is deleted", () =>
      Effect.gen(function*() {
        const archive = yield* LogArchive
        const sql = yield* Sqlite
        yield* append([at("2024-01-01", 1)])
        yield* sql.run("INSERT INTO logs (source, type, payload, timestamp) VALUES ('s', 't', X'00ff', ?)", [at("2024-01-01", 2)])
        const error = yield* Effect.flip(archive.archive({ now: NOW }))
        assert.strictEqual(error._tag, "CorruptRow")
        assert.strictEqual((yield* sqliteIds).length, 2)
        assert.deepStrictEqual(yield* archive.days(), [])
      }))

    test("bad options fail with InvalidInput naming the field", () =>
      Effect.gen(function*() {
        const archive = yield* LogArchive
        const cases: ReadonlyArray<readonly [ArchiveOptions, string]> = [
          [{ now: NOW, maxDays: 0 }, "options.maxDays"],
          [{ retentionMs: Number.MAX_SAFE_INTEGER }, "options.retentionMs"],
          [{ retentionMs: MAX_TIMESTAMP_MS + 1 }, "options.retentionMs"],
          [{ retentionMs: -1 }, "options.retentionMs"],
          [{ now: 9e15 }, "options.now"],
          [{ now: -1 }, "options.now"],
          [{ now: 1.5 }, "options.now"]
        ]
        for (const [options, field] of cases) {
          for (const error of [yield* Effect.flip(archive.plan(options)), yield* Effect.flip(archive.archive(options))]) {
            assert.strictEqual(error._tag, "InvalidInput", JSON.stringify(options))
            if (error._tag === "InvalidInput") assert.strictEqual(error.field, field)
          }
        }
        assert.deepStrictEqual(yield* sqliteIds, [])
      }))

    test("the extremes of now and retentionMs give a valid plan, and archive at the far end of time", () =>
      Effect.gen(function*() {
        const archive = yield* LogArchive
        const rows = yield* append([at("2024-01-01"), at("9999-12-30", 5)])
        const early = yield* archive.plan({ now: 0, retentionMs: MAX_TIMESTAMP_MS })
        assert.deepStrictEqual([early.lastEligibleDay, early.days], ["0000-01-01", []])
        const none = yield* archive.plan({ now: 0, retentionMs: 0 })
        assert.deepStrictEqual([none.lastEligibleDay, none.days], ["1969-12-31", []])
        // A Date reaches year 275760, a YYYY-MM-DD day only 9999-12-31: the window stops there.
        const late = yield* archive.plan({ now: MAX_TIMESTAMP_MS, retentionMs: 0 })
        assert.strictEqual(late.lastEligibleDay, "9999-12-31")
        assert.deepStrictEqual(late.days.map((d) => [d.day, d.rowCount]), [["2024-01-01", 1], ["9999-12-30", 1]])
        const result = yield* archive.archive({ now: MAX_TIMESTAMP_MS, retentionMs: 0 })
        assert.deepStrictEqual(result.days.map((d) => d.day), ["2024-01-01", "9999-12-30"])
        assert.deepStrictEqual(yield* readIds("9999-12-30"), [rows[1]?.id])
        assert.strictEqual(yield* watermark, "9999-12-31")
      }))

    test("role-round counts and round numbers follow the rows through the archive and restore of days", () =>
      Effect.gen(function*() {
        const archive = yield* LogArchive
        const log = yield* LogStore
        const sql = yield* Sqlite
        const thread = (refId: string, timestamp: number, payload: unknown, type = ThreadLog.THREAD_MESSAGE_TYPE) => ({
          source: "workflow",
          type,
          refId,
          payload: typeof payload === "string" ? payload : JSON.stringify(payload),
          timestamp
        })
        const say = (content: string) => ({ role: "user", content })
        yield* log.appendMany([
          thread("a", at("2024-01-01", 1), { type: "thread_start" }, ThreadLog.THREAD_EVENT_TYPE),
          thread("a", at("2024-01-01", 2), say("a1")),
          thread("b", at("2024-01-01", 3), say("b1")),
          thread("a", at("2024-01-01", 4), "{bad json"),
          thread("a", at("2024-01-01", 5), { type: "tool" }, ThreadLog.THREAD_EVENT_TYPE),
          { source: "daemon", type: "tick", refId: "a", payload: "{}", timestamp: at("2024-01-01", 6) },
          thread("a", at("2024-01-02", 1), say("a3")),
          thread("a", at("2024-01-02", 2), say("a4")),
          // Back-dated: inside the id range of 2024-01-01's rows, but of 2024-01-02.
          thread("b", at("2024-01-02", 3), say("b2")),
          thread("b", at("2024-01-01", 7), say("b3")),
          thread("a", at("2024-03-30", 1), say("a5"))
        ])
        /** Each run's count and pages against the SPEC's rule over the rows SQLite holds now. */
        const expectCounts = (expected: Record<string, number>) =>
          Effect.gen(function*() {
            for (const [runId, count] of Object.entries(expected)) {
              const rows = yield* log.query({ refId: runId, source: "workflow", limit: 1_000 })
              assert.strictEqual(ThreadLog.numberRounds(rows).length, count, `the model's count of ${runId}`)
              assert.strictEqual(yield* log.threadRoundCount(runId), count, `count of ${runId}`)
              for (const params of [{ before: 0, limit: 10 }, { before: 0, limit: 1 }, { before: 2, limit: 10 }, { before: count, limit: 1 }]) {
                assert.deepStrictEqual(yield* log.threadRounds(runId, params), ThreadLog.threadRounds(rows, params), `${runId} ${JSON.stringify(params)}`)
              }
            }
            assert.deepStrictEqual(yield* ThreadRoundCounts.mismatches(sql), [])
          })
        yield* expectCounts({ a: 5, b: 3 })
        const first = yield* archive.archive({ now: NOW, maxDays: 1 })
        assert.deepStrictEqual(first.days.map((d) => [d.day, d.rowCount]), [["2024-01-01", 7]])
        yield* expectCounts({ a: 3, b: 1 })
        yield* archive.archive({ now: NOW })
        yield* expectCounts({ a: 1, b: 0 })
        yield* archive.restore("2024-01-02")
        yield* expectCounts({ a: 3, b: 1 })
        yield* archive.restore("2024-01-01")
        yield* expectCounts({ a: 5, b: 3 })
        // Every row is there already: the restore inserts nothing and counts nothing.
        const again = yield* archive.restore("2024-01-01")
        assert.deepStrictEqual([again.restored, again.skipped], [0, 7])
        yield* expectCounts({ a: 5, b: 3 })
        const forced = yield* archive.archive({ now: NOW, includeRestored: true })
        assert.deepStrictEqual(forced.days.map((d) => d.day), ["2024-01-01", "2024-01-02"])
        yield* expectCounts({ a: 1, b: 0 })
      }))

    test("a manifest row that does not fit its schema fails with CorruptRow naming the table, the day and the field", () =>
      Effect.gen(function*() {
        const archive = yield* LogArchive
        const sql = yield* Sqlite
        yield* append([at("2024-01-05", 1)])
        yield* archive.archive({ now: NOW })
        yield* sql.run("UPDATE archive_manifest SET sha256 = 'not a hash' WHERE day = ?", ["2024-01-05"])
        for (
          const error of [
            yield* Effect.flip(archive.days()),
            yield* Effect.flip(Stream.runCollect(archive.readDay("2024-01-05")))
          ]
        ) {
          assert.strictEqual(error._tag, "CorruptRow")
          if (error._tag === "CorruptRow") {
            assert.strictEqual(error.table, "archive_manifest")
            assert.strictEqual(error.key, "2024-01-05")
            assert.include(error.reason, "sha256")
          }
        }
      }))
  })

archiveContract("file system", () => liveArchiveStack(makeTempDir("nerve-archive-")))
archiveContract("memory", memoryArchiveStack)
