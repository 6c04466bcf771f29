/**
 * The SQL of lease control on SQLite (issue 16): listing and releasing leases, claiming queued
 * runs, and the `owner_boots` table (one live boot per owner name). No I/O.
 *
 * @since 0.8.0
 */
import { Schema } from "effect"
import { rowDecoder } from "../domain/Validate.ts"
import { LEASE_COLUMNS } from "./LogSql.ts"

export const SELECT_LEASES = `SELECT ${LEASE_COLUMNS} FROM run_leases ORDER BY run_id`
export const SELECT_OWNER_LEASES = `SELECT ${LEASE_COLUMNS} FROM run_leases WHERE owner = ? ORDER BY run_id`
export const DELETE_OWN_LEASE = "DELETE FROM run_leases WHERE run_id = ? AND owner = ? AND boot = ?"

/**
 * The claimable queued runs, oldest first. Parameters: workflow (or NULL), owner name, boot,
 * dead-before (or NULL), limit.
 */
export const SELECT_CLAIMABLE = `SELECT r.run_id AS runId, r.workflow, r.status, r.timestamp, r.exit_code AS exitCode
  FROM workflow_runs r LEFT JOIN run_leases l ON l.run_id = r.run_id
  WHERE r.status = 'queued' AND (?1 IS NULL OR r.workflow = ?1)
    AND (l.run_id IS NULL
      OR (l.owner = ?2 AND l.boot <> ?3)
      OR (?4 IS NOT NULL AND l.expires_at <= ?4 AND NOT (l.owner = ?2 AND l.boot = ?3)))
  ORDER BY r.timestamp, r.rowid LIMIT ?5`

export const SELECT_BOOT =
  "SELECT owner, boot, renewed_at AS renewedAt, renewal_ms AS renewalMs, host, pid FROM owner_boots WHERE owner = ?"
export const UPSERT_BOOT = `INSERT INTO owner_boots (owner, boot, renewed_at, renewal_ms, host, pid) VALUES (?, ?, ?, ?, ?, ?)
  ON CONFLICT(owner) DO UPDATE SET boot = excluded.boot, renewed_at = excluded.renewed_at, renewal_ms = excluded.renewal_ms,
    host = excluded.host, pid = excluded.pid`
export const RENEW_BOOT = "UPDATE owner_boots SET renewed_at = ? WHERE owner = ? AND boot = ?"
export const DELETE_BOOT = "DELETE FROM owner_boots WHERE owner = ? AND boot = ?"

/** A row of `owner_boots`. */
export const OwnerBootRow = Schema.Struct({
  owner: Schema.String,
  boot: Schema.String,
  renewedAt: Schema.Number,
  renewalMs: Schema.Number,
  host: Schema.String,
  pid: Schema.Number
})
export const decodeBootRow = rowDecoder(OwnerBootRow, "owner_boots")
