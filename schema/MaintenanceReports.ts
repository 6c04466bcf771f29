/**
 * The reports of the Maintenance service (`check`, `stats`, `upgrade`, `init`, `staleLeases`,
 * `quarantine`) as plain data shapes: what `src/Maintenance.ts` returns and re-exports, what the
 * domain's `statsReport` builds, and what the CLI prints for `db check`, `db stats`, `db upgrade`,
 * `db init` and `doctor --json` (its `CliOutput.Db*` names are these same schemas).
 *
 * @since 0.9.0
 */
import { Schema } from "effect"
import { ArchivedDay } from "./Archive.ts"
import { TimestampMs } from "./Primitives.ts"

/** One entry of the data directory and what was found there (paths relative to the folder). */
export const LayoutEntry = Schema.Struct({
  path: Schema.String,
  kind: Schema.Literals(["file", "folder"]),
  /** `missing` is fine: the store creates what it needs. `symlink`: a link stands there (never followed). */
  found: Schema.Literals(["ok", "missing", "wrongKind", "symlink"]),
  /** Permission bits, e.g. `0600`; null when missing or a link. */
  mode: Schema.NullOr(Schema.String),
  /** What the store creates: `0600` files, `0700` folders (owner-only). */
  expectedMode: Schema.String,
  /** False when group or others may access it. */
  modeOk: Schema.Boolean,
  /** The owner's uid (null when missing or unknown). */
  uid: Schema.optional(Schema.NullOr(Schema.Int)),
  /** False when another user owns it. */
  ownerOk: Schema.optional(Schema.Boolean),
  /** Where a link points (only for `symlink`). */
  target: Schema.optional(Schema.String)
})
export type LayoutEntry = typeof LayoutEntry.Type

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
