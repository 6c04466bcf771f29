/**
 * The values of the storage seam's issue-16 members (`followPage`, `countRuns`, `health`): kept
 * apart so the seam module stays small.
 *
 * @since 0.9.0
 */
import type { LogEntry } from "../../schema/LogEntry.ts"
import type { WorkflowRunStatus } from "../../schema/WorkflowRun.ts"

/** A page of `follow` and the archive watermark read in the same snapshot. */
export interface FollowPage {
  readonly rows: ReadonlyArray<LogEntry>
  /** The highest log id the archive moved out of the store (0 when none). */
  readonly archivedThrough: number
}

/** Runs by status; a status with no runs may be missing. */
export type StatusCounts = Partial<Record<WorkflowRunStatus, number>>

/** What a backend reports for `health()`. */
export interface BackendHealth {
  readonly schemaVersion: number
  readonly knownSchemaVersion: number
  readonly readonly: boolean
  readonly writable: boolean
  readonly lockWaitMs: number
}
