/**
 * The issue-16 reads of the SQLite repository: `follow`'s page with the archive watermark in one
 * statement (one snapshot), run counts by status, and the backend's health. None takes the write lock.
 *
 * @since 0.9.0
 */
import { Effect } from "effect"
import type { CorruptRow, DatabaseError } from "../../schema/Errors.ts"
import type { LogQuery } from "../../schema/LogEntry.ts"
import { WorkflowRunStatus } from "../../schema/WorkflowRun.ts"
import type { RunFilter } from "../seam/LogRepository.ts"
import type { BackendHealth, FollowPage, StatusCounts } from "../seam/LogRepositoryOps.ts"
import * as LogSql from "./LogSql.ts"
import { LATEST_SCHEMA_VERSION } from "./Migrations.ts"
import type { SqliteShape, SqlParam } from "./Sqlite.ts"

/** The highest log id the archive moved out (days put back by a restore do not count). */
const archivedThroughSql = (schemaVersion: number): string =>
  schemaVersion >= 5
    ? `(SELECT coalesce(max(m.max_id), 0) FROM archive_manifest m
        WHERE NOT EXISTS (SELECT 1 FROM archive_restored r WHERE r.day = m.day))`
    : schemaVersion >= 3
    ? "(SELECT coalesce(max(max_id), 0) FROM archive_manifest)"
    : "0"

const STATUSES: ReadonlySet<string> = new Set(WorkflowRunStatus.literals)

/** The members, over the connection of a database at `schemaVersion`. */
export const make = (sql: SqliteShape, schemaVersion: number) => {
  const archivedThrough = archivedThroughSql(schemaVersion)
  return {
    followPage: (operation: string, query: LogQuery, limit: number): Effect.Effect<FollowPage, CorruptRow | DatabaseError> => {
      const compiled = LogSql.compileLogQuery({ ...query, order: "asc" }, limit)
      // One statement is one snapshot: the rows and the watermark agree. The one-row left side
      // keeps the watermark when the page is empty.
      const text = `WITH page AS (${compiled.sql})
        SELECT ${archivedThrough} AS archived, page.* FROM (SELECT 1) AS one LEFT JOIN page ON 1 ORDER BY page.id ASC`
      return Effect.flatMap(sql.sync(operation, (connection) => connection.values(text, compiled.params)), (rows) => {
        const archived = Number(rows[0]?.[0] ?? 0)
        const present = rows.filter((row) => row[1] !== null).map((row) => row.slice(1))
        return Effect.map(
          LogSql.decodeAll(present, LogSql.decodeLogValues, LogSql.byFirstValue),
          (entries): FollowPage => ({ rows: entries, archivedThrough: archived })
        )
      })
    },

    countRuns: (operation: string, filter: RunFilter): Effect.Effect<StatusCounts, DatabaseError> => {
      const where: Array<string> = []
      const params: Array<SqlParam> = []
      if (filter.workflow !== undefined) {
        where.push("workflow = ?")
        params.push(filter.workflow)
      }
      if (filter.status !== undefined) {
        const statuses: ReadonlyArray<string> = typeof filter.status === "string" ? [filter.status] : filter.status
        where.push(`status IN (${statuses.map(() => "?").join(", ")})`)
        params.push(...statuses)
      }
      const text = `SELECT status, count(*) AS n FROM workflow_runs${where.length === 0 ? "" : ` WHERE ${where.join(" AND ")}`} GROUP BY status`
      return Effect.map(sql.sync(operation, (connection) => connection.all(text, params)), (rows) => {
        const counts: Partial<Record<WorkflowRunStatus, number>> = {}
        for (const row of rows) {
          const status = String(row.status)
          if (STATUSES.has(status)) counts[status as WorkflowRunStatus] = Number(row.n)
        }
        return counts
      })
    },

    health: (operation: string): Effect.Effect<BackendHealth, DatabaseError> =>
      Effect.map(sql.sync(operation, (connection) => connection.get("PRAGMA user_version")), (row) => {
        const stored = Number(row?.user_version ?? 0)
        return {
          schemaVersion: stored,
          knownSchemaVersion: LATEST_SCHEMA_VERSION,
          readonly: sql.readonly,
          writable: !sql.readonly && stored <= LATEST_SCHEMA_VERSION,
          lockWaitMs: sql.lockWaitMs()
        }
      })
  }
}
