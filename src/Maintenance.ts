/**
 * The Maintenance service: what an operator asks of a data directory as it is on disk — check it
 * (integrity, schema, layout, links and owners, archived days, quarantined blobs, round counts),
 * count it (`stats`), bring it up to date (`upgrade`, `recount`), create it (`init`), and list the
 * leases whose owner is gone. One implementation per backend (`src/sqlite/MaintenanceSqlite.ts`),
 * built by `MaintenanceSqlite` in `@uncaged/nerve-store/layers`; the CLI's `db` commands and
 * `doctor` use nothing else of a backend.
 *
 * Nothing is opened when the layer is built: each operation opens what it needs (read-only for
 * `check`, `stats`, `staleLeases`; writable for `upgrade`, `recount`, `init`) and closes it.
 *
 * @example
 * ```ts
 * const report = yield* Maintenance.use((m) => m.check())
 * if (!report.ok) for (const line of report.problems) yield* Effect.log(line)
 * ```
 *
 * @since 0.8.0
 */
import { Context, type Effect, Schema } from "effect"
import { ArchivedDay, type ArchivedDayStatus } from "../schema/Archive.ts"
import type { ArchiveError, CorruptRow, DatabaseError, DataDirectoryError } from "../schema/Errors.ts"
import { TimestampMs } from "../schema/Primitives.ts"
import { type DataDirectoryInspection, LayoutEntry } from "./fs/DataDirectoryCheck.ts"

export { LayoutEntry } from "./fs/DataDirectoryCheck.ts"

/** What each archived-day status asks of the operator (empty: nothing). */
export const DAY_ADVICE: Record<ArchivedDayStatus, string> = {
  ok: "",
  unrecorded: "",
  pending: "published but not recorded; the next archive run finishes it",
  missing: "the recorded file is gone; put it back from a backup",
  mismatch: "the file was changed outside nerve-store; the next archive run quarantines it",
  quarantined: "the file failed its check and is in archive/logs/quarantine/; inspect it there"
}

/** A run whose stored role-round count differs from the rounds its rows hold. */
export const RoundCountMismatch = Schema.Struct({ runId: Schema.String, stored: Schema.Int, actual: Schema.Int })
export type RoundCountMismatch = typeof RoundCountMismatch.Type

/** A blob the store moved to `blobs/quarantine/` because its content did not match its digest. */
export const QuarantinedBlob = Schema.Struct({
  /** The file name inside `blobs/quarantine/` (`<digest>.<epoch ms>.<hex>`). */
  file: Schema.String,
  digest: Schema.NullOr(Schema.String),
  quarantinedAt: Schema.NullOr(TimestampMs),
  bytes: Schema.Int
})
export type QuarantinedBlob = typeof QuarantinedBlob.Type

/**
 * `check`: SQLite's `integrity_check`, the schema version, whether it is a 0.5 file, a hot rollback
 * journal, the layout with its links, owners and modes, the archived days that are not ok,
 * quarantined blobs and the runs whose stored round count is off. `ok` is false when `problems`
 * is not empty; `warnings` (loose modes) do not fail it.
 */
export const CheckReport = Schema.Struct({
  ok: Schema.Boolean,
  problems: Schema.Array(Schema.String),
  warnings: Schema.Array(Schema.String),
  dataDir: Schema.String,
  /** `["ok"]` when SQLite found nothing wrong, else its messages (or why it could not run). */
  integrity: Schema.Array(Schema.String),
  schemaVersion: Schema.Int,
  latestSchemaVersion: Schema.Int,
  legacy05: Schema.Boolean,
  journalMode: Schema.String,
  /** A crash left `nerve.db-journal` (a rollback journal) that a read-only connection cannot roll back. */
  hotJournal: Schema.Boolean,
  layout: Schema.Array(LayoutEntry),
  archiveDays: Schema.Array(ArchivedDay),
  roundCounts: Schema.Array(RoundCountMismatch),
  quarantinedBlobs: Schema.Array(QuarantinedBlob)
})
export type CheckReport = typeof CheckReport.Type

/** A live owner of runs (a daemon's stack) and when its last lease ends. */
export const LiveOwner = Schema.Struct({ owner: Schema.String, runs: Schema.Int, expiresAt: TimestampMs })
export type LiveOwner = typeof LiveOwner.Type

/**
 * Rows still in SQLite from days up to `archivedUpTo`: days put back by `restore`, or rows
 * appended late with an old timestamp. The next `archive` moves them out again.
 */
export const RowsBehindArchive = Schema.Struct({
  rows: Schema.Int,
  oldestDay: Schema.String,
  newestDay: Schema.String,
  /** Of those days, the ones `restore` put back (the rest are late rows). */
  restoredDays: Schema.Array(Schema.String)
})
export type RowsBehindArchive = typeof RowsBehindArchive.Type

/** `stats`: rows, runs by status, day range, sizes on disk, live owners. */
export const StatsReport = Schema.Struct({
  dataDir: Schema.String,
  rows: Schema.Int,
  minId: Schema.NullOr(Schema.Int),
  maxId: Schema.NullOr(Schema.Int),
  oldestDay: Schema.NullOr(Schema.String),
  newestDay: Schema.NullOr(Schema.String),
  runs: Schema.Int,
  runsByStatus: Schema.Record(Schema.String, Schema.Int),
  archivedUpTo: Schema.NullOr(Schema.String),
  /** Null when no row of an archived day is in SQLite. */
  behindArchive: Schema.NullOr(RowsBehindArchive),
  archivedDays: Schema.Int,
  blobCount: Schema.Int,
  sizes: Schema.Struct({ database: Schema.Int, wal: Schema.Int, archive: Schema.Int, blobs: Schema.Int }),
  owners: Schema.Array(LiveOwner)
})
export type StatsReport = typeof StatsReport.Type

/** `upgrade`: the schema version before and after, recounted runs, and whether a hot journal was rolled back. */
export const UpgradeReport = Schema.Struct({
  from: Schema.Int,
  to: Schema.Int,
  roundCountsRepaired: Schema.Int,
  journalRolledBack: Schema.Boolean
})
export type UpgradeReport = typeof UpgradeReport.Type

/** `init`: the data directory and database, whether they were created now, the schema version. */
export const InitReport = Schema.Struct({
  dataDir: Schema.String,
  database: Schema.String,
  created: Schema.Boolean,
  schemaVersion: Schema.Int
})
export type InitReport = typeof InitReport.Type

/** A non-terminal run whose lease has expired: its owner is gone (`runs recover` marks it crashed). */
export const StaleLease = Schema.Struct({
  runId: Schema.String,
  status: Schema.String,
  owner: Schema.String,
  expiresAt: TimestampMs
})
export type StaleLease = typeof StaleLease.Type

/** The data directory has no `nerve.db`: nothing was opened or created. */
export class NoDatabase extends Schema.TaggedError<NoDatabase>()("NoDatabase", { path: Schema.String }) {
  override get message(): string {
    return `no database at ${this.path}; run the daemon or \`nerve-store db init\``
  }
}

/**
 * `upgrade` refused: the file's schema version is newer than this build knows (written by a newer
 * nerve-store). Nothing was changed.
 */
export class UpgradeRefused extends Schema.TaggedError<UpgradeRefused>()("UpgradeRefused", {
  path: Schema.String,
  found: Schema.Int,
  known: Schema.Int
}) {
  override get message(): string {
    return `${this.path} has schema version ${this.found}, newer than this nerve-store knows (${this.known}): ` +
      `it was written by a newer nerve-store; nothing was changed. Use that version (or newer) to maintain it`
  }
}

/**
 * The operation is not built for this backend (e.g. `init` or `recount` on PostgreSQL): nothing
 * was changed; the message says what to use instead.
 */
export class NotOnThisBackend extends Schema.TaggedError<NotOnThisBackend>()("NotOnThisBackend", {
  operation: Schema.String,
  backend: Schema.String,
  instead: Schema.String
}) {
  override get message(): string {
    return `${this.operation} is not available on ${this.backend}: ${this.instead}`
  }
}

/** What the operations fail with (a finding is reported, not failed). */
export type MaintenanceError = DatabaseError | DataDirectoryError | CorruptRow | ArchiveError | NoDatabase | NotOnThisBackend

/** The operations, each with its full error type. */
export interface MaintenanceShape {
  /** The data directory, resolved. */
  readonly dataDir: string
  /** The links, kinds, owners and modes of the data directory (never opens the database). */
  readonly layout: () => Effect.Effect<DataDirectoryInspection, DataDirectoryError>
  /** `PRAGMA user_version` of `nerve.db`, read-only; and the version this build writes. */
  readonly schemaVersion: () => Effect.Effect<{ readonly found: number; readonly known: number }, MaintenanceError>
  /** Everything `db check` reports, read-only: never migrates, creates or locks. */
  readonly check: () => Effect.Effect<CheckReport, MaintenanceError>
  /** Counts and sizes, read-only (a 0.5 file is read as it is). */
  readonly stats: () => Effect.Effect<StatsReport, MaintenanceError>
  /**
   * Rolls back a hot journal, migrates the file to the latest schema and recounts drifted round
   * counts. A file newer than this build is refused with `UpgradeRefused`.
   */
  readonly upgrade: () => Effect.Effect<UpgradeReport, MaintenanceError | UpgradeRefused>
  /** Recounts every run's role rounds (a writable open of a current file); returns how many were off. */
  readonly recount: () => Effect.Effect<number, MaintenanceError | UpgradeRefused>
  /** Non-terminal runs whose lease expired at `now` (epoch ms), read-only. */
  readonly staleLeases: (now: number) => Effect.Effect<ReadonlyArray<StaleLease>, MaintenanceError>
  /** The blobs in `blobs/quarantine/`. */
  readonly quarantine: () => Effect.Effect<ReadonlyArray<QuarantinedBlob>, DataDirectoryError>
  /** Creates the data directory (owner-only) and a migrated `nerve.db` when missing. */
  readonly init: () => Effect.Effect<InitReport, MaintenanceError | UpgradeRefused>
}

/** The maintenance of one data directory. */
export class Maintenance extends Context.Service<Maintenance, MaintenanceShape>()("@uncaged/nerve-store/Maintenance") {}
