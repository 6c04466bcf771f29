/**
 * nerve-store: persistent storage for the nerve workflow daemon, as Effect services.
 *
 * Layers live in `@uncaged/nerve-store/layers`.
 *
 * @since 0.6.0
 */
export * from "../schema/Errors.ts"
export * from "../schema/LogEntry.ts"
export * from "../schema/Primitives.ts"
export * from "../schema/Thread.ts"
export * from "../schema/WorkflowRun.ts"
export { layerDatabase } from "./Database.ts"
export * as GroupCommit from "./GroupCommit.ts"
export { LogStore, type LogStoreShape, type MarkOrphansOptions, type TransitionResult } from "./LogStore.ts"
export { LATEST_SCHEMA_VERSION, migrate, migrations, schemaVersion } from "./Migrations.ts"
export { classifyTransition, INITIAL_STATUSES, isTerminal, NEXT_STATUSES, type TransitionKind } from "./RunStateMachine.ts"
export { Sqlite, type SqliteOptions, type SqliteShape } from "./Sqlite.ts"
