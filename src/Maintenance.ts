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
import type { ArchivedDayStatus } from "../schema/Archive.ts"
import type { ArchiveError, CorruptRow, DatabaseError, DataDirectoryError } from "../schema/Errors.ts"
import type { CheckReport, InitReport, QuarantinedBlob, StaleLease, StatsReport, UpgradeReport } from "../schema/MaintenanceReports.ts"
import type { DataDirectoryInspection } from "./fs/DataDirectoryCheck.ts"

export {
  CheckReport,
  InitReport,
  LayoutEntry,
  LiveOwner,
  QuarantinedBlob,
  RoundCountMismatch,
  RowsBehindArchive,
  StaleLease,
  StatsReport,
  UpgradeReport
} from "../schema/MaintenanceReports.ts"

/** What each archived-day status asks of the operator (empty: nothing). */
export const DAY_ADVICE: Record<ArchivedDayStatus, string> = {
  ok: "",
  unrecorded: "",
  pending: "published but not recorded; the next archive run finishes it",
  missing: "the recorded file is gone; put it back from a backup",
  mismatch: "the file was changed outside nerve-store; the next archive run quarantines it",
  quarantined: "the file failed its check and is in archive/logs/quarantine/; inspect it there"
}

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
