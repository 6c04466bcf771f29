/**
 * Workflow runs as stored in `workflow_runs`, and the record of each accepted transition.
 *
 * @since 0.6.0
 */
import { Schema } from "effect"
import { NonEmptyText, TimestampMs } from "./Primitives.ts"

/** The eight run statuses. See `src/RunStateMachine.ts` for which moves are allowed. */
export const WorkflowRunStatus = Schema.Literals([
  "queued",
  "started",
  "completed",
  "failed",
  "crashed",
  "interrupted",
  "dropped",
  "killed"
])
export type WorkflowRunStatus = typeof WorkflowRunStatus.Type

/** A run's current state; `timestamp` is the time of its last transition (epoch ms). */
export const WorkflowRun = Schema.Struct({
  runId: Schema.String,
  workflow: Schema.String,
  status: WorkflowRunStatus,
  timestamp: TimestampMs,
  exitCode: Schema.NullOr(Schema.Int)
})
export type WorkflowRun = typeof WorkflowRun.Type

/** What a caller asks of `LogStore.transition`: move `runId` (of `workflow`) to `status`. */
export const RunTransitionInput = Schema.Struct({
  runId: NonEmptyText,
  workflow: NonEmptyText,
  status: WorkflowRunStatus,
  exitCode: Schema.optional(Schema.NullOr(Schema.Int))
})
export type RunTransitionInput = typeof RunTransitionInput.Type

/** One accepted transition; `from` is null for the transition that created the run. */
export const RunTransition = Schema.Struct({
  runId: Schema.String,
  from: Schema.NullOr(WorkflowRunStatus),
  to: WorkflowRunStatus,
  timestamp: TimestampMs,
  exitCode: Schema.NullOr(Schema.Int),
  logId: Schema.Int
})
export type RunTransition = typeof RunTransition.Type

/**
 * Where a page of `runs` starts: strictly after this run in the listing order (newest first by
 * `timestamp`, then by `runId` descending). Pass the last run of the previous page as it is.
 */
export const RunsCursor = Schema.Struct({
  timestamp: TimestampMs,
  runId: Schema.String
})
export type RunsCursor = typeof RunsCursor.Type

/** One status or a non-empty list of statuses (any of them matches). */
export const RunStatusFilter = Schema.Union([
  WorkflowRunStatus,
  Schema.Array(WorkflowRunStatus).pipe(Schema.check(Schema.isMinLength(1)))
])
export type RunStatusFilter = typeof RunStatusFilter.Type

/** The most runs one `runs` call returns; use `streamRuns` (no cap) or the cursor for more. */
export const MAX_RUNS_LIMIT = 100_000
/** Runs returned by `runs` when no `limit` is given. */
export const DEFAULT_RUNS_LIMIT = 1_000

/**
 * Filters of `LogStore.runs`; newest first (by the time of the last transition, then run id).
 * `cursor` continues after the last run of a previous page.
 *
 * @example
 * ```ts
 * const page = yield* log.runs({ status: ["crashed", "interrupted"], limit: 100 })
 * const next = yield* log.runs({ status: ["crashed", "interrupted"], limit: 100, cursor: page[page.length - 1] })
 * ```
 */
export const RunsQuery = Schema.Struct({
  workflow: Schema.optional(NonEmptyText),
  status: Schema.optional(RunStatusFilter),
  cursor: Schema.optional(RunsCursor),
  limit: Schema.optional(Schema.Int.pipe(Schema.check(Schema.isBetween({ minimum: 1, maximum: MAX_RUNS_LIMIT }))))
})
export type RunsQuery = typeof RunsQuery.Type

/** The filters of `streamRuns`: those of {@link RunsQuery}, with a `limit` (on the total) that has no cap. */
export const RunsStreamQuery = Schema.Struct({
  ...RunsQuery.fields,
  limit: Schema.optional(Schema.Int.pipe(Schema.check(Schema.isGreaterThanOrEqualTo(1))))
})
export type RunsStreamQuery = typeof RunsStreamQuery.Type

/**
 * Options of `recoverOrphans` (alias `markOrphansCrashed`): the time and `source` of the rows it
 * writes, and whether orphaned `queued` runs are recovered too (they move to `interrupted`, since
 * `queued → crashed` is not a legal move; resume them with `queued` or `started`).
 */
export const RecoverOrphansOptions = Schema.Struct({
  timestamp: Schema.optional(TimestampMs),
  source: Schema.optional(NonEmptyText),
  includeQueued: Schema.optional(Schema.Boolean)
})
export type RecoverOrphansOptions = typeof RecoverOrphansOptions.Type

/** The former name of {@link RecoverOrphansOptions}. */
export const MarkOrphansOptions = RecoverOrphansOptions
export type MarkOrphansOptions = RecoverOrphansOptions

/**
 * Options of a write that may be retried: a repeat with the same `idempotencyKey` returns the
 * first result and writes nothing (keys are kept 7 days); the same key with another request fails
 * with `IdempotencyConflict`.
 */
export const WriteOptions = Schema.Struct({
  idempotencyKey: Schema.optional(NonEmptyText)
})
export type WriteOptions = typeof WriteOptions.Type

/** Who holds a run: the owner name, its boot id, and when the lease ends unless renewed (epoch ms). */
export const RunLease = Schema.Struct({
  runId: Schema.String,
  owner: Schema.String,
  boot: Schema.String,
  expiresAt: TimestampMs
})
export type RunLease = typeof RunLease.Type
