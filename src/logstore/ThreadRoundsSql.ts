/**
 * Role rounds numbered by SQLite (SPEC §Log conventions): the run's thread rows whose payload is
 * valid JSON and not a thread-start marker, numbered by id. An expression index holds, per run,
 * whether each row is a round, so `threadRoundCount` is a `count(*)` over index entries (no
 * payload is parsed) and `threadRounds` reads and decodes only the rows of its page, newest
 * first, numbering them down from the count.
 *
 * The rule lives here as SQL and in `domain/ThreadLog.ts` as JavaScript (for a backend without
 * JSON functions); the contract suite runs the same cases against this one.
 *
 * @since 0.7.0
 */
import { Option, Schema } from "effect"
import { LogEntry } from "../../schema/LogEntry.ts"
import type { ThreadRoundRow } from "../../schema/Thread.ts"
import * as ThreadLog from "../domain/ThreadLog.ts"
import type { SqlParam } from "../sqlite/Sqlite.ts"

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

/** `count(*)` of the run's rounds: index entries only, no payload is parsed. One parameter, the run id. */
export const COUNT_SQL = `SELECT count(*) AS n FROM logs WHERE ${ROUND_ROWS}`

/**
 * The run's round rows newest first, skipping the rounds `>= before` (0 = none), with the run's
 * round count beside each (one statement: the count and the rows come from one snapshot). Round
 * `total - skipped - k` is the k-th row returned. Parameters: run id, how many rows, `before`.
 */
const PAGE_SQL = `SELECT (${COUNT_SQL.replace("AS n ", "")}) AS total,
    id, source, type, ref_id AS refId, payload, timestamp
  FROM logs WHERE ${ROUND_ROWS}
  ORDER BY id DESC
  LIMIT ?2 OFFSET (CASE WHEN ?3 > 0 THEN max(0, (${COUNT_SQL.replace("AS n ", "")}) - ?3 + 1) ELSE 0 END)`

/** A page query: the statement and its parameters. */
export const pageQuery = (runId: string, before: number, rows: number): { readonly sql: string; readonly params: Array<SqlParam> } => ({
  sql: PAGE_SQL,
  params: [runId, rows, before]
})

/** The round number of the k-th row of a page read with `before`, given the run's round count. */
export const roundOf = (total: number, before: number, k: number): number =>
  (before > 0 ? Math.min(total, before - 1) : total) - k

/** A stored log row with its run's round count. */
export const RoundLogRow = Schema.Struct({ ...LogEntry.fields, total: Schema.Int })
export type RoundLogRow = typeof RoundLogRow.Type

/**
 * The round row of a decoded page row. SQLite already checked that it yields one; a payload it
 * read differently from `JSON.parse` (none is known) yields nothing rather than a wrong row.
 */
export const toRoundRow = (row: LogEntry, round: number): Option.Option<ThreadRoundRow> =>
  Option.map(
    Option.flatMap(ThreadLog.parsePayload(row.payload), (value) => ThreadLog.roundMessage({ round, row, value })),
    (message) => ({ round, logId: row.id, timestamp: row.timestamp, message })
  )
