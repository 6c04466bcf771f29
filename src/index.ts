/**
 * nerve-store: persistent storage for the nerve workflow daemon, as Effect services.
 *
 * This barrel is the whole public API (scripts/check-dist.ts pins the exported names). Layers
 * live in `@uncaged/nerve-store/layers`. How the pieces fit: docs/ARCHITECTURE.md.
 *
 * @since 0.6.0
 */

// The services: tags and shapes.
export { BlobStore, type BlobStoreShape } from "./BlobStore.ts"
export { type ArchiveProgressListener, LogArchive, type LogArchiveShape } from "./LogArchive.ts"
export {
  type FollowOptions,
  LogStore,
  type LogStoreOptions,
  type LogStoreShape,
  type TransitionResult,
  type WaitForRunCallOptions
} from "./LogStore.ts"
export {
  CheckReport,
  InitReport,
  Maintenance,
  type MaintenanceError,
  type MaintenanceShape,
  NoDatabase,
  NotOnThisBackend,
  QuarantinedBlob,
  StaleLease,
  StatsReport,
  UpgradeRefused,
  UpgradeReport
} from "./Maintenance.ts"
export { CopiedTable, CopyMismatch, type CopyOptions, type CopyProgress, CopyRefused, CopyReport, DatabaseCopy, type DatabaseCopyShape } from "./DatabaseCopy.ts"

// The data they take and return.
export {
  ArchiveCompression,
  ArchivedDay,
  ArchivedDayStatus,
  ArchiveDayResult,
  ArchiveOptions,
  ArchivePlan,
  ArchiveProgress,
  ArchiveResult,
  DayFailed,
  DayFinished,
  DayProgress,
  DaySkipped,
  DayStarted,
  DEFAULT_KEEP_RESTORED_MS,
  PlannedDay,
  RestoreResult
} from "../schema/Archive.ts"
export {
  BlobCheck,
  BlobDigest,
  BlobDigestFromString,
  BlobMismatch,
  BlobOk,
  BlobStat,
  BlobSuspicious,
  BlobUnreadable,
  DEFAULT_TEMP_MAX_AGE,
  GcOptions,
  type GcOptionsInput,
  GcResult,
  isBlobDigest,
  parseDigest,
  VerifyReport
} from "../schema/Blob.ts"
export {
  AppendInput,
  DEFAULT_QUERY_LIMIT,
  FollowQuery,
  LogEntry,
  LogOrder,
  LogQuery,
  LogStreamQuery,
  MAX_QUERY_LIMIT
} from "../schema/LogEntry.ts"
export { LogId, MAX_TIMESTAMP_MS, NonEmptyText, TimestampMs, WellFormedText } from "../schema/Primitives.ts"
export {
  DEFAULT_THREAD_ROUNDS_LIMIT,
  GetThreadRoundsParams,
  type GetThreadRoundsInput,
  RunTrigger,
  ThreadEvent,
  ThreadMessage,
  ThreadMessageInput,
  ThreadRoundRow,
  TriggerPayload
} from "../schema/Thread.ts"
export {
  DEFAULT_RUNS_LIMIT,
  MarkOrphansOptions,
  MAX_RUNS_LIMIT,
  RecoverOrphansOptions,
  RunLease,
  RunsCursor,
  RunsQuery,
  RunStatusFilter,
  RunsStreamQuery,
  RunTransition,
  RunTransitionInput,
  WorkflowRun,
  WorkflowRunStatus,
  WriteOptions
} from "../schema/WorkflowRun.ts"

// The log conventions of workflow runs (SPEC §Log conventions): write threads without magic strings.
export { RUN_STARTED_TYPE, THREAD_EVENT_TYPE, THREAD_MESSAGE_TYPE, WORKFLOW_SOURCE } from "./domain/ThreadLog.ts"

// Every error, their reasons, and their union.
export {
  ArchiveError,
  ArchiveErrorReason,
  BlobNotFound,
  BlobStoreError,
  BlobStoreErrorReason,
  CorruptRow,
  DatabaseError,
  DatabaseErrorReason,
  DataDirectoryError,
  DigestMismatch,
  FileErrorReason,
  FollowGap,
  IdempotencyConflict,
  IllegalTransition,
  InvalidDigest,
  InvalidInput,
  InvalidUtcDay,
  LeaseLost,
  OwnerInUse,
  RunFinished,
  RunLeased,
  RunMismatch,
  RunNotFound,
  SchemaTooNew
} from "../schema/Errors.ts"
export type { NerveStoreError } from "../schema/Errors.ts"

// UTC days and the archive's constants (SPEC §LogStore operations).
export {
  assertValidUtcDay,
  compareIsoDays,
  DEFAULT_LOG_RETENTION_MS,
  isValidUtcDay,
  lastArchivableUtcDay,
  LOG_ARCHIVE_META_KEY,
  nextUtcDay,
  parseUtcDay,
  prevUtcDay,
  UTC_DAY_MS,
  UtcDay,
  utcDateStringFromMs,
  utcDayEndExclusiveMs,
  utcDayStartMs
} from "./domain/UtcDay.ts"

// The metrics of the SPEC (effect `Metric`s with fixed names), for exporters and tests.
export * as Metrics from "./Metrics.ts"
// countRuns, waitForRun, health (issue 16).
export { CountRunsQuery, RunCounts, StoreHealth, TERMINAL_STATUSES, WaitForRunOptions } from "../schema/StoreHealth.ts"

// The `--json` output of the `nerve-store` CLI, as schemas.
export * as CliOutput from "./cli/Output.ts"
