/**
 * The run status state machine, as data. Pure: no I/O, no Effect.
 *
 * @since 0.6.0
 */
import type { WorkflowRunStatus } from "../../schema/WorkflowRun.ts"

/** Statuses a run may be created in (`dropped`: an overflow `drop` policy rejected it). */
export const INITIAL_STATUSES: ReadonlySet<WorkflowRunStatus> = new Set(["queued", "started", "dropped"])

/** Where each status may go next (a repeated status is handled separately as a retry). */
export const NEXT_STATUSES: Readonly<Record<WorkflowRunStatus, ReadonlySet<WorkflowRunStatus>>> = {
  queued: new Set(["started", "dropped", "killed", "interrupted", "failed"]),
  started: new Set(["completed", "failed", "crashed", "interrupted", "dropped", "killed"]),
  crashed: new Set(["started", "queued", "failed", "killed"]),
  interrupted: new Set(["started", "queued", "failed", "killed"]),
  completed: new Set(),
  failed: new Set(),
  dropped: new Set(),
  killed: new Set()
}

/** A terminal run never moves again; only an idempotent retry of its status is accepted. */
export const isTerminal = (status: WorkflowRunStatus): boolean => NEXT_STATUSES[status].size === 0

/**
 * What a requested transition is: `create` (a new run), `move` (to another status), `retry`
 * (the current status again: refreshes timestamp and exit code), or `illegal`.
 */
export type TransitionKind = "create" | "move" | "retry" | "illegal"

/** Classifies `from → to`; `from` is null when the run does not exist yet. */
export const classifyTransition = (from: WorkflowRunStatus | null, to: WorkflowRunStatus): TransitionKind => {
  if (from === null) return INITIAL_STATUSES.has(to) ? "create" : "illegal"
  if (from === to) return "retry"
  return NEXT_STATUSES[from].has(to) ? "move" : "illegal"
}

/**
 * The exit code a run has after an accepted transition: a retry keeps the old code unless a new
 * one is given, and a terminal run's code never changes; a move takes the given code (or none).
 */
export const nextExitCode = (
  kind: Exclude<TransitionKind, "illegal">,
  current: { readonly status: WorkflowRunStatus; readonly exitCode: number | null } | null,
  requested: number | null | undefined
): number | null => {
  if (kind === "retry" && current !== null) {
    if (isTerminal(current.status)) return current.exitCode
    return requested === undefined ? current.exitCode : requested
  }
  return requested ?? null
}

/** What a request contradicts in the stored run, if anything. */
export interface RunConflict {
  readonly field: "workflow" | "exitCode"
  readonly stored: string | number | null
  readonly requested: string | number | null
}

/**
 * A request that contradicts the run: another `workflow` than the run was created with (a run
 * never changes workflow), or, repeating a terminal status, another exit code than the stored one
 * (a terminal run's exit code never changes). Such a request is refused, never silently ignored.
 */
export const conflictOf = (
  current: { readonly workflow: string; readonly status: WorkflowRunStatus; readonly exitCode: number | null } | null,
  request: { readonly workflow: string; readonly status: WorkflowRunStatus; readonly exitCode?: number | null | undefined }
): RunConflict | null => {
  if (current === null) return null
  if (current.workflow !== request.workflow) {
    return { field: "workflow", stored: current.workflow, requested: request.workflow }
  }
  if (
    current.status === request.status && isTerminal(current.status) && request.exitCode !== undefined &&
    request.exitCode !== current.exitCode
  ) {
    return { field: "exitCode", stored: current.exitCode, requested: request.exitCode }
  }
  return null
}
