/**
 * nerve-store: persistent storage for the nerve workflow daemon, as Effect services.
 *
 * Layers live in `@uncaged/nerve-store/layers`.
 *
 * @since 0.6.0
 */
export * from "../schema/Archive.ts"
export * from "../schema/Blob.ts"
export * from "../schema/Errors.ts"
export * from "../schema/LogEntry.ts"
export * from "../schema/Primitives.ts"
export * from "../schema/Thread.ts"
export * from "../schema/WorkflowRun.ts"
export { layerDatabase } from "./Database.ts"
export { DayFiles, type DayFileStore } from "./archive/DayFileStore.ts"
export { BlobStore, type BlobStoreShape } from "./BlobStore.ts"
export * as GroupCommit from "./GroupCommit.ts"
export { type ArchiveProgressListener, CHECKPOINT_AFTER_ROWS, LogArchive, type LogArchiveShape } from "./LogArchive.ts"
export { LogStore, type LogStoreShape, type TransitionResult } from "./LogStore.ts"
export { LATEST_SCHEMA_VERSION, migrate, migrations, schemaVersion } from "./Migrations.ts"
export { classifyTransition, INITIAL_STATUSES, isTerminal, NEXT_STATUSES, type TransitionKind } from "./RunStateMachine.ts"
export { Sqlite, type SqliteOptions, type SqliteShape } from "./Sqlite.ts"
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
} from "./UtcDay.ts"
