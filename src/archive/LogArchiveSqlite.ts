/**
 * LogArchive on the migrated SQLite database and a day file store (file system or memory).
 * The per-day publish protocol is described in docs/ARCHITECTURE.md §Archive a day.
 *
 * @since 0.7.0
 */
import { Clock, Effect, FileSystem, Layer, Option, Path, Semaphore, Stream } from "effect"
import { randomBytes } from "node:crypto"
import {
  type ArchivedDay,
  type ArchiveDayResult,
  ArchiveOptions,
  type ArchivePlan,
  type ArchiveResult,
  DEFAULT_KEEP_RESTORED_MS,
  type PlannedDay,
  type RestoreResult
} from "../../schema/Archive.ts"
import { ArchiveError, type CorruptRow, type DatabaseError, type InvalidInput, type InvalidUtcDay } from "../../schema/Errors.ts"
import type { LogEntry } from "../../schema/LogEntry.ts"
import { type Expected, hashContent } from "./DayFile.ts"
import { listDays } from "./DayListing.ts"
import { makeDayReader } from "./DayReader.ts"
import { dayFileName, DayFiles, type DayFileStore, type StoredFile } from "./DayFileStore.ts"
import { exportDay } from "./Exporter.ts"
import { reach } from "./FaultHook.ts"
import { makeLogRows } from "./LogRows.ts"
import { acceptedFiles, type DayRecord, makeManifest, type PendingRow, sameRecord } from "./Manifest.ts"
import { retentionWindow } from "./Plan.ts"
import { Database } from "../sqlite/Database.ts"
import type { SqliteShape } from "../sqlite/Sqlite.ts"
import { type ArchiveProgressListener, LogArchive, type LogArchiveShape } from "../LogArchive.ts"
import { DEFAULT_LOG_RETENTION_MS, parseUtcDay, type UtcDay } from "../domain/UtcDay.ts"
import { inputDecoder } from "../domain/Validate.ts"
import { namedAs } from "../domain/PublicOperation.ts"
import * as Metrics from "../Metrics.ts"

/**
 * Temp files older than this (by the wall clock, as file times are) belong to a run that died;
 * younger ones may be a live run's, in this or another process.
 */
export const STALE_TEMP_AGE_MS = 60 * 60 * 1000

/** Rows deleted since the last checkpoint after which the WAL is checkpointed (truncated). */
export const CHECKPOINT_AFTER_ROWS = 10_000

const decodeOptions = inputDecoder(ArchiveOptions, "options")

const noProgress: ArchiveProgressListener = () => Effect.void

type DayError = ArchiveError | CorruptRow | DatabaseError

/** What became of one planned day. */
type DayOutcome =
  | { readonly _tag: "Archived"; readonly result: ArchiveDayResult }
  | { readonly _tag: "Skipped"; readonly reason: string }

const skipped = (reason: string): DayOutcome => ({ _tag: "Skipped", reason })

const sameFiles = (a: ReadonlyArray<StoredFile>, b: ReadonlyArray<StoredFile>): boolean =>
  a.length === b.length && a.every((file, i) => file.name === b[i]?.name && file.bytes === b[i]?.bytes)

const matches = (expected: ReadonlyArray<Expected>, actual: Expected): boolean =>
  expected.some((e) => e.sha256 === actual.sha256 && e.bytes === actual.bytes)

const isoTime = (ms: number): string => new Date(ms).toISOString()

/** The archive options after defaults. */
interface RunOptions {
  readonly now: number
  readonly compress: boolean
  readonly keepRestoredMs: number
  readonly includeRestored: boolean
}

/** Builds the service on a connection (whose schema is migrated) and a day file store. */
export const make = Effect.fnUntraced(function*(sql: SqliteShape, store: DayFileStore): Effect.fn.Return<LogArchiveShape> {
  const rows = makeLogRows(sql)
  const manifest = makeManifest(sql)
  const reader = makeDayReader(store, manifest)
  // `archive` and `restore` of one service take turns; other processes are held off by SQLite's
  // write lock around publish + delete.
  const lock = yield* Semaphore.make(1)
  const exclusive = lock.withPermits(1)

  const planWith = Effect.fnUntraced(function*(options: ArchiveOptions) {
    const now = options.now ?? (yield* Clock.currentTimeMillis)
    const window = retentionWindow(now, options.retentionMs ?? DEFAULT_LOG_RETENTION_MS)
    const days = yield* rows.daysWithRows(window.endExclusiveMs, options.maxDays ?? Number.POSITIVE_INFINITY)
    const watermark = yield* rows.watermark
    return { now, lastEligibleDay: window.lastEligibleDay, watermark, days } satisfies ArchivePlan
  })

  const plan = Effect.fn("LogArchive.plan")(function*(options: ArchiveOptions = {}): Effect.fn.Return<ArchivePlan, InvalidInput | DatabaseError> {
    return yield* planWith(yield* decodeOptions(options))
  })

  /** The files of `day` that exist now (plain, then gzip), with their sizes. */
  const existingFiles = Effect.fnUntraced(function*(day: string) {
    const found: Array<StoredFile> = []
    for (const name of [dayFileName(day, false), dayFileName(day, true)]) {
      const info = yield* store.stat(name)
      if (Option.isSome(info)) found.push(info.value)
    }
    return found
  })

  /** The sha256 and size of the published file `name`, or none if it is not there. */
  const hashOf = (name: string): Effect.Effect<Option.Option<Expected>, ArchiveError> =>
    Effect.scoped(Effect.flatMap(store.open(name), (opened) =>
      Option.isNone(opened) ? Effect.succeedNone : Effect.map(hashContent(opened.value.content), Option.some)))

  /**
   * Brings the record of `day` in line with the disk after a run that wrote a pending row and then
   * died (or failed to COMMIT): if its file was published, the pending row becomes the manifest
   * row; if not, the pending row is dropped. A live run whose pending row is dropped skips the day.
   */
  const recover = Effect.fnUntraced(function*(day: UtcDay) {
    if (Option.isNone(yield* manifest.getPending(day))) return
    // The file is hashed under the write lock: a run can publish only while it holds the lock, so
    // what is on disk cannot change between the check and the repair. (Rare: after a crash only.)
    yield* sql.transaction(Effect.gen(function*() {
      const pending = yield* manifest.getPending(day)
      if (Option.isNone(pending)) return
      const p = pending.value
      const onDisk = yield* hashOf(p.fileName)
      if (Option.isNone(onDisk) || !matches([p], onDisk.value)) return yield* manifest.clearPending(day)
      yield* manifest.promotePending(p)
      // The interrupted run had merged the day's other-format file into this one.
      for (const old of yield* existingFiles(day)) if (old.name !== p.fileName) yield* store.remove(old.name)
      yield* Effect.logInfo(`LogArchive: recorded ${store.describe(p.fileName)}, published by an interrupted run`)
    }))
  })

  /**
   * The recorded file of a day must be what the manifest says before anything is merged into it:
   * a file changed outside nerve-store is moved to quarantine and the day fails.
   */
  const checkRecordedFile = Effect.fnUntraced(function*(day: UtcDay, record: DayRecord, fileName: string) {
    const expected = acceptedFiles(record).filter((f) => f.fileName === fileName)
    const actual = yield* hashOf(fileName)
    if (Option.isNone(actual) || matches(expected, actual.value)) return Option.none<string>()
    // Under the write lock: no archiver can publish between this check and the quarantine.
    return yield* sql.transaction(Effect.gen(function*() {
      if (!sameRecord(record, yield* manifest.record(day))) {
        return Option.some("its archive file changed while it was checked (another archive run published it)")
      }
      const moved = yield* store.quarantine(fileName)
      return yield* new ArchiveError({
        file: store.describe(fileName),
        reason: "corrupt",
        detail: `the file does not match its manifest row (sha256 ${actual.value.sha256}, ${actual.value.bytes} bytes; ` +
          `recorded ${expected.map((e) => `${e.sha256}, ${e.bytes} bytes`).join(" or ")}); ` +
          `nothing was merged, and the file was moved to ${moved} for inspection`
      })
    }))
  })

  const archiveDay = Effect.fnUntraced(function*(
    planned: PlannedDay,
    options: RunOptions,
    onProgress: ArchiveProgressListener
  ): Effect.fn.Return<DayOutcome, DayError> {
    const day = planned.day
    const restoredAt = yield* manifest.restoredAt(day)
    if (restoredAt !== null && !options.includeRestored && options.now - restoredAt < options.keepRestoredMs) {
      return skipped(
        `it was restored at ${isoTime(restoredAt)}; it stays in SQLite until ${isoTime(restoredAt + options.keepRestoredMs)} ` +
          "(archive with includeRestored to take it now)"
      )
    }
    yield* recover(day)
    const record = yield* manifest.record(day)
    if (Option.isSome(record.pending)) return skipped("another archive run is publishing its file")
    const existing = yield* existingFiles(day)
    if (Option.isSome(record.manifest)) {
      const recorded = record.manifest.value
      if (!existing.some((f) => f.name === recorded.fileName)) return yield* reader.missingFile(recorded.fileName, recorded.lineCount)
      const changed = yield* checkRecordedFile(day, record, recorded.fileName)
      if (Option.isSome(changed)) return skipped(changed.value)
    }
    const finalName = dayFileName(day, options.compress)
    const file = store.describe(finalName)
    // Existing files are merged in line by line (each line decoded); the recorded one was checked
    // against its hash above, a 0.5 file (no manifest row) has no hash to check.
    const { stats, bytes } = exportDay({
      rows,
      store,
      day: planned,
      existing,
      compress: options.compress,
      file,
      onBatch: (s) => onProgress({ _tag: "DayProgress", day, rowsWritten: s.sqliteRows, totalRows: planned.rowCount })
    })
    const temp = yield* store.writeTemp(bytes).pipe(
      // Another archiver replaced (and removed) a file this export was reading: its run has the day.
      Effect.catchIf(
        (error) => error._tag === "ArchiveError" && error.reason === "notFound",
        () => Effect.succeed(undefined)
      )
    )
    if (temp === undefined) return skipped("a file of the day was replaced while it was read (another archive run took the day)")
    const { firstSqliteId, lastSqliteId, minId, maxId } = stats
    if (firstSqliteId === null || lastSqliteId === null) {
      yield* store.discard(temp)
      return skipped("its rows left SQLite after the run planned it (another archive run took them)")
    }
    yield* reach("after-temp-write", day)

    /** Whether SQLite and the folder still hold what was exported (called under the write lock). */
    const unchanged = Effect.gen(function*() {
      const present = yield* rows.countRange(day, firstSqliteId, lastSqliteId)
      if (present !== stats.sqliteRows) {
        return Option.some(
          `its rows changed while it was exported (${stats.sqliteRows} exported, ${present} still in SQLite); ` +
            "another archive run may have taken them"
        )
      }
      if (!sameFiles(existing, yield* existingFiles(day))) {
        return Option.some("its archive file changed while it was exported (another archive run published it)")
      }
      return Option.none<string>()
    })

    // 1. Claim: record what is about to be published, and commit it before the rename, so that
    //    the file is recognised whatever happens to the transaction that publishes it.
    const token = randomBytes(16).toString("hex")
    const pending: PendingRow = {
      day,
      fileName: finalName,
      lineCount: stats.lines,
      bytes: temp.bytes,
      sha256: temp.sha256,
      minId,
      maxId,
      token,
      startedAt: yield* Clock.currentTimeMillis
    }
    const claim = yield* sql.transaction(Effect.gen(function*() {
      if (!sameRecord(record, yield* manifest.record(day))) {
        return Option.some("its manifest changed while it was exported (another archive run published it)")
      }
      const changed = yield* unchanged
      if (Option.isNone(changed)) yield* manifest.putPending(pending)
      return changed
    })).pipe(Effect.onError(() => store.discard(temp)))
    if (Option.isSome(claim)) {
      yield* store.discard(temp)
      return skipped(claim.value)
    }

    // 2. Publish, record, delete: under SQLite's write lock from here to the end, so no other
    //    archiver (fiber or process) can publish this day's file or delete its rows between the
    //    checks and our own publish + delete.
    const outcome = yield* sql.transaction(Effect.gen(function*() {
      const current = yield* manifest.getPending(day)
      if (Option.isNone(current) || current.value.token !== token) {
        return skipped("another archive run claimed it while it was exported")
      }
      const changed = yield* unchanged
      if (Option.isSome(changed)) {
        yield* manifest.clearPending(day)
        return skipped(changed.value)
      }
      yield* store.publish(temp, finalName)
      yield* reach("after-rename", day)
      // The manifest row records exactly what the claim described.
      const { token: _token, startedAt: _startedAt, ...recorded } = pending
      yield* manifest.put({ ...recorded, archivedAt: yield* Clock.currentTimeMillis })
      yield* manifest.clearPending(day)
      yield* reach("after-manifest", day)
      // The day's other-format file (before a switch of `compress`) is merged in; drop it now.
      for (const old of existing) if (old.name !== finalName) yield* store.remove(old.name)
      const changes = yield* rows.deleteRange(day, firstSqliteId, lastSqliteId)
      yield* reach("inside-delete", day)
      if (changes !== stats.sqliteRows) {
        // Cannot happen under the write lock right after the count; rolls back if it ever does.
        return yield* new ArchiveError({
          file,
          reason: "changedOnDisk",
          detail: `the rows of ${day} changed while it was archived (${stats.sqliteRows} exported, ${changes} to delete); ` +
            "nothing was deleted, run the archive again"
        })
      }
      yield* rows.advanceWatermarkTo(day)
      yield* manifest.clearRestored(day)
      const result: ArchiveDayResult = { day, rowCount: changes, file, bytes: temp.bytes, lineCount: stats.lines }
      return { _tag: "Archived", result } satisfies DayOutcome
    })).pipe(Effect.onError(() => store.discard(temp)))
    // A published temp file is gone already; discarding it again is harmless.
    if (outcome._tag === "Skipped") yield* store.discard(temp)
    return outcome
  })

  const archive = Effect.fn("LogArchive.archive")(function*(
    options: ArchiveOptions = {},
    onProgress: ArchiveProgressListener = noProgress
  ): Effect.fn.Return<ArchiveResult, InvalidInput | ArchiveError | CorruptRow | DatabaseError> {
    const decoded = yield* decodeOptions(options)
    const planned = yield* planWith(decoded)
    const runOptions: RunOptions = {
      now: planned.now,
      compress: decoded.compress === "gzip",
      keepRestoredMs: decoded.keepRestoredMs ?? DEFAULT_KEEP_RESTORED_MS,
      includeRestored: decoded.includeRestored === true
    }
    yield* sweepTemps
    const results: Array<ArchiveDayResult> = []
    const failures: Array<DayError> = []
    const dayCount = planned.days.length
    let deletedSinceCheckpoint = 0
    let deletedTotal = 0
    for (const [dayIndex, day] of planned.days.entries()) {
      yield* onProgress({ _tag: "DayStarted", day: day.day, dayIndex, dayCount, totalRows: day.rowCount })
      // One day's failure (a damaged file, a row too odd to export, a full disk) is reported and
      // the run goes on: a bad day must never keep the days after it in SQLite.
      const outcome = yield* archiveDay(day, runOptions, onProgress).pipe(
        Effect.tap((outcome) =>
          Effect.annotateCurrentSpan(
            outcome._tag === "Archived"
              ? { day: day.day, outcome: "archived", rowCount: outcome.result.rowCount, lineCount: outcome.result.lineCount, bytes: outcome.result.bytes }
              : { day: day.day, outcome: "skipped" }
          )
        ),
        Effect.withSpan("LogArchive.archiveDay", { attributes: { day: day.day, plannedRows: day.rowCount } }),
        Effect.result
      )
      if (outcome._tag === "Failure") {
        const error = outcome.failure
        failures.push(error)
        yield* Effect.logWarning(`LogArchive: ${day.day} failed: ${error.message}`)
        yield* onProgress({ _tag: "DayFailed", day: day.day, error: error._tag, message: error.message })
        continue
      }
      if (outcome.success._tag === "Skipped") {
        yield* Effect.logInfo(`LogArchive: skipped ${day.day}: ${outcome.success.reason}`)
        yield* onProgress({ _tag: "DaySkipped", day: day.day, reason: outcome.success.reason })
        continue
      }
      const result = outcome.success.result
      results.push(result)
      deletedTotal += result.rowCount
      yield* Metrics.recordArchivedRows(result.rowCount)
      deletedSinceCheckpoint += result.rowCount
      if (deletedSinceCheckpoint >= CHECKPOINT_AFTER_ROWS) {
        yield* rows.checkpoint
        deletedSinceCheckpoint = 0
      }
      yield* onProgress({ _tag: "DayFinished", day: day.day, result })
    }
    yield* Effect.annotateCurrentSpan({ days: results.length, failedDays: failures.length, rowCount: deletedTotal })
    // Every day with rows up to the last eligible day is done: the empty ones count as archived.
    const complete = failures.length === 0 && (decoded.maxDays === undefined || dayCount < decoded.maxDays)
    if (complete && (planned.watermark === null || planned.watermark < planned.lastEligibleDay)) {
      yield* rows.advanceWatermarkTo(planned.lastEligibleDay)
    }
    const vacuumed = decoded.vacuum === true && failures.length === 0
    if (vacuumed) yield* rows.vacuum
    // VACUUM rewrites the whole database through the WAL, and the watermark write above lands
    // after the last checkpoint: leave the WAL empty after a large run.
    if (vacuumed || deletedTotal >= CHECKPOINT_AFTER_ROWS) yield* rows.checkpoint
    const [firstFailure] = failures
    if (firstFailure !== undefined) return yield* Effect.fail(firstFailure)
    return { days: results, vacuumed }
  }, exclusive, namedAs("LogArchive.archive"))

  /** Removes stale temp files of killed runs (the one sweep rule, at layer build and at each run). */
  const sweepTemps: Effect.Effect<void> = store.sweepTemps(STALE_TEMP_AGE_MS).pipe(
    Effect.flatMap((removed) =>
      removed > 0 ? Effect.logInfo(`LogArchive: removed ${removed} stale temp file(s) of an interrupted run`) : Effect.void
    ),
    Effect.catch((error) => Effect.logWarning(`LogArchive: could not sweep stale temp files: ${error.message}`))
  )

  const days = Effect.fn("LogArchive.days")(function*(): Effect.fn.Return<
    ReadonlyArray<ArchivedDay>,
    ArchiveError | CorruptRow | DatabaseError
  > {
    const recorded = yield* manifest.list
    for (const row of recorded) yield* reader.checkedName(row.day, row.fileName)
    return listDays({
      manifest: recorded,
      pending: yield* manifest.listPending,
      restored: yield* manifest.listRestored,
      quarantined: yield* store.quarantined,
      files: yield* store.list,
      describe: store.describe
    })
  })

  const readDay = (input: string): Stream.Stream<LogEntry, InvalidUtcDay | ArchiveError | CorruptRow | DatabaseError> =>
    Stream.unwrap(Effect.gen(function*() {
      const day = yield* parseUtcDay(input)
      return reader.lines(yield* reader.openDay(day))
    })).pipe(Stream.map((line) => line.entry), Stream.withSpan("LogArchive.readDay", { attributes: { day: input } }))

  const restore = Effect.fn("LogArchive.restore")(function*(input: string): Effect.fn.Return<
    RestoreResult,
    InvalidUtcDay | ArchiveError | CorruptRow | DatabaseError
  > {
    const day = yield* parseUtcDay(input)
    yield* Effect.annotateCurrentSpan({ day })
    return yield* Effect.scoped(Effect.gen(function*() {
      // One opened file for both passes: check the whole file first, so a damaged file restores nothing.
      const opened = yield* reader.openDay(day)
      yield* Stream.runDrain(reader.lines(opened))
      // Recorded first, so that an archive run in another process leaves the restored rows alone.
      yield* manifest.markRestored(day, yield* Clock.currentTimeMillis)
      let total = 0
      let restored = 0
      yield* Stream.runForEachArray(reader.lines(opened), (lines) =>
        Effect.map(rows.insertIgnoringPresent(lines.map((line) => line.entry)), (inserted) => {
          total += lines.length
          restored += inserted
        }))
      yield* Effect.annotateCurrentSpan({ restored, skipped: total - restored })
      return { day, file: store.describe(opened.opened.name), restored, skipped: total - restored }
    }))
  }, exclusive)

  yield* sweepTemps
  return { plan, archive, days, readDay, restore }
})

/** The archive on the migrated database and the `DayFiles` store in context. */
export const layer: Layer.Layer<LogArchive, never, Database | DayFiles> = Layer.effect(
  LogArchive,
  Effect.gen(function*() {
    const { sql } = yield* Database
    return LogArchive.of(yield* make(sql, yield* DayFiles))
  })
)

/** Day files under `archiveDir` (e.g. `<dataDir>/archive/logs`), created on the first write. */
export const layerFileSystem = (
  archiveDir: string
): Layer.Layer<LogArchive, never, Database | FileSystem.FileSystem | Path.Path> =>
  layer.pipe(Layer.provide(DayFiles.layerFileSystem(archiveDir)))

/** Day files in memory, fresh for each build of the layer. */
export const layerMemory: Layer.Layer<LogArchive, never, Database> = layer.pipe(Layer.provide(DayFiles.layerMemory))
