/**
 * Options, plans, results and progress of `LogArchive`, and the archive line format.
 *
 * @since 0.6.0
 */
import { Schema } from "effect"
import { UtcDay } from "./UtcDay.ts"
import { LogEntry } from "./LogEntry.ts"
import { LogId, MAX_TIMESTAMP_MS, TimestampMs } from "./Primitives.ts"

// Words used with one meaning each in this module:
// - `day`: a `UtcDay` (branded `YYYY-MM-DD`).
// - `rowCount`: rows of the day in SQLite (planned, or moved out of SQLite by this run).
// - `lineCount`: lines in a day file (previously archived lines included).
// - `file`: the path of a day file as shown to people (archive folder joined with the file name).
// - `bytes`: the size of a day file in bytes.

const Duration = Schema.Int.pipe(Schema.check(Schema.isBetween({ minimum: 0, maximum: MAX_TIMESTAMP_MS })))

/** How a day file is stored: plain `YYYY-MM-DD.jsonl` or gzip `YYYY-MM-DD.jsonl.gz`. */
export const ArchiveCompression = Schema.Literals(["none", "gzip"])
export type ArchiveCompression = typeof ArchiveCompression.Type

/** How long a day put back by `restore` stays in SQLite before `archive` takes it again: 7 days. */
export const DEFAULT_KEEP_RESTORED_MS = 7 * 86_400_000

/**
 * Options of `plan` and `archive`. `now` defaults to the Effect `Clock`, `retentionMs` to 30 days,
 * `maxDays` to every eligible day, `vacuum` to false, `compress` to `"none"`. A day restored less
 * than `keepRestoredMs` (default 7 days, measured against `now`) ago is skipped unless
 * `includeRestored` is true.
 *
 * @example
 * ```ts
 * archive.archive({ retentionMs: 7 * 86_400_000, maxDays: 10, compress: "gzip" })
 * ```
 */
export const ArchiveOptions = Schema.Struct({
  now: Schema.optional(TimestampMs),
  /** At most {@link MAX_TIMESTAMP_MS}, so `now - retentionMs` is always a valid `Date`. */
  retentionMs: Schema.optional(Duration),
  maxDays: Schema.optional(Schema.Int.pipe(Schema.check(Schema.isGreaterThanOrEqualTo(1)))),
  vacuum: Schema.optional(Schema.Boolean),
  compress: Schema.optional(ArchiveCompression),
  keepRestoredMs: Schema.optional(Duration),
  includeRestored: Schema.optional(Schema.Boolean)
})
export type ArchiveOptions = typeof ArchiveOptions.Type

/** One day `archive` would move: the rows in SQLite for it now, and their id range. */
export const PlannedDay = Schema.Struct({
  day: UtcDay,
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
  day: UtcDay,
  /** Rows exported from SQLite and deleted there in this run. */
  rowCount: Schema.Int,
  /** The path of the published day file. */
  file: Schema.String,
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
 * The state of an archived day, as `days()` sees it from the manifest, the folder listing and the
 * file sizes (the sha256 itself is checked by `readDay`, `restore` and `archive`):
 * - `ok`: the file is there with the size its manifest row records.
 * - `pending`: a run was interrupted after publishing the file and before recording it (a crash,
 *   or a failed COMMIT); the file matches what that run was about to record, is complete and is
 *   read and restored normally. The next `archive` run records it (and takes the rows still in SQLite).
 * - `unrecorded`: a file without a manifest row (written by nerve-store 0.5); lines are decoded but
 *   there is no hash to check.
 * - `missing`: the manifest lists a file that is gone. `archive` refuses to write that day again
 *   (it would record fewer lines); put the file back (e.g. from a backup) to repair it.
 * - `mismatch`: the file's size differs from its manifest row: it was changed outside nerve-store.
 *   `archive` moves it to `quarantine/` and refuses the day; inspect it there.
 * - `quarantined`: the day's file failed its check and was moved to the `quarantine/` folder.
 */
export const ArchivedDayStatus = Schema.Literals(["ok", "pending", "unrecorded", "missing", "mismatch", "quarantined"])
export type ArchivedDayStatus = typeof ArchivedDayStatus.Type

/**
 * A day as `days()` lists it: every day file on disk and every manifest row. Without a manifest
 * row (0.5 files) `lineCount`, `sha256`, ids and `archivedAt` are null; `bytes` is null when the
 * file is not there. `status` says which case it is.
 */
export const ArchivedDay = Schema.Struct({
  day: UtcDay,
  file: Schema.String,
  compressed: Schema.Boolean,
  status: ArchivedDayStatus,
  /** Size of the file on disk now. */
  bytes: Schema.NullOr(Schema.Int),
  /** Lines in the file, as recorded when it was archived. */
  lineCount: Schema.NullOr(Schema.Int),
  sha256: Schema.NullOr(Schema.String),
  minId: Schema.NullOr(Schema.Int),
  maxId: Schema.NullOr(Schema.Int),
  archivedAt: Schema.NullOr(TimestampMs),
  /** When `restore` last put the day back into SQLite. */
  restoredAt: Schema.NullOr(TimestampMs)
})
export type ArchivedDay = typeof ArchivedDay.Type

/** `DayStarted`: `totalRows` rows of `day` are about to be exported (index `dayIndex` of `dayCount`). */
export const DayStarted = Schema.TaggedStruct("DayStarted", {
  day: UtcDay,
  dayIndex: Schema.Int,
  dayCount: Schema.Int,
  totalRows: Schema.Int
})
export type DayStarted = typeof DayStarted.Type

/** `DayProgress`: `rowsWritten` of the day's rows are in the temp file so far. */
export const DayProgress = Schema.TaggedStruct("DayProgress", {
  day: UtcDay,
  rowsWritten: Schema.Int,
  totalRows: Schema.Int
})
export type DayProgress = typeof DayProgress.Type

/** `DayFinished`: the file is published and the rows are deleted from SQLite. */
export const DayFinished = Schema.TaggedStruct("DayFinished", {
  day: UtcDay,
  result: ArchiveDayResult
})
export type DayFinished = typeof DayFinished.Type

/**
 * `DaySkipped`: the day was left alone, nothing published or deleted, because it changed while it
 * was exported (its rows went away since the plan, or another run archived it meanwhile), or
 * because it was restored recently. Rows still in SQLite are taken by a later run.
 */
export const DaySkipped = Schema.TaggedStruct("DaySkipped", {
  day: UtcDay,
  reason: Schema.String
})
export type DaySkipped = typeof DaySkipped.Type

/**
 * `DayFailed`: archiving the day failed (`error` is the error's tag, `message` says what and
 * where); nothing of it was deleted from SQLite, and the run went on with the next day. The run
 * then fails with the first such error once every day has been tried.
 */
export const DayFailed = Schema.TaggedStruct("DayFailed", {
  day: UtcDay,
  error: Schema.String,
  message: Schema.String
})
export type DayFailed = typeof DayFailed.Type

/**
 * Progress of an `archive` run, for a per-day progress bar: every `DayStarted` is followed by
 * `DayProgress` events and then exactly one `DayFinished`, `DaySkipped` or `DayFailed`.
 */
export const ArchiveProgress = Schema.Union([DayStarted, DayProgress, DayFinished, DaySkipped, DayFailed])
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
  day: UtcDay,
  file: Schema.String,
  restored: Schema.Int,
  skipped: Schema.Int
})
export type RestoreResult = typeof RestoreResult.Type
