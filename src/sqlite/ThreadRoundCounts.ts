/**
 * Each run's role-round count in `thread_round_counts` (migration 8), so that `threadRoundCount`
 * reads one row and a `threadRounds` page numbers its rows without counting the run.
 *
 * Kept by our own writes, in the transaction that changes the rows, one statement per batch (not
 * per row, and not by triggers: docs/DECISIONS.md "Round counts kept by our writes"):
 * - LogStore's inserts add the rounds of a batch, only when it holds a thread row;
 * - the archive subtracts a day's rounds just before it deletes the day's rows, and a restore adds
 *   the rows it actually put back.
 * SQLite decides which rows are rounds, with the `IS_ROUND` expression of the index and the page
 * queries, so the counts and the pages cannot disagree about what a round is.
 *
 * Writers that do not know the table (nerve-store 0.5, an older build, the sqlite3 shell) leave it
 * behind: {@link mismatches} finds such runs (`nerve-store db check`) and {@link rebuild} recounts
 * every run from the index (`nerve-store db upgrade`).
 *
 * @since 0.7.0
 */
import { Effect } from "effect"
import type { DatabaseError } from "../../schema/Errors.ts"
import type { LogEntry } from "../../schema/LogEntry.ts"
import * as ThreadLog from "../domain/ThreadLog.ts"
import type { SqliteShape, SyncConnection } from "./Sqlite.ts"
import { IS_ROUND, THREAD_ROW } from "./ThreadRoundsSql.ts"

/** The rows that count: round rows of a run. */
const ROUND = `ref_id IS NOT NULL AND ${THREAD_ROW} AND ${IS_ROUND} = 1`

/**
 * Adds the rounds among the rows `where` selects. `NOT INDEXED`: the rows are found by rowid (a
 * range or a list), never by walking an index of every run's rows; `IS_ROUND` is then computed
 * from the payloads of those rows only.
 */
const addRounds = (where: string) =>
  `INSERT INTO thread_round_counts (ref_id, rounds)
  SELECT ref_id, count(*) FROM logs NOT INDEXED WHERE ${where} AND ${ROUND} GROUP BY ref_id
  ON CONFLICT(ref_id) DO UPDATE SET rounds = rounds + excluded.rounds`

/** Parameters: the first and the last id of a batch just inserted. */
const ADD_RANGE = addRounds("id >= ?1 AND id <= ?2")

/**
 * One row just inserted: the same without the GROUP BY, which opens a temporary b-tree on every
 * execution (for one row, more than the rest of the statement costs). Parameter: its id.
 */
const ADD_ONE = `INSERT INTO thread_round_counts (ref_id, rounds)
  SELECT ref_id, 1 FROM logs WHERE id = ?1 AND ${ROUND}
  ON CONFLICT(ref_id) DO UPDATE SET rounds = rounds + 1`

/** Parameter: the ids of the rows just inserted, as a JSON array. */
const ADD_IDS = addRounds("id IN (SELECT value FROM json_each(?1))")

/**
 * Takes away the rounds among the rows the archive is about to delete (its `DELETE` has the same
 * condition). A count never goes below 0 (only a count already behind its rows could); a run
 * whose rows are all archived keeps its row with 0. Parameters: first id, last id, day start,
 * day end (exclusive).
 */
const SUBTRACT_DAY = `UPDATE thread_round_counts SET rounds = max(0, rounds - gone.n)
  FROM (SELECT ref_id, count(*) AS n FROM logs NOT INDEXED
        WHERE id >= ?1 AND id <= ?2 AND timestamp >= ?3 AND timestamp < ?4 AND ${ROUND}
        GROUP BY ref_id) AS gone
  WHERE thread_round_counts.ref_id = gone.ref_id`

/**
 * Every run's count from its rows: a walk of `idx_logs_thread_rounds`, which holds `IS_ROUND`, so
 * no payload is parsed (left to itself the planner may pick the `(source, type)` index and parse
 * every thread row's payload, 5–10× slower).
 */
const ACTUAL = `SELECT ref_id, count(*) AS n FROM logs INDEXED BY idx_logs_thread_rounds WHERE ${ROUND} GROUP BY ref_id`

/** Runs whose stored count (none = 0) differs from their rows, by run id. */
const MISMATCHED = `WITH actual AS (${ACTUAL})
  SELECT runId, stored, actual FROM (
    SELECT c.ref_id AS runId, c.rounds AS stored, ifnull(a.n, 0) AS actual
      FROM thread_round_counts AS c LEFT JOIN actual AS a ON a.ref_id = c.ref_id
      WHERE c.rounds IS NOT ifnull(a.n, 0)
    UNION ALL
    SELECT a.ref_id, 0, a.n FROM actual AS a
      WHERE NOT EXISTS (SELECT 1 FROM thread_round_counts AS c WHERE c.ref_id = a.ref_id)
  ) ORDER BY runId`

/** A row of a thread of a run: the rows whose rounds are counted (a cheap check, no JSON). */
export const isThreadRow = (row: { readonly source: string; readonly type: string }): boolean =>
  row.source === ThreadLog.WORKFLOW_SOURCE && (row.type === ThreadLog.THREAD_MESSAGE_TYPE || row.type === ThreadLog.THREAD_EVENT_TYPE)

/**
 * After `entries` were inserted with consecutive ids, in the caller's transaction: adds their
 * rounds with one statement. A batch without a thread row costs one check per row and no statement.
 */
export const countInserted = (connection: SyncConnection, entries: ReadonlyArray<LogEntry>): void => {
  const first = entries[0]
  const last = entries[entries.length - 1]
  if (first === undefined || last === undefined || !entries.some(isThreadRow)) return
  if (first === last) connection.run(ADD_ONE, [first.id])
  else connection.run(ADD_RANGE, [first.id, last.id])
}

/** After one row was inserted, in the caller's transaction: adds its round, if it is one. */
export const countInsertedRow = (connection: SyncConnection, entry: LogEntry): void => {
  if (isThreadRow(entry)) connection.run(ADD_ONE, [entry.id])
}

/** After a restore inserted the rows `ids` (only those it did insert), in its transaction: adds their rounds. */
export const countRestored = (connection: SyncConnection, ids: ReadonlyArray<number>): void => {
  if (ids.length > 0) connection.run(ADD_IDS, [JSON.stringify(ids)])
}

/**
 * Before the archive deletes the rows `firstId <= id <= lastId` of the day `[startMs, endMs)`, in
 * the same transaction: subtracts their rounds from their runs.
 */
export const uncountDay = (connection: SyncConnection, firstId: number, lastId: number, startMs: number, endMs: number): void => {
  connection.run(SUBTRACT_DAY, [firstId, lastId, startMs, endMs])
}

/** A run whose stored count differs from the rounds its rows hold. */
export interface CountMismatch {
  readonly runId: string
  readonly stored: number
  readonly actual: number
}

/** The runs (at most `limit`, by id) whose stored count differs from their rows. Reads every round's index entry. */
export const mismatches = (sql: SqliteShape, limit = 100): Effect.Effect<ReadonlyArray<CountMismatch>, DatabaseError> =>
  Effect.map(sql.all(`${MISMATCHED} LIMIT ?`, [Math.max(1, Math.floor(limit))]), (rows) =>
    rows.map((row) => ({ runId: String(row.runId), stored: Number(row.stored), actual: Number(row.actual) })))

/**
 * Recounts every run from its rows, in one `BEGIN IMMEDIATE` transaction (so no write of ours
 * interleaves), when any count is off. Returns how many runs' counts were wrong.
 */
export const rebuild = (sql: SqliteShape): Effect.Effect<number, DatabaseError> =>
  sql.transaction(Effect.gen(function*() {
    const wrong = (yield* sql.get(`SELECT count(*) AS n FROM (${MISMATCHED})`))?.n
    const count = Number(wrong ?? 0)
    if (count > 0) {
      yield* sql.sync("rebuild thread_round_counts", (connection) => {
        connection.run("DELETE FROM thread_round_counts")
        connection.run(`INSERT INTO thread_round_counts (ref_id, rounds) ${ACTUAL}`)
      })
    }
    return count
  }))
