/**
 * The `--json` output of every `nerve-store` command, as schemas: scripts decode what the CLI
 * prints with these (`Schema.decodeUnknownSync(CliOutput.RunsList)(JSON.parse(stdout))`).
 *
 * Commands that print log rows (`logs query`, `logs tail`, `archive read`) print JSON Lines: one
 * `LogEntry` per line, so output can be streamed and followed. Every other command prints one
 * JSON document. Fields are only ever added.
 *
 * @since 0.6.0
 */
import { Schema, Struct } from "effect"
import { ArchivedDay, ArchiveDayResult, ArchivePlan, ArchiveResult, DayFailed, DaySkipped } from "../../schema/Archive.ts"
import { BlobDigest, BlobStat, VerifyReport } from "../../schema/Blob.ts"
import { CheckReport, LayoutEntry, LiveOwner, RoundCountMismatch, StatsReport, UpgradeReport } from "../../schema/MaintenanceReports.ts"
import { TimestampMs } from "../../schema/Primitives.ts"
import { ThreadMessage, ThreadRoundRow, TriggerPayload } from "../../schema/Thread.ts"
import { RunTransition, WorkflowRun, WorkflowRunStatus } from "../../schema/WorkflowRun.ts"

/** Who holds a run, and until when (null when no lease is stored); `expired`: its owner is gone. */
export const RunLease = Schema.Struct({
  owner: Schema.String,
  boot: Schema.String,
  expiresAt: TimestampMs,
  expired: Schema.Boolean
})
export type RunLease = typeof RunLease.Type

/** A run of `runs list` with who holds it (null: no lease stored). */
export const RunHolder = Schema.Struct({ runId: Schema.String, lease: Schema.NullOr(RunLease) })
export type RunHolder = typeof RunHolder.Type

/**
 * `runs list`: newest first. `total`: how many runs match (null with `--active`); `nextCursor`:
 * pass it to `--cursor` for the next page (null when this page is the last).
 */
export const RunsList = Schema.Struct({
  runs: Schema.Array(WorkflowRun),
  leases: Schema.Array(RunHolder),
  total: Schema.NullOr(Schema.Int),
  nextCursor: Schema.NullOr(Schema.String)
})
export type RunsList = typeof RunsList.Type

/** `runs show <runId>`: the run, its lease, every transition, its trigger and its last rounds. */
export const RunShow = Schema.Struct({
  run: WorkflowRun,
  lease: Schema.NullOr(RunLease),
  history: Schema.Array(RunTransition),
  trigger: Schema.NullOr(TriggerPayload),
  /** The payload of the run's first `started` row as stored (the trigger rule applies to it). */
  startedPayload: Schema.NullOr(Schema.String),
  roundCount: Schema.Int,
  /** The last rounds, newest first. */
  lastRounds: Schema.Array(ThreadRoundRow)
})
export type RunShow = typeof RunShow.Type

/** `runs recover`: the orphaned runs now `crashed` (or `interrupted`, for queued ones). */
export const RunsRecover = Schema.Struct({ recovered: Schema.Array(WorkflowRun) })
export type RunsRecover = typeof RunsRecover.Type

/** `runs cancel` / `runs retry`: the run after the move, and the status it left. */
export const RunMoved = Schema.Struct({ run: WorkflowRun, from: Schema.NullOr(WorkflowRunStatus) })
export type RunMoved = typeof RunMoved.Type

/** `threads rounds <runId>`: a page of rounds, newest first. */
export const ThreadRounds = Schema.Struct({
  runId: Schema.String,
  roundCount: Schema.Int,
  rounds: Schema.Array(ThreadRoundRow)
})
export type ThreadRounds = typeof ThreadRounds.Type

/** `threads messages <runId>`: oldest first. */
export const ThreadMessages = Schema.Struct({
  runId: Schema.String,
  messages: Schema.Array(ThreadMessage)
})
export type ThreadMessages = typeof ThreadMessages.Type

/**
 * `archive`: the plan it worked from, and (unless `--dry-run`) what it did to each day: archived,
 * skipped (changed while it ran, or restored recently) or failed. `result` is null for a dry run
 * and when a day failed (the command then exits non-zero); `archived` lists the days done either way.
 */
export const ArchiveRun = Schema.Struct({
  dryRun: Schema.Boolean,
  plan: ArchivePlan,
  result: Schema.NullOr(ArchiveResult),
  archived: Schema.Array(ArchiveDayResult),
  skipped: Schema.Array(DaySkipped),
  failed: Schema.Array(DayFailed)
})
export type ArchiveRun = typeof ArchiveRun.Type

/** `archive days`: the archived days on disk, oldest first. */
export const ArchiveDays = Schema.Struct({ days: Schema.Array(ArchivedDay) })
export type ArchiveDays = typeof ArchiveDays.Type

/** `blobs put`: the digest the content is stored under, and its size. */
export const BlobPut = Schema.Struct({ digest: BlobDigest, size: Schema.Int })
export type BlobPut = typeof BlobPut.Type

/** `blobs list`: stored blobs by digest, a page of them; `nextCursor` continues (null: last page). */
export const BlobList = Schema.Struct({
  blobs: Schema.Array(BlobStat),
  total: Schema.Int,
  nextCursor: Schema.NullOr(BlobDigest)
})
export type BlobList = typeof BlobList.Type

/** An archived day whose references could not be read (so a live set built now is incomplete). */
export const UnreadableDay = Schema.Struct({ day: Schema.String, reason: Schema.String })

/**
 * `blobs refs`: the digests the log references (SPEC reference convention), from SQLite and the
 * archived days; `missing`: referenced but not stored.
 */
export const BlobRefs = Schema.Struct({
  digests: Schema.Array(BlobDigest),
  missing: Schema.Array(BlobDigest),
  sqliteRows: Schema.Int,
  archivedRows: Schema.Int,
  referencingRows: Schema.Int,
  invalid: Schema.Int,
  days: Schema.Int,
  unreadableDays: Schema.Array(UnreadableDay)
})
export type BlobRefs = typeof BlobRefs.Type

/**
 * `blobs gc --dry-run` (with a live set): what would be removed, out of how many stored blobs;
 * `refused`: a real run would refuse without `--yes` (every blob, or more than half).
 */
export const BlobGcPlan = Schema.Struct({
  dryRun: Schema.Boolean,
  stored: Schema.Int,
  keep: Schema.Int,
  remove: Schema.Array(BlobStat),
  bytes: Schema.Int,
  refused: Schema.Boolean
})
export type BlobGcPlan = typeof BlobGcPlan.Type

/** `blobs verify`: the report; with `dryRun` nothing was quarantined. */
export const BlobVerify = Schema.Struct({ dryRun: Schema.Boolean, report: VerifyReport })
export type BlobVerify = typeof BlobVerify.Type

/**
 * `db check` (also the `check` of `doctor --json`): the Maintenance service's `CheckReport` —
 * SQLite's `integrity_check`, the schema version, whether it is a 0.5 file, a hot journal, the
 * layout with its links, owners and modes, the archived days that are not ok, quarantined blobs
 * and the runs (at most 100, by id) whose stored round count is off. `ok` is false when `problems`
 * is not empty.
 */
export const DbCheck = CheckReport
export type DbCheck = CheckReport

/** `db stats`: the Maintenance service's `StatsReport` (rows, runs by status, day range, sizes on disk, live owners). */
export const DbStats = StatsReport
export type DbStats = StatsReport

/**
 * `db upgrade`: the schema version before and after, and how many runs' round counts it recounted
 * — three fields of the Maintenance service's `UpgradeReport`, which the command prints whole
 * (decoding with this schema leaves out its `journalRolledBack`).
 */
export const DbUpgrade = UpgradeReport.mapFields(Struct.pick(["from", "to", "roundCountsRepaired"]))
export type DbUpgrade = typeof DbUpgrade.Type

/** The parts of those reports, under the names this module always had. */
export { LayoutEntry, LiveOwner, RoundCountMismatch }
