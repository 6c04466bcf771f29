/**
 * The SQL text of the LogStore on SQLite, and the decoders of its rows: statements, the compiled
 * log and run-listing queries, and the schemas each row is decoded with. No I/O.
 *
 * @since 0.8.0
 */
import { Effect, Result } from "effect"
import type { CorruptRow } from "../../schema/Errors.ts"
import { LogEntry, type LogQuery } from "../../schema/LogEntry.ts"
import { RunLease, RunTransition, WorkflowRun, type WorkflowRunStatus } from "../../schema/WorkflowRun.ts"
import { RoundLogRow } from "../domain/ThreadRounds.ts"
import { columnsDecoder, rowDecoder } from "../domain/Validate.ts"
import type { Candidate } from "../domain/Orphans.ts"
import type { OrphanCandidates, RunFilter, RunKey, RunKeyValue, RunsPage } from "../seam/LogRepository.ts"
import type { SqlParam, SqlRow } from "./Sqlite.ts"

export const LOG_COLUMNS = "id, source, type, ref_id AS refId, payload, timestamp"
/** The `LogEntry` property of each column of {@link LOG_COLUMNS}, in order (rows read as arrays). */
export const LOG_FIELDS = ["id", "source", "type", "refId", "payload", "timestamp"]
export const RUN_COLUMNS = "run_id AS runId, workflow, status, timestamp, exit_code AS exitCode"
export const TRANSITION_COLUMNS =
  `run_id AS runId, from_status AS "from", to_status AS "to", timestamp, exit_code AS exitCode, log_id AS logId`
export const LEASE_COLUMNS = "run_id AS runId, owner, boot, expires_at AS expiresAt"
export const INSERT_LOG = "INSERT INTO logs (source, type, ref_id, payload, timestamp) VALUES (?, ?, ?, ?, ?)"
export const UPSERT_RUN = `INSERT INTO workflow_runs (run_id, workflow, status, timestamp, exit_code) VALUES (?, ?, ?, ?, ?)
  ON CONFLICT(run_id) DO UPDATE SET status = excluded.status, timestamp = excluded.timestamp, exit_code = excluded.exit_code`
export const INSERT_TRANSITION =
  "INSERT INTO run_transitions (run_id, from_status, to_status, timestamp, exit_code, log_id) VALUES (?, ?, ?, ?, ?, ?)"
/** The run and its lease in one row (NULLs for what is not stored). One parameter, the run id. */
export const RUN_AND_LEASE = `SELECT r.workflow, r.status, r.timestamp, r.exit_code AS exitCode, r.run_id AS runId,
    l.owner, l.boot, l.expires_at AS expiresAt
  FROM (SELECT ?1 AS id) k LEFT JOIN workflow_runs r ON r.run_id = k.id LEFT JOIN run_leases l ON l.run_id = k.id`
export const UPSERT_LEASE = `INSERT INTO run_leases (run_id, owner, boot, expires_at) VALUES (?, ?, ?, ?)
  ON CONFLICT(run_id) DO UPDATE SET owner = excluded.owner, boot = excluded.boot, expires_at = excluded.expires_at`
export const DELETE_LEASE = "DELETE FROM run_leases WHERE run_id = ?"
export const SELECT_RUN = `SELECT ${RUN_COLUMNS} FROM workflow_runs WHERE run_id = ?`
export const SELECT_LEASE = `SELECT ${LEASE_COLUMNS} FROM run_leases WHERE run_id = ?`
export const SELECT_HISTORY = `SELECT id, ${TRANSITION_COLUMNS} FROM run_transitions WHERE run_id = ? ORDER BY id`
export const SELECT_THREAD_ROWS = `SELECT ${LOG_COLUMNS} FROM logs WHERE ref_id = ? AND source = ? AND type IN (?, ?) ORDER BY id`
export const SELECT_FIRST_ROW = `SELECT ${LOG_COLUMNS} FROM logs WHERE ref_id = ? AND source = ? AND type = ? ORDER BY id LIMIT 1`
export const SELECT_LAST_LOG_ID = "SELECT max(id) AS id FROM logs"
/** Parameters: the statuses, as a JSON array. */
export const SELECT_ORPHAN_CANDIDATES =
  `SELECT r.run_id AS runId, r.workflow, r.status, r.timestamp, r.exit_code AS exitCode, l.owner AS leaseOwner, l.boot AS leaseBoot, l.expires_at AS leaseExpiresAt
   FROM workflow_runs r LEFT JOIN run_leases l ON l.run_id = r.run_id
   WHERE r.status IN (SELECT value FROM json_each(?1)) ORDER BY r.timestamp, r.rowid`
export const RENEW_LEASES = "UPDATE run_leases SET expires_at = ? WHERE owner = ? AND boot = ?"
export const RELEASE_LEASES = "DELETE FROM run_leases WHERE owner = ? AND boot = ?"
export const PRUNE_KEYS = "DELETE FROM idempotency_keys WHERE created_at < ?"
export const SELECT_KEY = "SELECT operation, request, result FROM idempotency_keys WHERE key = ?"
export const INSERT_KEY = "INSERT INTO idempotency_keys (key, operation, request, result, created_at) VALUES (?, ?, ?, ?, ?)"
export const SELECT_META = "SELECT value FROM meta WHERE key = ?"
export const UPSERT_META = "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value"

/** The ORDER BY of every run listing (served by `idx_workflow_runs_timestamp`). */
export const NEWEST_FIRST = "ORDER BY timestamp DESC, run_id DESC"

/** A compiled statement and its parameters. */
export interface Compiled {
  readonly sql: string
  readonly params: Array<SqlParam>
}

/** The SQL of a log query: filters, cursor, order and limit. */
export const compileLogQuery = (query: LogQuery, limit: number): Compiled => {
  const where: Array<string> = []
  const params: Array<SqlParam> = []
  const filter = (clause: string, value: SqlParam | undefined) => {
    if (value === undefined) return
    where.push(clause)
    params.push(value)
  }
  const descending = query.order === "desc"
  filter("source = ?", query.source)
  filter("type = ?", query.type)
  filter("ref_id = ?", query.refId)
  filter("timestamp >= ?", query.since)
  filter("timestamp <= ?", query.until)
  filter(descending ? "id < ?" : "id > ?", query.afterId === 0 ? undefined : query.afterId)
  params.push(limit)
  return {
    sql: `SELECT ${LOG_COLUMNS} FROM logs${where.length === 0 ? "" : ` WHERE ${where.join(" AND ")}`} ORDER BY id ${
      descending ? "DESC" : "ASC"
    } LIMIT ?`,
    params
  }
}

/** One page of a run listing: workflow, statuses, cursor, newest first, `limit` rows (-1: all). */
export const compileRunsPage = (query: RunFilter, cursor: RunKey | undefined, limit: number): Compiled => {
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
  params.push(limit)
  return { sql: `SELECT ${RUN_COLUMNS} FROM workflow_runs${where.length === 0 ? "" : ` WHERE ${where.join(" AND ")}`} ${NEWEST_FIRST} LIMIT ?`, params }
}

export const decodeLogRow = rowDecoder(LogEntry, "logs")
export const decodeLogValues = columnsDecoder(LogEntry, "logs", LOG_FIELDS)
export const decodeRunRow = rowDecoder(WorkflowRun, "workflow_runs")
export const decodeLeaseRow = rowDecoder(RunLease, "run_leases")
export const decodeTransitionRow = rowDecoder(RunTransition, "run_transitions")
export const decodeRoundRow = rowDecoder(RoundLogRow, "logs")

/** Decodes every row, failing with the first that does not decode. */
export const decodeAll = <R, A>(
  rows: ReadonlyArray<R>,
  decode: (row: R, key: () => string) => Result.Result<A, CorruptRow>,
  key: (row: R) => string
): Effect.Effect<ReadonlyArray<A>, CorruptRow> => {
  const decoded: Array<A> = []
  for (const row of rows) {
    const result = decode(row, () => key(row))
    if (Result.isFailure(result)) return Effect.fail(result.failure)
    decoded.push(result.success)
  }
  return Effect.succeed(decoded)
}

export const byId = (row: SqlRow) => String(row.id)
export const byFirstValue = (values: ReadonlyArray<unknown>) => String(values[0])
export const byRunId = (row: SqlRow) => String(row.runId)

/** A page of run rows, decoded: rows that do not decode are set apart; the last row read is the next cursor. */
export const decodeRunsPage = (rows: ReadonlyArray<Readonly<Record<string, unknown>>>): RunsPage => {
  const runs: Array<WorkflowRun> = []
  const invalid: Array<CorruptRow> = []
  for (const row of rows) {
    const result = decodeRunRow(row, () => String(row.runId))
    if (Result.isSuccess(result)) runs.push(result.success)
    else invalid.push(result.failure)
  }
  const last = rows[rows.length - 1]
  return {
    runs,
    invalid,
    read: rows.length,
    last: last === undefined
      ? undefined
      : { timestamp: (last.timestamp ?? null) as RunKeyValue, runId: (last.runId ?? null) as RunKeyValue }
  }
}

/**
 * Rows of a run joined with its lease (`leaseOwner`, `leaseBoot`, `leaseExpiresAt`, null when
 * none) as `recoverOrphans`' candidates; a run that does not decode is set apart, never recovered.
 */
export const decodeOrphanCandidates = (rows: ReadonlyArray<Readonly<Record<string, unknown>>>): OrphanCandidates => {
  const candidates: Array<Candidate> = []
  const invalid: Array<CorruptRow> = []
  for (const row of rows) {
    const decoded = decodeRunRow(row, () => String(row.runId))
    if (Result.isFailure(decoded)) {
      invalid.push(decoded.failure)
      continue
    }
    const lease = row.leaseOwner === null
      ? null
      : { owner: String(row.leaseOwner), boot: String(row.leaseBoot), expiresAt: Number(row.leaseExpiresAt) }
    candidates.push({ run: decoded.success, lease })
  }
  return { candidates, invalid }
}
