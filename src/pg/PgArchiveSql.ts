/**
 * The SQL text of the archive's seam on PostgreSQL (`ArchiveRepositoryPg.ts`): a day's rows in
 * bounded pages, the delete of an exported id range with its round counts, restore's insert with
 * original ids, the manifest / claim / restored tables and the archive lock. No I/O.
 *
 * Parameters are `$n`; a day is `timestamp >= start AND timestamp < end` (epoch ms).
 *
 * @since 0.8.0
 */
import { PAGE_BYTES_BUDGET } from "../seam/ArchiveRepository.ts"

/**
 * The advisory lock every archive transaction takes first ("nervea" in ASCII; the migrations use
 * "nerve"): claim, publish and each delete step of one archiver exclude those of every other.
 */
export const ARCHIVE_LOCK = 0x6e6572766561
export const LOCK_ARCHIVE = `SELECT pg_advisory_xact_lock(${ARCHIVE_LOCK})`

/** The oldest timestamp in `[$1, $2)` (served by `idx_logs_timestamp`). */
export const OLDEST_TIMESTAMP = "SELECT min(timestamp) AS t FROM logs WHERE timestamp >= $1 AND timestamp < $2"
/** Count and id range of the rows in `[$1, $2)`. */
export const DAY_STATS = "SELECT count(*) AS n, min(id) AS lo, max(id) AS hi FROM logs WHERE timestamp >= $1 AND timestamp < $2"

const IN_RANGE = "id > $1 AND id <= $2 AND timestamp >= $3 AND timestamp < $4"
const IN_CLOSED_RANGE = "id >= $1 AND id <= $2 AND timestamp >= $3 AND timestamp < $4"

/**
 * A page: rows with `$1 < id <= $2` of the day `[$3, $4)`, by id, at most `$5`, and past the first
 * row no more than {@link PAGE_BYTES_BUDGET} estimated bytes (the column sizes before escaping).
 */
export const PAGE = `SELECT id, source, type, "refId", payload, timestamp FROM (
    SELECT id, source, type, ref_id AS "refId", payload, timestamp,
      row_number() OVER (ORDER BY id) AS n,
      sum(64 + octet_length(source) + octet_length(type) + coalesce(octet_length(ref_id), 0) + coalesce(octet_length(payload), 0))
        OVER (ORDER BY id ROWS UNBOUNDED PRECEDING) AS run
    FROM (SELECT * FROM logs WHERE ${IN_RANGE} ORDER BY id LIMIT $5) AS candidates
  ) AS page WHERE n = 1 OR run <= ${PAGE_BYTES_BUDGET} ORDER BY id`

export const COUNT_RANGE = `SELECT count(*) AS n FROM logs WHERE ${IN_CLOSED_RANGE}`

/**
 * Locks the round counts the range's thread rows hold, in run id order (appenders add rounds in
 * that order too, so a delete step and a batch never wait on each other in a cycle).
 */
export const LOCK_RANGE_COUNTS = `SELECT ref_id FROM thread_round_counts WHERE ref_id IN (
    SELECT ref_id FROM logs WHERE ${IN_CLOSED_RANGE} AND thread_round AND ref_id IS NOT NULL
  ) ORDER BY ref_id FOR UPDATE`

/** Deletes the range and takes its rounds off the runs' counts (never below 0) in one statement; returns how many rows went. */
export const DELETE_RANGE = `WITH gone AS (DELETE FROM logs WHERE ${IN_CLOSED_RANGE} RETURNING ref_id, thread_round),
  rounds AS (SELECT ref_id, count(*) AS n FROM gone WHERE thread_round AND ref_id IS NOT NULL GROUP BY ref_id),
  counted AS (UPDATE thread_round_counts c SET rounds = greatest(0, c.rounds - rounds.n) FROM rounds WHERE c.ref_id = rounds.ref_id)
  SELECT count(*) AS n FROM gone`

/** Rows with their own ids from `$1` (a JSON array), skipping ids present; returns the rows inserted. */
export const INSERT_IGNORING_PRESENT = `INSERT INTO logs (id, source, type, ref_id, payload, timestamp, thread_round)
  SELECT id, source, type, ref_id, payload, timestamp, thread_round
  FROM jsonb_to_recordset($1::jsonb) AS r(id bigint, source text, type text, ref_id text, payload text, timestamp bigint, thread_round boolean)
  ORDER BY id
  ON CONFLICT (id) DO NOTHING RETURNING ref_id AS "refId", thread_round AS "threadRound"`

/** The last id the log's identity sequence handed out (0 when none yet). */
export const SEQUENCE_LAST = "SELECT coalesce(pg_sequence_last_value(pg_get_serial_sequence('logs', 'id')::regclass), 0) AS id"
/**
 * Moves the identity sequence to `$1` unless it is already there (under a lock that keeps
 * appenders from drawing ids meanwhile): restored ids are never handed out again.
 */
export const LOCK_LOGS_FOR_SEQUENCE = "LOCK TABLE logs IN SHARE ROW EXCLUSIVE MODE"
export const ADVANCE_SEQUENCE = `SELECT setval(pg_get_serial_sequence('logs', 'id'), $1::bigint)
  WHERE coalesce(pg_sequence_last_value(pg_get_serial_sequence('logs', 'id')::regclass), 0) < $1::bigint`

export const SELECT_META = "SELECT value FROM meta WHERE key = $1"
/** Sets the watermark to `$2` unless it is already at or past it. */
export const ADVANCE_META = `INSERT INTO meta (key, value) VALUES ($1, $2)
  ON CONFLICT (key) DO UPDATE SET value = excluded.value WHERE meta.value < excluded.value`

const FILE_COLUMNS = `day, file AS "fileName", row_count AS "lineCount", bytes, sha256, min_id AS "minId", max_id AS "maxId"`
export const SELECT_MANIFEST = `SELECT ${FILE_COLUMNS}, archived_at AS "archivedAt" FROM archive_manifest ORDER BY day`
export const SELECT_PENDING = `SELECT day, file AS "fileName", line_count AS "lineCount", bytes, sha256, min_id AS "minId",
  max_id AS "maxId", token, started_at AS "startedAt" FROM archive_pending ORDER BY day`
/** The manifest row and the claim of `$1`, in one statement (one snapshot). */
export const SELECT_RECORD = `SELECT 'manifest' AS kind, ${FILE_COLUMNS}, archived_at AS at, NULL::text AS token FROM archive_manifest WHERE day = $1
  UNION ALL
  SELECT 'pending', day, file, line_count, bytes, sha256, min_id, max_id, started_at, token FROM archive_pending WHERE day = $1`

export const UPSERT_MANIFEST = `INSERT INTO archive_manifest (day, file, row_count, bytes, sha256, min_id, max_id, archived_at)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
  ON CONFLICT (day) DO UPDATE SET file = excluded.file, row_count = excluded.row_count, bytes = excluded.bytes,
    sha256 = excluded.sha256, min_id = excluded.min_id, max_id = excluded.max_id, archived_at = excluded.archived_at`
export const UPSERT_PENDING = `INSERT INTO archive_pending (day, token, file, line_count, bytes, sha256, min_id, max_id, started_at)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
  ON CONFLICT (day) DO UPDATE SET token = excluded.token, file = excluded.file, line_count = excluded.line_count,
    bytes = excluded.bytes, sha256 = excluded.sha256, min_id = excluded.min_id, max_id = excluded.max_id, started_at = excluded.started_at`
export const DELETE_PENDING = "DELETE FROM archive_pending WHERE day = $1"

export const SELECT_RESTORED_AT = "SELECT restored_at AS t FROM archive_restored WHERE day = $1"
export const SELECT_RESTORED = "SELECT day, restored_at AS t FROM archive_restored"
export const UPSERT_RESTORED = `INSERT INTO archive_restored (day, restored_at) VALUES ($1, $2)
  ON CONFLICT (day) DO UPDATE SET restored_at = excluded.restored_at`
export const DELETE_RESTORED = "DELETE FROM archive_restored WHERE day = $1"
