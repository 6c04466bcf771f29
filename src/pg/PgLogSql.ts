/**
 * The SQL text of the LogStore on PostgreSQL and the decoding of its rows: statements (with `$n`
 * parameters), the compiled log and run-listing queries, and `fromPg`, which turns the driver's
 * `BIGINT`s (`bigint`) into numbers before a row is decoded with its schema. No I/O.
 *
 * @since 0.8.0
 */
import type { NonEmptyReadonlyArray } from "effect/Array"
import type { SqlClient } from "effect/sql/SqlClient"
import type { LogQuery } from "../../schema/LogEntry.ts"
import type { WorkflowRunStatus } from "../../schema/WorkflowRun.ts"
import * as ThreadLog from "../domain/ThreadLog.ts"
import type { NewLogRow } from "../domain/TransitionPlan.ts"
import type { RunFilter, RunKey } from "../seam/LogRepository.ts"

/** A statement parameter. */
export type PgParam = string | number | bigint | boolean | null

/** A row as the driver returns it. */
export type PgRow = Readonly<Record<string, unknown>>

/** The columns of a log row; read as values, in the order of `LogSql.LOG_FIELDS`. */
export const LOG_COLUMNS = `id, source, type, ref_id AS "refId", payload, timestamp`
export const RUN_COLUMNS = `run_id AS "runId", workflow, status, timestamp, exit_code AS "exitCode"`
export const LEASE_COLUMNS = `run_id AS "runId", owner, boot, expires_at AS "expiresAt"`
export const TRANSITION_COLUMNS =
  `id, run_id AS "runId", from_status AS "from", to_status AS "to", timestamp, exit_code AS "exitCode", log_id AS "logId"`

/** Serialises the transitions of one run id (a run not stored yet has no row to lock). */
export const LOCK_RUN_ID = "SELECT pg_advisory_xact_lock(hashtextextended($1, 7366752))"
export const SELECT_RUN_FOR_UPDATE = `SELECT ${RUN_COLUMNS} FROM workflow_runs WHERE run_id = $1 FOR UPDATE`
export const SELECT_RUN = `SELECT ${RUN_COLUMNS} FROM workflow_runs WHERE run_id = $1`
export const SELECT_LEASE = `SELECT ${LEASE_COLUMNS} FROM run_leases WHERE run_id = $1`
export const SELECT_HISTORY = `SELECT ${TRANSITION_COLUMNS} FROM run_transitions WHERE run_id = $1 ORDER BY id`
export const SELECT_THREAD_ROWS = `SELECT ${LOG_COLUMNS} FROM logs WHERE ref_id = $1 AND source = '${ThreadLog.WORKFLOW_SOURCE}'
  AND type IN ('${ThreadLog.THREAD_MESSAGE_TYPE}', '${ThreadLog.THREAD_EVENT_TYPE}') ORDER BY id`
export const SELECT_FIRST_ROW = `SELECT ${LOG_COLUMNS} FROM logs WHERE ref_id = $1 AND source = $2 AND type = $3 ORDER BY id LIMIT 1`
export const SELECT_LAST_LOG_ID = "SELECT coalesce(max(id), 0) AS id FROM logs"
export const RENEW_LEASES = "UPDATE run_leases SET expires_at = $1 WHERE owner = $2 AND boot = $3 RETURNING run_id"
export const RELEASE_LEASES = "DELETE FROM run_leases WHERE owner = $1 AND boot = $2"
export const PRUNE_KEYS = "DELETE FROM idempotency_keys WHERE created_at < $1"
export const SELECT_KEY = "SELECT operation, request, result FROM idempotency_keys WHERE key = $1"
export const INSERT_KEY = "INSERT INTO idempotency_keys (key, operation, request, result, created_at) VALUES ($1, $2, $3, $4, $5)"
export const SELECT_META = "SELECT value FROM meta WHERE key = $1"
export const UPSERT_META = "INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value"

const STORED_ROUNDS = "coalesce((SELECT rounds FROM thread_round_counts WHERE ref_id = $1), 0)"
export const SELECT_ROUND_COUNT = `SELECT ${STORED_ROUNDS} AS n`
/**
 * A page of a run's round rows newest first below `$4`, skipping the rounds `>= $3` (0 = none),
 * at most `$2`, each with the run's count (one statement: one snapshot). Served by the partial
 * index `idx_logs_thread_rounds (ref_id, id) WHERE thread_round`.
 */
export const SELECT_ROUND_PAGE = `SELECT ${STORED_ROUNDS} AS total, ${LOG_COLUMNS}
  FROM logs WHERE ref_id = $1 AND thread_round AND id < $4
  ORDER BY id DESC
  LIMIT $2 OFFSET (CASE WHEN $3::bigint > 0 THEN greatest(0, ${STORED_ROUNDS} - $3::bigint + 1) ELSE 0 END)`

/**
 * Everything an accepted transition writes, in one statement (one round trip): the log row, the
 * run (insert or update), the history record pointing at the row, and the lease taken, released
 * or kept. Parameters: $1–$6 the row (source, type, ref_id, payload, timestamp, thread_round),
 * $7–$11 the run (run_id, workflow, status, timestamp, exit_code), $12–$15 the history record
 * (from, to, timestamp, exit_code), and for `take` $16–$18 the lease (owner, boot, expires_at).
 * Returns the row's id.
 */
export const writeTransition = (lease: "Take" | "Release" | "Keep"): string => {
  const leaseWrite = lease === "Take"
    ? `, lease AS (INSERT INTO run_leases (run_id, owner, boot, expires_at) VALUES ($7::text, $16::text, $17::text, $18::bigint)
    ON CONFLICT (run_id) DO UPDATE SET owner = excluded.owner, boot = excluded.boot, expires_at = excluded.expires_at)`
    : lease === "Release"
    ? ", lease AS (DELETE FROM run_leases WHERE run_id = $7::text)"
    : ""
  return `WITH log AS (INSERT INTO logs (source, type, ref_id, payload, timestamp, thread_round)
    VALUES ($1::text, $2::text, $3::text, $4::text, $5::bigint, $6::boolean) RETURNING id),
  run AS (INSERT INTO workflow_runs (run_id, workflow, status, timestamp, exit_code) VALUES ($7::text, $8::text, $9::text, $10::bigint, $11::integer)
    ON CONFLICT (run_id) DO UPDATE SET status = excluded.status, timestamp = excluded.timestamp, exit_code = excluded.exit_code),
  history AS (INSERT INTO run_transitions (run_id, from_status, to_status, timestamp, exit_code, log_id)
    SELECT $7::text, $12::text, $13::text, $14::bigint, $15::integer, id FROM log)${leaseWrite}
  SELECT id FROM log`
}

const ADD_ROUNDS_HEAD = `INSERT INTO thread_round_counts (ref_id, rounds)
  SELECT ref_id, rounds FROM jsonb_to_recordset(`
const ADD_ROUNDS_TAIL = `::jsonb) AS added(ref_id text, rounds bigint)
  ON CONFLICT (ref_id) DO UPDATE SET rounds = thread_round_counts.rounds + excluded.rounds`

/** Adds rounds to runs' counts. Parameter: `[{ "ref_id": …, "rounds": … }]` as JSON text, in run id order. */
export const ADD_ROUNDS = `${ADD_ROUNDS_HEAD}$1${ADD_ROUNDS_TAIL}`

/** The columns of a `logs` row as `insertLogs` writes it. */
export type LogValues = {
  readonly source: string
  readonly type: string
  readonly ref_id: string | null
  readonly payload: string | null
  readonly timestamp: number
  readonly thread_round: boolean | null
}

/**
 * One multi-row `INSERT` of `rows` returning their ids (one statement, so one round trip and
 * atomic without BEGIN/COMMIT). With `addedRounds` (as for {@link ADD_ROUNDS}), the same statement
 * adds them to the runs' counts in a data-modifying CTE (PostgreSQL runs every one to completion).
 */
export const insertLogs = (sql: SqlClient, rows: NonEmptyReadonlyArray<LogValues>, addedRounds: string | null) =>
  addedRounds === null
    ? sql<{ readonly id: bigint | number }>`INSERT INTO logs ${sql.insert(rows)} RETURNING id`
    : sql<{ readonly id: bigint | number }>`WITH log AS (INSERT INTO logs ${sql.insert(rows)} RETURNING id),
  rounds AS (${sql.literal(ADD_ROUNDS_HEAD)}${addedRounds}${sql.literal(ADD_ROUNDS_TAIL)})
  SELECT id FROM log`

/** The active runs of some statuses with their leases, oldest first (by time, then insertion). */
export const selectOrphanCandidates = (statuses: ReadonlyArray<WorkflowRunStatus>) => ({
  sql: `SELECT r.run_id AS "runId", r.workflow, r.status, r.timestamp, r.exit_code AS "exitCode",
      l.owner AS "leaseOwner", l.boot AS "leaseBoot", l.expires_at AS "leaseExpiresAt"
    FROM workflow_runs r LEFT JOIN run_leases l ON l.run_id = r.run_id
    WHERE r.status IN (${statuses.map((_, i) => `$${i + 1}`).join(", ")}) ORDER BY r.timestamp, r.seq`,
  params: [...statuses] as Array<PgParam>
})

/** Whether a new row is a role round of its run's thread: the domain rule, for the `thread_round` column. */
export const threadRoundOf = (row: NewLogRow): boolean | null => {
  if (row.source !== ThreadLog.WORKFLOW_SOURCE) return null
  if (row.type !== ThreadLog.THREAD_MESSAGE_TYPE && row.type !== ThreadLog.THREAD_EVENT_TYPE) return null
  return ThreadLog.numberRounds([{ id: 0, type: row.type, payload: row.payload, timestamp: row.timestamp }]).length === 1
}

/** A compiled statement and its parameters. */
export interface Compiled {
  readonly sql: string
  readonly params: Array<PgParam>
}

/** Collects `$n` parameters as clauses are added. */
const builder = () => {
  const params: Array<PgParam> = []
  const where: Array<string> = []
  return {
    params,
    where,
    param: (value: PgParam) => {
      params.push(value)
      return `$${params.length}`
    },
    whereClause: () => (where.length === 0 ? "" : ` WHERE ${where.join(" AND ")}`)
  }
}

/** The SQL of a log query: filters, cursor, order and limit. */
export const compileLogQuery = (query: LogQuery, limit: number): Compiled => {
  const b = builder()
  const descending = query.order === "desc"
  if (query.source !== undefined) b.where.push(`source = ${b.param(query.source)}`)
  if (query.type !== undefined) b.where.push(`type = ${b.param(query.type)}`)
  if (query.refId !== undefined) b.where.push(`ref_id = ${b.param(query.refId)}`)
  if (query.since !== undefined) b.where.push(`timestamp >= ${b.param(query.since)}`)
  if (query.until !== undefined) b.where.push(`timestamp <= ${b.param(query.until)}`)
  if (query.afterId !== undefined && query.afterId !== 0) b.where.push(`id ${descending ? "<" : ">"} ${b.param(query.afterId)}`)
  const sql = `SELECT ${LOG_COLUMNS} FROM logs${b.whereClause()} ORDER BY id ${descending ? "DESC" : "ASC"} LIMIT ${b.param(limit)}`
  return { sql, params: b.params }
}

/** One page of a run listing: workflow, statuses, cursor, newest first, `limit` rows (-1: all). */
export const compileRunsPage = (filter: RunFilter, cursor: RunKey | undefined, limit: number): Compiled => {
  const b = builder()
  if (filter.workflow !== undefined) b.where.push(`workflow = ${b.param(filter.workflow)}`)
  if (filter.status !== undefined) {
    const statuses: ReadonlyArray<WorkflowRunStatus> = typeof filter.status === "string" ? [filter.status] : filter.status
    b.where.push(`status IN (${statuses.map((status) => b.param(status)).join(", ")})`)
  }
  if (cursor !== undefined) {
    const timestamp = b.param(keyParam(cursor.timestamp))
    b.where.push(`(timestamp < ${timestamp} OR (timestamp = ${timestamp} AND run_id < ${b.param(keyParam(cursor.runId))}))`)
  }
  const sql = `SELECT ${RUN_COLUMNS} FROM workflow_runs${b.whereClause()} ORDER BY timestamp DESC, run_id DESC LIMIT ${
    b.param(limit < 0 ? null : limit)
  }`
  return { sql, params: b.params }
}

const keyParam = (value: RunKey["timestamp"]): PgParam => (value instanceof Uint8Array ? Buffer.from(value).toString("utf8") : value)

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER)
const MIN_SAFE = BigInt(Number.MIN_SAFE_INTEGER)

/** A `bigint` the driver returned for a `BIGINT` column as a number, when it is one exactly. */
const safeNumber = (value: unknown): unknown =>
  typeof value === "bigint" && value <= MAX_SAFE && value >= MIN_SAFE ? Number(value) : value

/**
 * The row with every `bigint` the driver returned for a `BIGINT` column as a number (a value
 * beyond 2^53 stays a bigint, and the row's schema then reports it as corrupt).
 */
export const fromPg = (row: PgRow): PgRow => {
  let copy: Record<string, unknown> | undefined
  for (const key in row) {
    const value = row[key]
    const number = safeNumber(value)
    if (number !== value) {
      copy ??= { ...row }
      copy[key] = number
    }
  }
  return copy ?? row
}

/** {@link fromPg} for a row read as column values (`Statement.values`). */
export const fromPgValues = (values: ReadonlyArray<unknown>): ReadonlyArray<unknown> => {
  let copy: Array<unknown> | undefined
  for (let i = 0; i < values.length; i++) {
    const value = values[i]
    const number = safeNumber(value)
    if (number !== value) {
      copy ??= values.slice()
      copy[i] = number
    }
  }
  return copy ?? values
}
