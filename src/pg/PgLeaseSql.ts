/**
 * The SQL of the issue-16 members on PostgreSQL: lease control, claims, owner boots, follow's page
 * with the archive watermark, run counts. Statements with `$n` parameters; no I/O.
 *
 * @since 0.9.0
 */
import type { LogQuery } from "../../schema/LogEntry.ts"
import type { WorkflowRunStatus } from "../../schema/WorkflowRun.ts"
import type { RunFilter } from "../seam/LogRepository.ts"
import { compileLogQuery, type Compiled, LEASE_COLUMNS, type PgParam } from "./PgLogSql.ts"

/** Run ids in byte order (`COLLATE "C"`), as SQLite's BINARY collation sorts them. */
export const SELECT_LEASES = `SELECT ${LEASE_COLUMNS} FROM run_leases ORDER BY run_id COLLATE "C"`
export const SELECT_OWNER_LEASES = `SELECT ${LEASE_COLUMNS} FROM run_leases WHERE owner = $1 ORDER BY run_id COLLATE "C"`
export const DELETE_OWN_LEASE = "DELETE FROM run_leases WHERE run_id = $1 AND owner = $2 AND boot = $3 RETURNING run_id"

/** Whether the stored lease `l` may be taken over. Parameters: $2 owner name, $3 boot, $4 dead-before. */
const LEASE_TAKEABLE = `(l.owner = $2::text AND l.boot <> $3::text)
      OR ($4::bigint IS NOT NULL AND l.expires_at <= $4::bigint AND NOT (l.owner = $2::text AND l.boot = $3::text))`

/** Whether the run `r` with lease `l` is claimable. Parameters: $1 workflow, $2 owner name, $3 boot, $4 dead-before. */
const CLAIMABLE = `r.status = 'queued' AND ($1::text IS NULL OR r.workflow = $1::text)
    AND (l.run_id IS NULL OR ${LEASE_TAKEABLE})`

/**
 * Locks the claimable queued runs, oldest first, skipping runs another transaction holds (another
 * claimer, a transition). Parameters: $1–$4 as {@link CLAIMABLE}, $5 limit. Returns run ids.
 */
export const LOCK_CLAIMABLE = `SELECT r.run_id AS "runId" FROM workflow_runs r LEFT JOIN run_leases l ON l.run_id = r.run_id
  WHERE ${CLAIMABLE} ORDER BY r.timestamp, r.seq LIMIT $5::bigint FOR UPDATE OF r SKIP LOCKED`

/**
 * The locked runs, read again in a new snapshot (READ COMMITTED): a claim that committed a lease
 * on one of them after the locking statement's snapshot (its run row unchanged, so PostgreSQL did
 * not re-check it) is seen now. Parameters: $1–$4 as {@link CLAIMABLE}, $5 the run ids (text[]).
 */
export const RECHECK_CLAIMABLE = `SELECT r.run_id AS "runId", r.workflow, r.status, r.timestamp, r.exit_code AS "exitCode"
  FROM workflow_runs r LEFT JOIN run_leases l ON l.run_id = r.run_id
  WHERE r.run_id = ANY($5::text[]) AND ${CLAIMABLE} ORDER BY r.timestamp, r.seq`

/**
 * Leases a locked, re-checked run to the claimer, unless its stored lease stopped being takeable
 * after the re-check (its holder renewed it and committed: the claimer's row lock on the run does
 * not block `run_leases`). `ON CONFLICT … WHERE` judges the latest committed lease, after waiting
 * for a renewal in progress. Parameters: $1 run id, $2 owner name, $3 boot, $4 dead-before,
 * $5 expires-at. Returns the run id when leased, no row when the lease stayed its holder's.
 */
export const CLAIM_LEASE = `INSERT INTO run_leases AS l (run_id, owner, boot, expires_at) VALUES ($1::text, $2::text, $3::text, $5::bigint)
  ON CONFLICT (run_id) DO UPDATE SET owner = excluded.owner, boot = excluded.boot, expires_at = excluded.expires_at
  WHERE ${LEASE_TAKEABLE}
  RETURNING l.run_id AS "runId"`

/** Serialises the registrations of one owner name (a name not stored yet has no row to lock). */
export const LOCK_OWNER_NAME = "SELECT pg_advisory_xact_lock(hashtextextended($1, 7303026))"
export const SELECT_BOOT =
  `SELECT owner, boot, renewed_at AS "renewedAt", renewal_ms AS "renewalMs", host, pid FROM owner_boots WHERE owner = $1 FOR UPDATE`
export const UPSERT_BOOT = `INSERT INTO owner_boots (owner, boot, renewed_at, renewal_ms, host, pid) VALUES ($1, $2, $3, $4, $5, $6)
  ON CONFLICT (owner) DO UPDATE SET boot = excluded.boot, renewed_at = excluded.renewed_at, renewal_ms = excluded.renewal_ms,
    host = excluded.host, pid = excluded.pid`
export const RENEW_BOOT = "UPDATE owner_boots SET renewed_at = $1 WHERE owner = $2 AND boot = $3 RETURNING owner"
export const DELETE_BOOT = "DELETE FROM owner_boots WHERE owner = $1 AND boot = $2"

/** The highest log id the archive moved out (days put back by a restore do not count). */
const ARCHIVED_THROUGH = `(SELECT coalesce(max(m.max_id), 0) FROM archive_manifest m
  WHERE NOT EXISTS (SELECT 1 FROM archive_restored r WHERE r.day = m.day))`

/**
 * `follow`'s page and the archive watermark in one statement (one snapshot). The one-row left side
 * keeps the watermark when the page is empty.
 */
export const compileFollowPage = (query: LogQuery, limit: number): Compiled => {
  const compiled = compileLogQuery({ ...query, order: "asc" }, limit)
  return {
    sql: `WITH page AS (${compiled.sql})
      SELECT ${ARCHIVED_THROUGH} AS archived, page.* FROM (SELECT 1) AS one LEFT JOIN page ON true ORDER BY page.id ASC`,
    params: compiled.params
  }
}

/** Runs by status, of a workflow and statuses. */
export const compileCountRuns = (filter: RunFilter): Compiled => {
  const params: Array<PgParam> = []
  const where: Array<string> = []
  if (filter.workflow !== undefined) {
    params.push(filter.workflow)
    where.push(`workflow = $${params.length}`)
  }
  if (filter.status !== undefined) {
    const statuses: ReadonlyArray<WorkflowRunStatus> = typeof filter.status === "string" ? [filter.status] : filter.status
    where.push(`status IN (${statuses.map((status) => `$${params.push(status)}`).join(", ")})`)
  }
  return {
    sql: `SELECT status, count(*) AS n FROM workflow_runs${where.length === 0 ? "" : ` WHERE ${where.join(" AND ")}`} GROUP BY status`,
    params
  }
}
