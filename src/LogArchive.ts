/**
 * The LogArchive service: moves whole old UTC days of the log out of SQLite into one JSONL file
 * per day (nerve-store 0.5 line format, optionally gzip), then deletes them from SQLite; reads
 * archived days back and restores them.
 *
 * The per-day protocol that keeps every row in SQLite or in a complete file, whatever the crash,
 * is described once, in docs/ARCHITECTURE.md §Archive a day (owned by `src/archive/ArchiveDay.ts`).
 *
 * @since 0.6.0
 */
import { Context, type Effect, type Stream } from "effect"
import type {
  ArchivedDay,
  ArchiveOptions,
  ArchivePlan,
  ArchiveProgress,
  ArchiveResult,
  RestoreResult
} from "../schema/Archive.ts"
import type { ArchiveError, CorruptRow, DatabaseError, InvalidInput, InvalidUtcDay } from "../schema/Errors.ts"
import type { LogEntry } from "../schema/LogEntry.ts"

/** Receives progress events of an `archive` run (e.g. to draw a per-day progress bar). */
export type ArchiveProgressListener = (event: ArchiveProgress) => Effect.Effect<void>

/** The operations of the archive, each with its full error type. */
export interface LogArchiveShape {
  /** What `archive` would do with these options now; writes nothing. */
  readonly plan: (options?: ArchiveOptions) => Effect.Effect<ArchivePlan, InvalidInput | DatabaseError>
  /**
   * Archives every eligible day with rows (oldest first, at most `maxDays`), reporting progress
   * to `onProgress`; runs VACUUM afterwards when `vacuum` is set. Days restored less than
   * `keepRestoredMs` ago are skipped (`DaySkipped`) unless `includeRestored`. A day that fails
   * (a damaged or tampered file, a missing recorded file, a full disk) is reported as `DayFailed`
   * and the run goes on with the next day; the run then fails with the first such error (no
   * VACUUM, and the watermark stays at the last day archived).
   */
  readonly archive: (
    options?: ArchiveOptions,
    onProgress?: ArchiveProgressListener
  ) => Effect.Effect<ArchiveResult, InvalidInput | ArchiveError | CorruptRow | DatabaseError>
  /**
   * Every archived day (each day file on disk and each manifest row), oldest first, with its
   * manifest data and a `status` (`ok`, `pending`, `unrecorded`, `missing`, `mismatch`,
   * `quarantined`; see `ArchivedDayStatus`).
   */
  readonly days: () => Effect.Effect<ReadonlyArray<ArchivedDay>, ArchiveError | CorruptRow | DatabaseError>
  /**
   * The rows of an archived day, in file order (by id). Each line is decoded (a bad one, or
   * invalid UTF-8, fails with `ArchiveError { file, line, reason }`); with a manifest row, the
   * file's size and sha256 are checked, failing after the last line on a mismatch. The file is
   * opened consistently with its manifest row, so a reader sees the old or the new day while
   * another process archives it; a file published by an interrupted run is recognised.
   */
  readonly readDay: (day: string) => Stream.Stream<LogEntry, InvalidUtcDay | ArchiveError | CorruptRow | DatabaseError>
  /**
   * Verifies an archived day, then puts its rows back into SQLite with their original ids,
   * skipping ids already present (so running it twice restores nothing the second time). The day
   * is marked restored (`days()` shows `restoredAt`), which keeps `archive` off it for
   * `keepRestoredMs`.
   */
  readonly restore: (day: string) => Effect.Effect<RestoreResult, InvalidUtcDay | ArchiveError | CorruptRow | DatabaseError>
}

/**
 * The log archive. Provide it with `NerveStoreLive` / `NerveStoreMemory`, or with
 * `LogArchiveFileSystem` / `LogArchiveMemory` on a `DatabaseFile` / `DatabaseMemory`.
 *
 * @example
 * ```ts
 * const program = Effect.gen(function*() {
 *   const archive = yield* LogArchive
 *   const result = yield* archive.archive({ retentionMs: 7 * 86_400_000, compress: "gzip" })
 *   for (const day of result.days) yield* Effect.log(`${day.day}: ${day.rowCount} rows -> ${day.file}`)
 *   return yield* Stream.runCollect(archive.readDay(result.days[0]?.day ?? "2024-01-01"))
 * })
 * ```
 */
export class LogArchive extends Context.Service<LogArchive, LogArchiveShape>()("@uncaged/nerve-store/LogArchive") {}
