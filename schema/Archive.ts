/**
 * Options, plans, results and progress of `LogArchive`, and the archive line format.
 *
 * @since 0.6.0
 */
import { Schema } from "effect"
import { LogEntry } from "./LogEntry.ts"
import { LogId, MAX_TIMESTAMP_MS, TimestampMs } from "./Primitives.ts"

/** How a day file is stored: plain `YYYY-MM-DD.jsonl` or gzip `YYYY-MM-DD.jsonl.gz`. */
export const ArchiveCompression = Schema.Literals(["none", "gzip"])
export type ArchiveCompression = typeof ArchiveCompression.Type

/**
 * Options of `plan` and `archive`. `now` defaults to the Effect `Clock`, `retentionMs` to 30 days,
 * `maxDays` to every eligible day, `vacuum` to false, `compress` to `"none"`.
 *
 * @example
 * ```ts
 * archive.archive({ retentionMs: 7 * 86_400_000, maxDays: 10, compress: "gzip" })
 * ```
 */
export const ArchiveOptions = Schema.Struct({
  now: Schema.optional(TimestampMs),
  /** At most {@link MAX_TIMESTAMP_MS}, so `now - retentionMs` is always a valid `Date`. */
  retentionMs: Schema.optional(Schema.Int.pipe(Schema.check(Schema.isBetween({ minimum: 0, maximum: MAX_TIMESTAMP_MS })))),
  maxDays: Schema.optional(Schema.Int.pipe(Schema.check(Schema.isGreaterThanOrEqualTo(1)))),
  vacuum: Schema.optional(Schema.Boolean),
  compress: Schema.optional(ArchiveCompression)
})
export type ArchiveOptions = typeof ArchiveOptions.Type

/** One day `archive` would move: the rows in SQLite for it now, and their id range. */
export const PlannedDay = Schema.Struct({
  day: Schema.String,
  rowCount: Schema.Int,
  minId: LogId,
  maxId: LogId
})
export type PlannedDay = typeof PlannedDay.Type

/**
 * What `archive` would do at `now`: the days with rows up to `lastEligibleDay`, oldest first
 * (including days at or before the watermark that received back-dated rows).
 */
export const ArchivePlan = Schema.Struct({
  now: TimestampMs,
  lastEligibleDay: Schema.String,
  watermark: Schema.NullOr(Schema.String),
  days: Schema.Array(PlannedDay)
})
export type ArchivePlan = typeof ArchivePlan.Type

/** One archived day: rows moved out of SQLite now, and the day file (all its lines) as published. */
export const ArchiveDayResult = Schema.Struct({
  day: Schema.String,
  /** Rows exported from SQLite and deleted there in this run. */
  rowCount: Schema.Int,
  filePath: Schema.String,
  /** Size of the published file. */
  bytes: Schema.Int,
  /** Lines in the published file (previously archived lines of the day included). */
  lineCount: Schema.Int
})
export type ArchiveDayResult = typeof ArchiveDayResult.Type

/** The days archived by one `archive` run, oldest first, and whether VACUUM ran. */
export const ArchiveResult = Schema.Struct({
  days: Schema.Array(ArchiveDayResult),
  vacuumed: Schema.Boolean
})
export type ArchiveResult = typeof ArchiveResult.Type

/**
 * A day on disk, as `days()` lists it. Files written by nerve-store 0.5 have no manifest row:
 * their `rowCount`, `sha256`, ids and `archivedAt` are null.
 */
export const ArchivedDay = Schema.Struct({
  day: Schema.String,
  file: Schema.String,
  compressed: Schema.Boolean,
  bytes: Schema.Int,
  rowCount: Schema.NullOr(Schema.Int),
  sha256: Schema.NullOr(Schema.String),
  minId: Schema.NullOr(Schema.Int),
  maxId: Schema.NullOr(Schema.Int),
  archivedAt: Schema.NullOr(TimestampMs)
})
export type ArchivedDay = typeof ArchivedDay.Type

/** `DayStarted`: `totalRows` rows of `day` are about to be exported (index `dayIndex` of `dayCount`). */
export const DayStarted = Schema.TaggedStruct("DayStarted", {
  day: Schema.String,
  dayIndex: Schema.Int,
  dayCount: Schema.Int,
  totalRows: Schema.Int
})
export type DayStarted = typeof DayStarted.Type

/** `DayProgress`: `rowsWritten` of the day's rows are in the temp file so far. */
export const DayProgress = Schema.TaggedStruct("DayProgress", {
  day: Schema.String,
  rowsWritten: Schema.Int,
  totalRows: Schema.Int
})
export type DayProgress = typeof DayProgress.Type

/** `DayFinished`: the file is published and the rows are deleted from SQLite. */
export const DayFinished = Schema.TaggedStruct("DayFinished", {
  day: Schema.String,
  result: ArchiveDayResult
})
export type DayFinished = typeof DayFinished.Type

/**
 * `DaySkipped`: the day was left alone, nothing published or deleted, because it changed while it
 * was exported (its rows went away since the plan, or another run archived it meanwhile). Rows
 * still in SQLite are taken by the next run.
 */
export const DaySkipped = Schema.TaggedStruct("DaySkipped", {
  day: Schema.String,
  reason: Schema.String
})
export type DaySkipped = typeof DaySkipped.Type

/**
 * Progress of an `archive` run, for a per-day progress bar: every `DayStarted` is followed by
 * `DayProgress` events and then exactly one `DayFinished` or `DaySkipped` (unless the run fails).
 */
export const ArchiveProgress = Schema.Union([DayStarted, DayProgress, DayFinished, DaySkipped])
export type ArchiveProgress = typeof ArchiveProgress.Type

/**
 * One archive line as written by nerve-store 0.5 and 0.6: a JSON object with `id, source, type,
 * refId, payload, timestamp` (payload kept as its string). Missing `refId` / `payload` read as null.
 */
export const ArchiveLine = Schema.Struct({
  id: LogId,
  source: Schema.String,
  type: Schema.String,
  refId: Schema.optional(Schema.NullOr(Schema.String)),
  payload: Schema.optional(Schema.NullOr(Schema.String)),
  timestamp: TimestampMs
})
export type ArchiveLine = typeof ArchiveLine.Type

/** An archive line as text: decode with this, then {@link archiveLineToLogEntry}. */
export const ArchiveLineJson = Schema.fromJsonString(ArchiveLine)

/** The `LogEntry` an archive line stands for. */
export const archiveLineToLogEntry = (line: ArchiveLine): LogEntry => ({
  id: line.id,
  source: line.source,
  type: line.type,
  refId: line.refId ?? null,
  payload: line.payload ?? null,
  timestamp: line.timestamp
})

/** The line (without its newline) written for a row: key order as nerve-store 0.5. */
export const encodeArchiveLine = (entry: LogEntry): string =>
  JSON.stringify({
    id: entry.id,
    source: entry.source,
    type: entry.type,
    refId: entry.refId,
    payload: entry.payload,
    timestamp: entry.timestamp
  })

/** What `restore(day)` did: rows put back into SQLite, and rows skipped because their id was present. */
export const RestoreResult = Schema.Struct({
  day: Schema.String,
  file: Schema.String,
  restored: Schema.Int,
  skipped: Schema.Int
})
export type RestoreResult = typeof RestoreResult.Type
