/**
 * The inputs and outputs of `countRuns`, `waitForRun` and `health` (SPEC §Daemon features, second round).
 *
 * @since 0.9.0
 */
import { Schema } from "effect"
import { NonEmptyText, TimestampMs } from "./Primitives.ts"
import { RunStatusFilter, WorkflowRunStatus } from "./WorkflowRun.ts"

/** `countRuns` filters: a workflow, one or more statuses. */
export const CountRunsQuery = Schema.Struct({
  workflow: Schema.optional(NonEmptyText),
  status: Schema.optional(RunStatusFilter)
})
export type CountRunsQuery = typeof CountRunsQuery.Type

/** Runs by status: every status present, 0 when none. */
export const RunCounts = Schema.Struct({
  queued: Schema.Int,
  started: Schema.Int,
  completed: Schema.Int,
  failed: Schema.Int,
  crashed: Schema.Int,
  interrupted: Schema.Int,
  dropped: Schema.Int,
  killed: Schema.Int
})
export type RunCounts = typeof RunCounts.Type

/**
 * The terminal statuses (no move leaves them; `crashed` and `interrupted` runs may be started
 * again): what `waitForRun` waits for by default.
 */
export const TERMINAL_STATUSES: ReadonlyArray<WorkflowRunStatus> = ["completed", "failed", "dropped", "killed"]

/** `waitForRun` options: the statuses to wait for (default {@link TERMINAL_STATUSES}), plus how often to poll (a `Duration` option of the call, not of this schema). */
export const WaitForRunOptions = Schema.Struct({
  statuses: Schema.optional(Schema.Array(WorkflowRunStatus).pipe(Schema.check(Schema.isMinLength(1))))
})
export type WaitForRunOptions = typeof WaitForRunOptions.Type

/**
 * What `health()` reports: the schema version stored in the file and the one this build knows,
 * whether the stack was opened read-only and whether it may write, when it last renewed its
 * leases (absent if never), and how long its longest current wait for another process's write
 * lock has lasted (ms, 0 when none).
 */
export const StoreHealth = Schema.Struct({
  schemaVersion: Schema.Int,
  knownSchemaVersion: Schema.Int,
  readonly: Schema.Boolean,
  writable: Schema.Boolean,
  lastLeaseRenewalAt: Schema.optional(TimestampMs),
  lockWaitMs: Schema.Number
})
export type StoreHealth = typeof StoreHealth.Type
