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
export { LogStore, type LogStoreShape, type TransitionResult } from "./LogStore.ts"

// The data they take and return.
export {
  ArchiveCompression,
  ArchivedDay,
  ArchiveDayResult,
  ArchiveOptions,
  ArchivePlan,
  ArchiveProgress,
  ArchiveResult,
  DayFinished,
  DayProgress,
  DaySkipped,
  DayStarted,
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
export { AppendInput, DEFAULT_QUERY_LIMIT, LogEntry, LogOrder, LogQuery, LogStreamQuery, MAX_QUERY_LIMIT } from "../schema/LogEntry.ts"
export { LogId, MAX_TIMESTAMP_MS, NonEmptyText, TimestampMs, WellFormedText } from "../schema/Primitives.ts"
export { GetThreadRoundsParams, RunTrigger, ThreadEvent, ThreadMessage, ThreadRoundRow, TriggerPayload } from "../schema/Thread.ts"
export {
  MarkOrphansOptions,
  RunsQuery,
  RunTransition,
  RunTransitionInput,
  WorkflowRun,
  WorkflowRunStatus
} from "../schema/WorkflowRun.ts"

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
  IllegalTransition,
  InvalidDigest,
  InvalidInput,
  InvalidUtcDay,
  RunNotFound
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
