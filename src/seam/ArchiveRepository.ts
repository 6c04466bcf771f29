/**
 * The archive's storage seam: what a backend (SQLite today, PostgreSQL next) answers so that the
 * backend-neutral LogArchive (`src/archive/LogArchive.ts`) can move whole UTC days of the log into
 * day files and back. Every member returns an Effect; nothing here assumes a synchronous driver.
 *
 * The rules (which days, the claim → publish → delete protocol, the checks before trusting a file,
 * bounded steps) live in `src/archive/`; a backend only stores and reads. The tables behind it:
 * the log rows, `meta` (the archived-up-to day), the manifest (one row per day file), the claim
 * (the file an archiver is about to publish: one per day) and the restored days.
 *
 * @example
 * ```ts
 * const repo = yield* ArchiveRepository
 * const days = yield* repo.daysWithRows(Date.UTC(2024, 0, 10), 1)
 * const page = yield* repo.pageBytes(days[0].day, days[0].minId - 1, days[0].maxId, 4096)
 * ```
 *
 * @since 0.8.0
 */
import { Context, type Effect, type Option, Schema } from "effect"
import type { PlannedDay } from "../../schema/Archive.ts"
import type { CorruptRow, DatabaseError } from "../../schema/Errors.ts"
import type { LogEntry } from "../../schema/LogEntry.ts"
import { TimestampMs } from "../../schema/Primitives.ts"
import { UtcDay } from "../domain/UtcDay.ts"

const Count = Schema.Int.pipe(Schema.check(Schema.isGreaterThanOrEqualTo(0)))
const Sha256 = Schema.String.pipe(Schema.check(Schema.isPattern(/^[0-9a-f]{64}$/, { message: "expected lowercase sha256 hex" })))

/** What a day file holds, as recorded: its name inside the archive folder, lines, size and hash. */
const FileRecord = {
  day: UtcDay,
  fileName: Schema.String,
  lineCount: Count,
  bytes: Count,
  sha256: Sha256,
  minId: Schema.NullOr(Schema.Int),
  maxId: Schema.NullOr(Schema.Int)
}

/**
 * A manifest row: the day file of `day` as published (`lineCount` is the SPEC's "row count": the
 * lines of the file, previously archived lines included), and when.
 */
export const ManifestRow = Schema.Struct({ ...FileRecord, archivedAt: TimestampMs })
export type ManifestRow = typeof ManifestRow.Type

/**
 * The claim of one archiver on one day: the file it is about to publish, committed before the
 * rename so that a file published by a run that died is still recognised. `token` names the run.
 * At most one per day: a second claim replaces the first, and the first run then skips the day.
 */
export const PendingRow = Schema.Struct({ ...FileRecord, token: Schema.String, startedAt: TimestampMs })
export type PendingRow = typeof PendingRow.Type

/** What the database says about one day, read at one moment (one statement or one snapshot). */
export interface DayRecord {
  readonly manifest: Option.Option<ManifestRow>
  readonly pending: Option.Option<PendingRow>
}

/** A page of a day's rows as archive lines (nerve-store 0.5 format), each with its id. */
export interface RowsPage {
  readonly ids: ReadonlyArray<number>
  readonly lines: ReadonlyArray<string>
}

/** A page of a day's rows as the bytes of their lines (each followed by `\n`), with its id range. */
export interface BytesPage {
  readonly count: number
  readonly firstId: number
  readonly lastId: number
  readonly bytes: Uint8Array
}

/** The estimated bytes one page may hold (a single larger row makes a page of its own). */
export const PAGE_BYTES_BUDGET = 4 * 1024 * 1024

/**
 * The storage an archive runs on. Ids are the log's own ids; a "day" is a `UtcDay` and selects
 * rows with `timestamp` in `[day 00:00, next day 00:00)` UTC. Members that write run in the
 * caller's `transaction` when there is one, else each in a transaction of its own.
 */
export interface ArchiveRepositoryShape {
  // --- the log rows of a day ---

  /** The days with rows dated before `beforeMs`, oldest first, at most `maxDays`, with their count and id range. */
  readonly daysWithRows: (beforeMs: number, maxDays: number) => Effect.Effect<ReadonlyArray<PlannedDay>, DatabaseError>
  /**
   * The rows of `day` with `afterId < id <= maxId`, by id: at most `limit` rows and, past the
   * first, at most {@link PAGE_BYTES_BUDGET} bytes. Empty when none is left. A row whose columns
   * do not fit the line format fails with `CorruptRow`.
   */
  readonly page: (day: UtcDay, afterId: number, maxId: number, limit: number) => Effect.Effect<RowsPage, CorruptRow | DatabaseError>
  /** Like `page`, as the bytes of the lines (rendered by the database where it can); none when no row is left. */
  readonly pageBytes: (
    day: UtcDay,
    afterId: number,
    maxId: number,
    limit: number
  ) => Effect.Effect<Option.Option<BytesPage>, CorruptRow | DatabaseError>
  /** How many rows of `day` have `firstId <= id <= lastId` now. */
  readonly countRange: (day: UtcDay, firstId: number, lastId: number) => Effect.Effect<number, DatabaseError>
  /**
   * Deletes the rows of `day` with `firstId <= id <= lastId` (the caller passes only ranges it
   * wrote to a durable file), first taking their role rounds off their runs' counts (never below
   * 0), in one transaction; returns how many rows went. The caller keeps ranges to a few thousand
   * rows: each call is one bounded step.
   */
  readonly deleteRange: (day: UtcDay, firstId: number, lastId: number) => Effect.Effect<number, DatabaseError>
  /**
   * Inserts `entries` with their own ids in one transaction, skipping ids already present, and
   * adds the role rounds of the rows it did insert to their runs' counts; returns how many went in.
   */
  readonly insertIgnoringPresent: (entries: ReadonlyArray<LogEntry>) => Effect.Effect<number, DatabaseError>

  // --- meta: the archived-up-to day ---

  /** The last day every row of which (and of every day before it) has been archived, if any. */
  readonly archivedUpTo: Effect.Effect<Option.Option<string>, DatabaseError>
  /** Sets the archived-up-to day to `day` (`YYYY-MM-DD`), unless it is already at or past it. */
  readonly advanceArchivedUpTo: (day: string) => Effect.Effect<void, DatabaseError>

  // --- the manifest, the claims and the restored days ---

  /** The manifest row and the claim of `day`, read at one moment. */
  readonly record: (day: UtcDay) => Effect.Effect<DayRecord, CorruptRow | DatabaseError>
  /** Every manifest row, by day. */
  readonly listManifest: Effect.Effect<ReadonlyArray<ManifestRow>, CorruptRow | DatabaseError>
  /** Writes the manifest row of `row.day` (replacing the day's previous row). */
  readonly putManifest: (row: ManifestRow) => Effect.Effect<void, DatabaseError>
  /** Every claim, by day. */
  readonly listPending: Effect.Effect<ReadonlyArray<PendingRow>, CorruptRow | DatabaseError>
  /** Writes the claim of `row.day` (replacing another run's claim on the day). */
  readonly putPending: (row: PendingRow) => Effect.Effect<void, DatabaseError>
  /** Drops the claim of `day`, whoever holds it. */
  readonly clearPending: (day: UtcDay) => Effect.Effect<void, DatabaseError>
  /** When `restore` last put `day` back (ms), if it did and `archive` has not taken it since. */
  readonly restoredAt: (day: UtcDay) => Effect.Effect<Option.Option<number>, DatabaseError>
  /** Every restored day with its time (ms). */
  readonly listRestored: Effect.Effect<ReadonlyMap<string, number>, DatabaseError>
  /** Records that `day` was restored at `at` (ms). */
  readonly markRestored: (day: UtcDay, at: number) => Effect.Effect<void, DatabaseError>
  /** Forgets that `day` was restored (the archive took it again). */
  readonly clearRestored: (day: UtcDay) => Effect.Effect<void, DatabaseError>

  // --- transactions and housekeeping ---

  /**
   * Runs `self` in one write transaction that also holds the archive lock of the database: no
   * other `transaction` of any archiver (fiber, process or machine) runs meanwhile, and what
   * `self` reads stays true until it commits. `self` may do file work (hash, publish) under the
   * lock. Commits when `self` succeeds, rolls back otherwise. Nested calls join the outer one.
   * SQLite: `BEGIN IMMEDIATE`; PostgreSQL: e.g. a transaction that takes an advisory lock first.
   */
  readonly transaction: <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A, E | DatabaseError, R>
  /** Called after large deletes: lets the backend reclaim its log (SQLite: a WAL checkpoint; may be a no-op). */
  readonly checkpoint: Effect.Effect<void, DatabaseError>
  /** Returns the space of deleted rows to the file system (SQLite/PostgreSQL: `VACUUM`), outside any transaction. */
  readonly vacuum: Effect.Effect<void, DatabaseError>
}

/** The archive's storage, provided by a backend (`src/sqlite/ArchiveRepositorySqlite.ts`, …). */
export class ArchiveRepository extends Context.Service<ArchiveRepository, ArchiveRepositoryShape>()(
  "@uncaged/nerve-store/ArchiveRepository"
) {}
