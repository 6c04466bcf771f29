/**
 * The SQL of run listings (`runs`, `streamRuns`, `activeRuns`): newest first by the time of the
 * last transition, then by run id, so `(timestamp, runId)` of the last run of a page is a cursor.
 *
 * @since 0.7.0
 */
import type { WorkflowRunStatus } from "../../schema/WorkflowRun.ts"
import type { SqlParam } from "../sqlite/Sqlite.ts"

/** The filters of a listing. */
export interface RunFilter {
  readonly workflow?: string | undefined
  readonly status?: WorkflowRunStatus | ReadonlyArray<WorkflowRunStatus> | undefined
}

/**
 * Where a page starts: after the run with this `(timestamp, run_id)` in listing order. A caller's
 * cursor is a decoded run; a stream pages by the stored values, which a legacy row may hold in
 * another SQLite type.
 */
export interface RunKey {
  readonly timestamp: SqlParam
  readonly runId: SqlParam
}

/** The ORDER BY of every listing (served by `idx_workflow_runs_timestamp`). */
export const NEWEST_FIRST = "ORDER BY timestamp DESC, run_id DESC"

/** The WHERE clause (with a leading space, or empty) and its parameters: workflow, statuses, cursor. */
export const compileRunsFilter = (
  query: RunFilter,
  cursor: RunKey | undefined
): { readonly where: string; readonly params: Array<SqlParam> } => {
  const where: Array<string> = []
  const params: Array<SqlParam> = []
  if (query.workflow !== undefined) {
    where.push("workflow = ?")
    params.push(query.workflow)
  }
  if (query.status !== undefined) {
    const statuses: ReadonlyArray<WorkflowRunStatus> = typeof query.status === "string" ? [query.status] : query.status
    where.push(`status IN (${statuses.map(() => "?").join(", ")})`)
    params.push(...statuses)
  }
  if (cursor !== undefined) {
    where.push("(timestamp < ? OR (timestamp = ? AND run_id < ?))")
    params.push(cursor.timestamp, cursor.timestamp, cursor.runId)
  }
  return { where: where.length === 0 ? "" : ` WHERE ${where.join(" AND ")}`, params }
}
