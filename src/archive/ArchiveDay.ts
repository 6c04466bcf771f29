/**
 * Archiving one planned day (docs/ARCHITECTURE.md §Archive a day): export the day's rows (merged
 * with its existing files) to a temp file, claim the day, publish the file and record it, then
 * delete the exported rows in bounded steps (`DeleteExported.ts`).
 *
 * @since 0.8.0
 */
import { Clock, Effect, Option } from "effect"
import { randomBytes } from "node:crypto"
import type { ArchiveDayResult, PlannedDay } from "../../schema/Archive.ts"
import type { ArchiveError, CorruptRow, DatabaseError } from "../../schema/Errors.ts"
import type { ArchiveRepositoryShape, PendingRow } from "../seam/ArchiveRepository.ts"
import type { ArchiveProgressListener } from "../LogArchive.ts"
import type { UtcDay } from "../domain/UtcDay.ts"
import { dayFileName, type DayFileStore, type StoredFile } from "./DayFileStore.ts"
import type { DayReader } from "./DayReader.ts"
import { countSteps, deleteExported } from "./DeleteExported.ts"
import { exportDay } from "./Exporter.ts"
import { reach } from "./FaultHook.ts"
import { sameRecord } from "./Manifest.ts"
import type { RecordedFiles } from "./RecordedFiles.ts"

export type DayError = ArchiveError | CorruptRow | DatabaseError

/** What became of one planned day. */
export type DayOutcome =
  | { readonly _tag: "Archived"; readonly result: ArchiveDayResult }
  | { readonly _tag: "Skipped"; readonly reason: string }

/** The archive options after defaults. */
export interface RunOptions {
  readonly now: number
  readonly compress: boolean
  readonly keepRestoredMs: number
  readonly includeRestored: boolean
}

/** What archiving a day works with. */
export interface DayContext {
  readonly repo: ArchiveRepositoryShape
  readonly store: DayFileStore
  readonly files: RecordedFiles
  readonly reader: Pick<DayReader, "missingFile">
}

const skipped = (reason: string): DayOutcome => ({ _tag: "Skipped", reason })

const sameFiles = (a: ReadonlyArray<StoredFile>, b: ReadonlyArray<StoredFile>): boolean =>
  a.length === b.length && a.every((file, i) => file.name === b[i]?.name && file.bytes === b[i]?.bytes)

const isoTime = (ms: number): string => new Date(ms).toISOString()

/** Archives one planned day; a day another run took meanwhile is skipped with the reason. */
export const archiveDay = Effect.fnUntraced(function*(
  { files, reader, repo, store }: DayContext,
  planned: PlannedDay,
  options: RunOptions,
  onProgress: ArchiveProgressListener
): Effect.fn.Return<DayOutcome, DayError> {
  const day: UtcDay = planned.day
  const restoredAt = Option.getOrNull(yield* repo.restoredAt(day))
  if (restoredAt !== null && !options.includeRestored && options.now - restoredAt < options.keepRestoredMs) {
    return skipped(
      `it was restored at ${isoTime(restoredAt)}; it stays in SQLite until ${isoTime(restoredAt + options.keepRestoredMs)} ` +
        "(archive with includeRestored to take it now)"
    )
  }
  yield* files.recover(day)
  const record = yield* repo.record(day)
  if (Option.isSome(record.pending)) return skipped("another archive run is publishing its file")
  const existing = yield* files.existingFiles(day)
  if (Option.isSome(record.manifest)) {
    const recorded = record.manifest.value
    if (!existing.some((f) => f.name === recorded.fileName)) return yield* reader.missingFile(recorded.fileName, recorded.lineCount)
    const changed = yield* files.checkRecordedFile(day, record, recorded.fileName)
    if (Option.isSome(changed)) return skipped(changed.value)
  }
  const finalName = dayFileName(day, options.compress)
  const file = store.describe(finalName)
  // Existing files are merged in line by line (each line decoded); the recorded one was checked
  // against its hash above, a 0.5 file (no manifest row) has no hash to check.
  const { stats, bytes } = exportDay({
    rows: repo,
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
  if (stats.sqliteRows === 0) {
    yield* store.discard(temp)
    return skipped("its rows left SQLite after the run planned it (another archive run took them)")
  }
  yield* reach("after-temp-write", day)
  // One step per export page: a page is bounded in rows and in bytes.
  const steps = stats.ranges

  /** Whether the database and the folder still hold what was exported (called under the archive lock). */
  const unchanged = Effect.gen(function*() {
    const present = yield* countSteps(repo, day, steps)
    if (present !== stats.sqliteRows) {
      return Option.some(
        `its rows changed while it was exported (${stats.sqliteRows} exported, ${present} still in SQLite); ` +
          "another archive run may have taken them"
      )
    }
    if (!sameFiles(existing, yield* files.existingFiles(day))) {
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
    minId: stats.minId,
    maxId: stats.maxId,
    token,
    startedAt: yield* Clock.currentTimeMillis
  }
  const claim = yield* repo.transaction(Effect.gen(function*() {
    if (!sameRecord(record, yield* repo.record(day))) {
      return Option.some("its manifest changed while it was exported (another archive run published it)")
    }
    const changed = yield* unchanged
    if (Option.isNone(changed)) yield* repo.putPending(pending)
    return changed
  })).pipe(Effect.onError(() => store.discard(temp)))
  if (Option.isSome(claim)) {
    yield* store.discard(temp)
    return skipped(claim.value)
  }

  // 2. Publish and record, under the archive lock, so that no other archiver (fiber or process)
  //    can publish this day's file or delete its rows between the checks and our publish.
  const published = yield* repo.transaction(Effect.gen(function*() {
    const current = (yield* repo.record(day)).pending
    if (Option.isNone(current) || current.value.token !== token) {
      return Option.some("another archive run claimed it while it was exported")
    }
    const changed = yield* unchanged
    if (Option.isSome(changed)) {
      yield* repo.clearPending(day)
      return changed
    }
    yield* store.publish(temp, finalName)
    yield* reach("after-rename", day)
    // The manifest row records exactly what the claim described.
    const { token: _token, startedAt: _startedAt, ...recorded } = pending
    yield* repo.putManifest({ ...recorded, archivedAt: yield* Clock.currentTimeMillis })
    yield* repo.clearPending(day)
    yield* reach("after-manifest", day)
    // The day's other-format file (before a switch of `compress`) is merged in; drop it now.
    for (const old of existing) if (old.name !== finalName) yield* store.remove(old.name)
    // Archived again: a restore from now on stops the delete steps below.
    yield* repo.clearRestored(day)
    return Option.none<string>()
  })).pipe(Effect.onError(() => store.discard(temp)))
  if (Option.isSome(published)) {
    yield* store.discard(temp)
    return skipped(published.value)
  }

  // 3. Delete what was exported, in bounded steps; the file is durable and recorded.
  const deleted = yield* deleteExported(repo, day, { fileName: finalName, sha256: temp.sha256, file }, steps)
  if (Option.isSome(deleted.stopped)) yield* Effect.logInfo(`LogArchive: ${day}: stopped deleting: ${deleted.stopped.value}`)
  else yield* repo.advanceArchivedUpTo(day)
  const result: ArchiveDayResult = { day, rowCount: deleted.rows, file, bytes: temp.bytes, lineCount: stats.lines }
  return { _tag: "Archived", result } satisfies DayOutcome
})
