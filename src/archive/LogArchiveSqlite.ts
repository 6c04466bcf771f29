/**
 * LogArchive on the migrated SQLite database and a day file store (file system or memory).
 * The per-day publish protocol is described in docs/ARCHITECTURE.md §Archive a day.
 *
 * @since 0.7.0
 */
import { Clock, Effect, FileSystem, Layer, Option, Path, Semaphore, Stream } from "effect"
import {
  type ArchivedDay,
  type ArchiveDayResult,
  ArchiveOptions,
  type ArchivePlan,
  type ArchiveResult,
  type PlannedDay,
  type RestoreResult
} from "../../schema/Archive.ts"
import { ArchiveError, CorruptRow, type DatabaseError, type InvalidInput, type InvalidUtcDay } from "../../schema/Errors.ts"
import type { LogEntry } from "../../schema/LogEntry.ts"
import { readDayLines } from "./DayFile.ts"
import { dayFileName, DayFiles, type DayFileStore, parseDayFileName, type StoredFile } from "./DayFileStore.ts"
import { exportDay } from "./Exporter.ts"
import { reach } from "./FaultHook.ts"
import { makeLogRows } from "./LogRows.ts"
import { makeManifest, type ManifestRow } from "./Manifest.ts"
import { retentionWindow } from "./Plan.ts"
import { Database } from "../sqlite/Database.ts"
import type { SqliteShape } from "../sqlite/Sqlite.ts"
import { type ArchiveProgressListener, LogArchive, type LogArchiveShape } from "../LogArchive.ts"
import { DEFAULT_LOG_RETENTION_MS, parseUtcDay } from "../domain/UtcDay.ts"
import { inputDecoder } from "../domain/Validate.ts"

/**
 * Temp files older than this (by the wall clock, as file times are) belong to a run that died;
 * younger ones may be a live run's, in this or another process.
 */
export const STALE_TEMP_AGE_MS = 60 * 60 * 1000

/** Rows deleted since the last checkpoint after which the WAL is checkpointed (truncated). */
export const CHECKPOINT_AFTER_ROWS = 10_000

const decodeOptions = inputDecoder(ArchiveOptions, "options")

const noProgress: ArchiveProgressListener = () => Effect.void

/** What became of one planned day. */
type DayOutcome =
  | { readonly _tag: "Archived"; readonly result: ArchiveDayResult }
  | { readonly _tag: "Skipped"; readonly reason: string }

const skipped = (reason: string): DayOutcome => ({ _tag: "Skipped", reason })

const sameFiles = (a: ReadonlyArray<StoredFile>, b: ReadonlyArray<StoredFile>): boolean =>
  a.length === b.length && a.every((file, i) => file.name === b[i]?.name && file.bytes === b[i]?.bytes)

/** Builds the service on a connection (whose schema is migrated) and a day file store. */
export const make = Effect.fnUntraced(function*(sql: SqliteShape, store: DayFileStore): Effect.fn.Return<LogArchiveShape> {
  const rows = makeLogRows(sql)
  const manifest = makeManifest(sql)
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

  const archiveDay = Effect.fnUntraced(function*(
    planned: PlannedDay,
    compress: boolean,
    onProgress: ArchiveProgressListener
  ) {
    const day = planned.day
    const finalName = dayFileName(day, compress)
    const file = store.describe(finalName)
    // Existing files are merged in line by line (each line decoded), not trusted by hash: after a
    // crash between publish and manifest the file legitimately differs from its manifest row.
    const existing = yield* existingFiles(day)
    const { stats, bytes } = exportDay({
      rows,
      store,
      day: planned,
      existing,
      compress,
      file,
      onBatch: (s) => onProgress({ _tag: "DayProgress", day, rowsWritten: s.sqliteRows, totalRows: planned.rowCount })
    })
    const temp = yield* store.writeTemp(bytes)
    const { firstSqliteId, lastSqliteId, minId, maxId } = stats
    if (firstSqliteId === null || lastSqliteId === null) {
      yield* store.discard(temp)
      return skipped("its rows left SQLite after the run planned it (another archive run took them)")
    }
    yield* reach("after-temp-write", day)
    // Under SQLite's write lock from here to the end: no other archiver (fiber or process) can
    // publish this day's file or delete its rows between the checks and our own publish + delete.
    const outcome = yield* sql.transaction(Effect.gen(function*() {
      const present = yield* rows.countRange(day, firstSqliteId, lastSqliteId)
      if (present !== stats.sqliteRows) {
        return skipped(
          `its rows changed while it was exported (${stats.sqliteRows} exported, ${present} still in SQLite); ` +
            "another archive run may have taken them"
        )
      }
      if (!sameFiles(existing, yield* existingFiles(day))) {
        return skipped("its archive file changed while it was exported (another archive run published it)")
      }
      yield* store.publish(temp, finalName)
      yield* reach("after-rename", day)
      yield* manifest.put({
        day,
        file: finalName,
        rowCount: stats.lines,
        bytes: temp.bytes,
        sha256: temp.sha256,
        minId,
        maxId,
        archivedAt: yield* Clock.currentTimeMillis
      })
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
      const result: ArchiveDayResult = { day, rowCount: changes, filePath: file, bytes: temp.bytes, lineCount: stats.lines }
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
    const staleTemps = yield* store.sweepTemps(STALE_TEMP_AGE_MS)
    if (staleTemps > 0) yield* Effect.logInfo(`LogArchive: removed ${staleTemps} stale temp file(s) of an interrupted run`)
    const results: Array<ArchiveDayResult> = []
    const dayCount = planned.days.length
    let deletedSinceCheckpoint = 0
    let deletedTotal = 0
    for (const [dayIndex, day] of planned.days.entries()) {
      yield* onProgress({ _tag: "DayStarted", day: day.day, dayIndex, dayCount, totalRows: day.rowCount })
      const outcome = yield* archiveDay(day, decoded.compress === "gzip", onProgress)
      if (outcome._tag === "Skipped") {
        yield* Effect.logInfo(`LogArchive: skipped ${day.day}: ${outcome.reason}`)
        yield* onProgress({ _tag: "DaySkipped", day: day.day, reason: outcome.reason })
        continue
      }
      const result = outcome.result
      results.push(result)
      deletedTotal += result.rowCount
      deletedSinceCheckpoint += result.rowCount
      if (deletedSinceCheckpoint >= CHECKPOINT_AFTER_ROWS) {
        yield* rows.checkpoint
        deletedSinceCheckpoint = 0
      }
      yield* onProgress({ _tag: "DayFinished", day: day.day, result })
    }
    // Every day with rows up to the last eligible day is done: the empty ones count as archived.
    const complete = decoded.maxDays === undefined || dayCount < decoded.maxDays
    if (complete && (planned.watermark === null || planned.watermark < planned.lastEligibleDay)) {
      yield* rows.advanceWatermarkTo(planned.lastEligibleDay)
    }
    const vacuumed = decoded.vacuum === true
    if (vacuumed) yield* rows.vacuum
    // VACUUM rewrites the whole database through the WAL, and the watermark write above lands
    // after the last checkpoint: leave the WAL empty after a large run.
    if (vacuumed || deletedTotal >= CHECKPOINT_AFTER_ROWS) yield* rows.checkpoint
    return { days: results, vacuumed }
  }, exclusive)

  const checkedName = (row: ManifestRow): Effect.Effect<string, CorruptRow> =>
    Option.match(parseDayFileName(row.file), {
      onSome: (parsed) =>
        parsed.day === row.day
          ? Effect.succeed(row.file)
          : Effect.fail(new CorruptRow({ table: "archive_manifest", key: row.day, reason: `file ${row.file} is not this day's` })),
      onNone: () =>
        Effect.fail(new CorruptRow({ table: "archive_manifest", key: row.day, reason: `file ${row.file} is not a day file name` }))
    })

  const days = Effect.fn("LogArchive.days")(function*(): Effect.fn.Return<
    ReadonlyArray<ArchivedDay>,
    ArchiveError | CorruptRow | DatabaseError
  > {
    const manifestRows = new Map((yield* manifest.list).map((row) => [row.day, row]))
    const byDay = new Map<string, ArchivedDay>()
    for (const stored of yield* store.list) {
      const parsed = parseDayFileName(stored.name)
      if (Option.isNone(parsed)) continue
      const { day, compressed } = parsed.value
      const row = manifestRows.get(day)
      const described = row !== undefined && row.file === stored.name
      // One entry per day: the manifest's file, else the first found (plain before gzip).
      if (byDay.has(day) && !described) continue
      byDay.set(day, {
        day,
        file: store.describe(stored.name),
        compressed,
        bytes: stored.bytes,
        rowCount: described ? row.rowCount : null,
        sha256: described ? row.sha256 : null,
        minId: described ? row.minId : null,
        maxId: described ? row.maxId : null,
        archivedAt: described ? row.archivedAt : null
      })
    }
    return [...byDay.values()].sort((a, b) => (a.day < b.day ? -1 : a.day > b.day ? 1 : 0))
  })

  const readDay = (input: string): Stream.Stream<LogEntry, InvalidUtcDay | ArchiveError | CorruptRow | DatabaseError> =>
    Stream.unwrap(Effect.gen(function*() {
      const day = yield* parseUtcDay(input)
      const row = yield* manifest.get(day)
      if (Option.isSome(row)) {
        const name = yield* checkedName(row.value)
        if (Option.isNone(yield* store.stat(name))) {
          return yield* new ArchiveError({ file: store.describe(name), reason: "missing", detail: "the manifest lists this file but it is missing" })
        }
        return readDayLines(store, name, { sha256: row.value.sha256, bytes: row.value.bytes })
      }
      const [found] = yield* existingFiles(day)
      if (found === undefined) {
        return yield* new ArchiveError({ file: store.describe(dayFileName(day, false)), reason: "notArchived", detail: `${day} is not archived` })
      }
      return readDayLines(store, found.name)
    })).pipe(Stream.map((line) => line.entry), Stream.withSpan("LogArchive.readDay"))

  const restore = Effect.fn("LogArchive.restore")(function*(input: string): Effect.fn.Return<
    RestoreResult,
    InvalidUtcDay | ArchiveError | CorruptRow | DatabaseError
  > {
    const day = yield* parseUtcDay(input)
    // Check the whole file first, so a damaged file restores nothing.
    yield* Stream.runDrain(readDay(day))
    let total = 0
    let restored = 0
    yield* Stream.runForEachArray(readDay(day), (entries) =>
      Effect.map(rows.insertIgnoringPresent(entries), (inserted) => {
        total += entries.length
        restored += inserted
      }))
    const row = yield* manifest.get(day)
    const name = Option.isSome(row) ? row.value.file : ((yield* existingFiles(day))[0]?.name ?? dayFileName(day, false))
    return { day, file: store.describe(name), restored, skipped: total - restored }
  }, exclusive)

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
