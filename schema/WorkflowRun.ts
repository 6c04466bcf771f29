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

/** Filters of `LogStore.runs`; newest first. */
export const RunsQuery = Schema.Struct({
  workflow: Schema.optional(NonEmptyText),
  status: Schema.optional(WorkflowRunStatus),
  limit: Schema.optional(Schema.Int.pipe(Schema.check(Schema.isBetween({ minimum: 1, maximum: 100_000 }))))
})
export type RunsQuery = typeof RunsQuery.Type

/** Options of `markOrphansCrashed`: the time and `source` of the `crashed` rows it writes. */
export const MarkOrphansOptions = Schema.Struct({
  timestamp: Schema.optional(TimestampMs),
  source: Schema.optional(NonEmptyText)
})
export type MarkOrphansOptions = typeof MarkOrphansOptions.Type
