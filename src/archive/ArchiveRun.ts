/**
 * One `archive` run: every planned day in turn (a day that fails is reported and the run goes on),
 * then the archived-up-to day, VACUUM when asked, and a checkpoint after large deletes.
 *
 * @since 0.8.0
 */
import { Effect } from "effect"
import { type ArchiveDayResult, type ArchiveOptions, type ArchiveResult, DEFAULT_KEEP_RESTORED_MS } from "../../schema/Archive.ts"
import type { ArchiveProgressListener } from "../LogArchive.ts"
import * as Metrics from "../Metrics.ts"
import { archiveDay, type DayContext, type DayError, type RunOptions } from "./ArchiveDay.ts"
import { planDays } from "./Plan.ts"

/** Rows deleted since the last checkpoint after which the backend's log is checkpointed. */
export const CHECKPOINT_AFTER_ROWS = 10_000

/** Runs the archive with decoded options. */
export const runArchive = Effect.fnUntraced(function*(
  context: DayContext,
  options: ArchiveOptions,
  onProgress: ArchiveProgressListener
): Effect.fn.Return<ArchiveResult, DayError> {
  const { repo } = context
  const planned = yield* planDays(repo, options)
  const runOptions: RunOptions = {
    now: planned.now,
    compress: options.compress === "gzip",
    keepRestoredMs: options.keepRestoredMs ?? DEFAULT_KEEP_RESTORED_MS,
    includeRestored: options.includeRestored === true
  }
  const results: Array<ArchiveDayResult> = []
  const failures: Array<DayError> = []
  const dayCount = planned.days.length
  let deletedSinceCheckpoint = 0
  let deletedTotal = 0
  for (const [dayIndex, day] of planned.days.entries()) {
    yield* onProgress({ _tag: "DayStarted", day: day.day, dayIndex, dayCount, totalRows: day.rowCount })
    // One day's failure (a damaged file, a row too odd to export, a full disk) is reported and
    // the run goes on: a bad day must never keep the days after it in SQLite.
    const outcome = yield* archiveDay(context, day, runOptions, onProgress).pipe(
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
      yield* repo.checkpoint
      deletedSinceCheckpoint = 0
    }
    yield* onProgress({ _tag: "DayFinished", day: day.day, result })
  }
  yield* Effect.annotateCurrentSpan({ days: results.length, failedDays: failures.length, rowCount: deletedTotal })
  // Every day with rows up to the last eligible day is done: the empty ones count as archived.
  const complete = failures.length === 0 && (options.maxDays === undefined || dayCount < options.maxDays)
  if (complete && (planned.watermark === null || planned.watermark < planned.lastEligibleDay)) {
    yield* repo.advanceArchivedUpTo(planned.lastEligibleDay)
  }
  const vacuumed = options.vacuum === true && failures.length === 0
  if (vacuumed) yield* repo.vacuum
  // VACUUM rewrites the whole database through the WAL, and the watermark write above lands
  // after the last checkpoint: leave the WAL empty after a large run.
  if (vacuumed || deletedTotal >= CHECKPOINT_AFTER_ROWS) yield* repo.checkpoint
  const [firstFailure] = failures
  if (firstFailure !== undefined) return yield* Effect.fail(firstFailure)
  return { days: results, vacuumed }
})
