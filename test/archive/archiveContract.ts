// The LogArchive contract: what every layer that provides LogArchive must do, through the public
// API only (LogArchive and LogStore). White-box checks (planted files, rows written by raw SQL,
// the stored round counts) are in storage.test.ts. Registered by contract.test.ts on SQLite and by
// test/pg/archive-contract.test.ts on PostgreSQL (a module that registers suites when imported
// cannot be shared).
import { assert, describe, it } from "@effect/vitest"
import { Effect, type Layer, Option, Schema, Stream } from "effect"
import { TestClock } from "effect/testing"
import {
  type ArchiveOptions,
  ArchiveProgress,
  LOG_ARCHIVE_META_KEY,
  LogArchive,
  LogStore,
  MAX_TIMESTAMP_MS,
  parseUtcDay,
  utcDayEndExclusiveMs,
  utcDayStartMs
} from "../../src/index.ts"
import { roundCountsFollowRows } from "./roundsScenario.ts"

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

/** The ids of every row the store holds, by id. */
const sqliteIds = Effect.gen(function*() {
  const log = yield* LogStore
  return (yield* Stream.runCollect(log.stream({}))).map((entry) => entry.id)
})

const watermark = Effect.gen(function*() {
  const log = yield* LogStore
  return Option.getOrNull(yield* log.getMeta(LOG_ARCHIVE_META_KEY))
})

const readIds = (day: string) =>
  Effect.gen(function*() {
    const archive = yield* LogArchive
    return (yield* Stream.runCollect(archive.readDay(day))).map((entry) => entry.id)
  })

/** The services the contract uses. */
export type ArchiveContractServices = LogArchive | LogStore

/** The contract, run on the layer `makeLayer` builds (fresh for each test). */
export const archiveContract = <E>(name: string, makeLayer: () => Layer.Layer<ArchiveContractServices, E>) =>
  describe(`LogArchive contract (${name})`, () => {
    const test = (title: string, body: () => Effect.Effect<void, unknown, ArchiveContractServices>) =>
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
      roundCountsFollowRows(Effect.void))
  })
