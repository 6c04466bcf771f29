/**
 * Role rounds numbered by SQLite (SPEC §Log conventions): the run's thread rows whose payload is
 * valid JSON and not a thread-start marker, numbered by id. An expression index holds, per run,
 * whether each row is a round, and `thread_round_counts` holds each run's count (kept by
 * `ThreadRoundCounts.ts`), so `threadRoundCount` reads one row and `threadRounds` reads and
 * decodes only the rows of its page, newest first, numbering them down from the count.
 *
 * The rule lives here as SQL and in `domain/ThreadLog.ts` as JavaScript (for a backend without
 * JSON functions); the contract suite runs the same cases against this one.
 *
 * @since 0.7.0
 */
import * as ThreadLog from "../domain/ThreadLog.ts"
import type { SqlParam } from "./Sqlite.ts"

/** The thread rows of runs: the condition of the partial index `idx_logs_thread_rounds`. */
export const THREAD_ROW = `source = '${ThreadLog.WORKFLOW_SOURCE}' AND type IN ('${ThreadLog.THREAD_MESSAGE_TYPE}', '${ThreadLog.THREAD_EVENT_TYPE}')`

/**
 * Whether a thread row carries a role round (1) or not (0): valid JSON that is not a thread-start
 * marker (`$.type` and `$.role` are NULL for arrays and scalars). The JSON functions run only on valid JSON (SQLite does not promise to short-circuit
 * AND, and they fail on malformed text). Written exactly as in the partial expression index
 * `idx_logs_thread_rounds (ref_id, <this>, id) WHERE <THREAD_ROW>` (migration 6): SQLite uses an
 * expression index only for the same expression, and then reads its value from the index instead
 * of parsing payloads. Other rows get no index entry, so an append of them pays nothing for it.
 */
export const IS_ROUND = `(CASE WHEN json_valid(payload)
    THEN json_extract(payload, '$.type') IS NOT 'thread_start' AND json_extract(payload, '$.role') IS NOT '__start__'
    ELSE 0 END)`

const ROUND_ROWS = `ref_id = ?1 AND ${THREAD_ROW} AND ${IS_ROUND} = 1`

/** Where a run's round count comes from: `thread_round_counts` (O(1)), or its index entries. */
export type CountSource = "stored" | "index"

/** The schema version that brings `thread_round_counts` (migration 8). */
export const STORED_COUNTS_SINCE_VERSION = 8

/**
 * The stored count (migration 8 on; kept by `ThreadRoundCounts.ts`, a run without a row has 0),
 * or, on an older file opened read-only (never migrated), a `count(*)` over the index entries.
 */
const totalOf = (source: CountSource) =>
  source === "stored"
    ? "ifnull((SELECT rounds FROM thread_round_counts WHERE ref_id = ?1), 0)"
    : `(SELECT count(*) FROM logs WHERE ${ROUND_ROWS})`

/** The statements of one count source: `count` takes the run id. */
export interface RoundQueries {
  readonly count: string
  readonly page: string
}

/**
 * The statements that read a run's round count and its pages.
 *
 * A page: the run's round rows newest first, below the id `belowId`, skipping the rounds
 * `>= before` (0 = none), with the run's round count beside each (one statement: the count and
 * the rows come from one snapshot). Skipping walks index entries only (no row is read, no payload
 * parsed); a page that continues the previous one passes its last id and `before` 0, so it skips
 * nothing. Parameters: run id, how many rows, `before`, `belowId`.
 */
export const queries = (source: CountSource): RoundQueries => {
  const total = totalOf(source)
  return {
    count: `SELECT ${total} AS n`,
    page: `SELECT ${total} AS total,
    id, source, type, ref_id AS refId, payload, timestamp
  FROM logs WHERE ${ROUND_ROWS} AND id < ?4
  ORDER BY id DESC
  LIMIT ?2 OFFSET (CASE WHEN ?3 > 0 THEN max(0, ${total} - ?3 + 1) ELSE 0 END)`
  }
}

/** No id is this high: the `belowId` of a first page (from `domain/ThreadRounds.ts`). */
export { NO_ID_BOUND } from "../domain/ThreadRounds.ts"

/** A page query: the statement and its parameters. */
export const pageQuery = (
  statements: RoundQueries,
  runId: string,
  page: { readonly before: number; readonly belowId: number },
  rows: number
): { readonly sql: string; readonly params: Array<SqlParam> } => ({
  sql: statements.page,
  params: [runId, rows, page.before, page.belowId]
})
