/**
 * The log-row half of the archive's seam on SQLite (`ArchiveRepository`): finding the days with
 * rows, reading a day page by page by id, deleting exactly what was exported, putting rows back
 * (with the runs' role-round counts, `ThreadRoundCounts.ts`, in the same transactions), and the
 * `meta` archived-up-to day.
 *
 * @since 0.8.0
 */
import { Effect, Option } from "effect"
import type { PlannedDay } from "../../schema/Archive.ts"
import { CorruptRow, type DatabaseError } from "../../schema/Errors.ts"
import type { LogEntry } from "../../schema/LogEntry.ts"
import * as ThreadRoundCounts from "./ThreadRoundCounts.ts"
import { eventLoopTurn } from "../seam/Steps.ts"
import { type ArchiveRepositoryShape, type BytesPage, PAGE_BYTES_BUDGET, type RowsPage } from "../seam/ArchiveRepository.ts"
import type { SqliteShape } from "./Sqlite.ts"
import { isUtcDay, LOG_ARCHIVE_META_KEY, type UtcDay, utcDateStringFromMs, utcDayEndExclusiveMs, utcDayStartMs } from "../domain/UtcDay.ts"

// SQLite renders each line itself (`json_object`, keys in 0.5 order), so one string per row
// crosses into JavaScript instead of a row object and its fields: far less garbage on the V8 heap
// for a day of millions of rows. `ok` checks the column types the line format needs.
// The rowid range keeps paging O(page): `NOT INDEXED` stops the planner from walking the
// timestamp index (in time order) and sorting every page by id.
const PAGE_SQL = `SELECT id,
    typeof(id) = 'integer' AND typeof(source) = 'text' AND typeof(type) = 'text'
      AND typeof(ref_id) IN ('text', 'null') AND typeof(payload) IN ('text', 'null')
      AND typeof(timestamp) = 'integer' AND timestamp >= 0 AS ok,
    CASE WHEN typeof(source) = 'text' AND typeof(type) = 'text' AND typeof(ref_id) IN ('text', 'null')
      AND typeof(payload) IN ('text', 'null')
    THEN json_object('id', id, 'source', source, 'type', type, 'refId', ref_id, 'payload', payload, 'timestamp', timestamp)
    END AS line
  FROM logs NOT INDEXED
  WHERE id > ? AND id <= ? AND timestamp >= ? AND timestamp < ? ORDER BY id LIMIT ?`

/**
 * One page as the bytes of its lines (each followed by a newline), aggregated by SQLite: the
 * common case of a day without an existing file never turns a row into a JavaScript value.
 */
const PAGE_BYTES_SQL = `SELECT count(*) AS n, min(id) AS lo, max(id) AS hi,
    min(CASE WHEN ok THEN NULL ELSE id END) AS bad,
    CAST(group_concat(line, char(10) ORDER BY id) || char(10) AS BLOB) AS bytes
  FROM (${PAGE_SQL})`

/**
 * The last id of a page that holds at most `limit` rows and, past its first row, at most a
 * budget of bytes (estimated from the column sizes before JSON escaping): a page of large rows
 * must stay far below SQLite's string limit (1 GB) when its lines are concatenated.
 */
const PAGE_CUT_SQL = `SELECT min(id) AS first, max(CASE WHEN run <= ? THEN id END) AS cut FROM (
    SELECT id, sum(size) OVER (ORDER BY id ROWS UNBOUNDED PRECEDING) AS run FROM (
      SELECT id, 64 + ifnull(octet_length(source), 0) + ifnull(octet_length(type), 0) + ifnull(octet_length(ref_id), 0)
        + ifnull(octet_length(payload), 0) AS size
      FROM logs NOT INDEXED
      WHERE id > ? AND id <= ? AND timestamp >= ? AND timestamp < ? ORDER BY id LIMIT ?))`

/** Index entries one step of a day's count reads at most (about 10 ms of work). */
export const STATS_STEP_ROWS = 32_768

/** The members of the seam that touch `logs` and `meta`. */
export type ArchiveRows = Pick<
  ArchiveRepositoryShape,
  | "daysWithRows"
  | "page"
  | "pageBytes"
  | "countRange"
  | "deleteRange"
  | "insertIgnoringPresent"
  | "archivedUpTo"
  | "advanceArchivedUpTo"
  | "checkpoint"
  | "vacuum"
>

/** The archive's queries on one connection. */
export const makeArchiveRows = (sql: SqliteShape): ArchiveRows => {
  /** The oldest timestamp in `[fromMs, beforeMs)`, if any row is there. */
  const oldestTimestamp = (fromMs: number, beforeMs: number): Effect.Effect<number | undefined, DatabaseError> =>
    Effect.map(
      sql.get("SELECT min(timestamp) AS t FROM logs WHERE timestamp >= ? AND timestamp < ?", [fromMs, beforeMs]),
      (row) => (typeof row?.t === "number" ? row.t : undefined)
    )

  /**
   * The timestamp of the row `STATS_STEP_ROWS` rows after the first one in `[fromMs, endMs)`, in
   * timestamp order: where the next bounded count ends. None when fewer rows are left.
   */
  const stepEnd = (fromMs: number, endMs: number): Effect.Effect<number | undefined, DatabaseError> =>
    Effect.map(
      sql.get("SELECT timestamp AS t FROM logs WHERE timestamp >= ? AND timestamp < ? ORDER BY timestamp LIMIT 1 OFFSET ?", [
        fromMs,
        endMs,
        STATS_STEP_ROWS
      ]),
      (row) => (typeof row?.t === "number" ? row.t : undefined)
    )

  const rangeStats = (fromMs: number, endMs: number) =>
    Effect.map(
      sql.get("SELECT count(*) AS n, min(id) AS lo, max(id) AS hi FROM logs WHERE timestamp >= ? AND timestamp < ?", [fromMs, endMs]),
      (row) => ({
        n: typeof row?.n === "number" ? row.n : 0,
        lo: typeof row?.lo === "number" ? row.lo : undefined,
        hi: typeof row?.hi === "number" ? row.hi : undefined
      })
    )

  /**
   * The count and id range of `day`, counted `STATS_STEP_ROWS` index entries at a time with a turn
   * of the event loop between steps: one count over a day of millions of rows would hold the loop
   * for as long as it reads the day's whole index range.
   */
  const dayStats = Effect.fnUntraced(function*(day: UtcDay): Effect.fn.Return<PlannedDay | undefined, DatabaseError> {
    const endMs = utcDayEndExclusiveMs(day)
    let from = utcDayStartMs(day)
    let rowCount = 0
    let minId = Number.POSITIVE_INFINITY
    let maxId = Number.NEGATIVE_INFINITY
    while (from < endMs) {
      const found = yield* stepEnd(from, endMs)
      // Rows sharing one millisecond are counted together (a step never ends inside a millisecond).
      const to = found === undefined ? endMs : Math.max(found, from + 1)
      const stats = yield* rangeStats(from, to)
      rowCount += stats.n
      if (stats.lo !== undefined) minId = Math.min(minId, stats.lo)
      if (stats.hi !== undefined) maxId = Math.max(maxId, stats.hi)
      from = to
      if (from < endMs) yield* eventLoopTurn
    }
    return rowCount > 0 ? { day, rowCount, minId, maxId } : undefined
  })

  /** The days with rows before `beforeMs`, oldest first, at most `maxDays`, jumping over empty days. */
  const daysWithRows = Effect.fnUntraced(function*(beforeMs: number, maxDays: number): Effect.fn.Return<ReadonlyArray<PlannedDay>, DatabaseError> {
    const days: Array<PlannedDay> = []
    let from = Number.MIN_SAFE_INTEGER
    while (days.length < maxDays) {
      const t = yield* oldestTimestamp(from, beforeMs)
      if (t === undefined) break
      const day = utcDateStringFromMs(t)
      // Planned days end before 10000-01-01 (`lastArchivableUtcDay` clamps), so this always holds.
      if (!isUtcDay(day)) break
      const stats = yield* dayStats(day)
      if (stats !== undefined) days.push(stats)
      from = utcDayEndExclusiveMs(day)
    }
    return days
  })

  /**
   * The id a page starting after `afterId` ends at: at most `limit` rows, and no more bytes than
   * the budget unless its first row alone is larger. Undefined when no row is left.
   */
  const pageEnd = (day: string, afterId: number, maxId: number, limit: number): Effect.Effect<number | undefined, DatabaseError> =>
    Effect.map(
      sql.get(PAGE_CUT_SQL, [PAGE_BYTES_BUDGET, afterId, maxId, utcDayStartMs(day), utcDayEndExclusiveMs(day), limit]),
      (row) => (typeof row?.cut === "number" ? row.cut : typeof row?.first === "number" ? row.first : undefined)
    )

  /** Rows of `day` with `afterId < id <= maxId`, by id, at most `limit` (and a budget of bytes), as archive lines. */
  const page = (day: string, afterId: number, maxId: number, limit: number): Effect.Effect<RowsPage, CorruptRow | DatabaseError> =>
    Effect.flatMap(
      Effect.flatMap(pageEnd(day, afterId, maxId, limit), (end) =>
        end === undefined ? Effect.succeed<RowsPage>({ ids: [], lines: [] }) : sql.sync("archive export", (c): RowsPage | { readonly bad: string; readonly reason: string } => {
        const rows = c.all(PAGE_SQL, [afterId, end, utcDayStartMs(day), utcDayEndExclusiveMs(day), limit])
        const ids: Array<number> = []
        const lines: Array<string> = []
        for (const row of rows) {
          const { id, ok, line } = row
          if (ok !== 1 || typeof id !== "number" || typeof line !== "string") {
            return { bad: String(id), reason: "a column does not have the type of the log format (text, integer ms or null)" }
          }
          ids.push(id)
          lines.push(line)
        }
        return { ids, lines }
      })),
      (result) =>
        "lines" in result
          ? Effect.succeed(result)
          : Effect.fail(new CorruptRow({ table: "logs", key: result.bad, reason: result.reason }))
    )

  /** Like `page`, as bytes rendered by SQLite; undefined when no row is left. */
  const pageBytes = (
    day: string,
    afterId: number,
    maxId: number,
    limit: number
  ): Effect.Effect<Option.Option<BytesPage>, CorruptRow | DatabaseError> =>
    Effect.flatMap(
      Effect.flatMap(pageEnd(day, afterId, maxId, limit), (end) =>
        end === undefined
          ? Effect.succeedNone
          : Effect.map(sql.get(PAGE_BYTES_SQL, [afterId, end, utcDayStartMs(day), utcDayEndExclusiveMs(day), limit]), Option.fromNullishOr)),
      (found) => {
        if (Option.isNone(found) || found.value.n === 0) return Effect.succeedNone
        const row = found.value
        const { n, lo, hi, bad, bytes } = row
        if (bad !== null && bad !== undefined) {
          return Effect.fail(new CorruptRow({ table: "logs", key: String(bad), reason: "a column does not have the type of the log format" }))
        }
        if (typeof n !== "number" || typeof lo !== "number" || typeof hi !== "number" || !(bytes instanceof Uint8Array)) {
          return Effect.fail(new CorruptRow({ table: "logs", key: String(lo), reason: "the page could not be rendered" }))
        }
        return Effect.succeed(Option.some({ count: n, firstId: lo, lastId: hi, bytes }))
      }
    )

  const archivedUpTo: Effect.Effect<Option.Option<string>, DatabaseError> = Effect.map(
    sql.get("SELECT value FROM meta WHERE key = ?", [LOG_ARCHIVE_META_KEY]),
    (row) => (typeof row?.value === "string" ? Option.some(row.value) : Option.none())
  )

  /** Sets the watermark to `day` unless it is already at or past it (inside the caller's transaction). */
  const advanceArchivedUpTo = (day: string): Effect.Effect<void, DatabaseError> =>
    Effect.asVoid(
      sql.run(
        `INSERT INTO meta (key, value) VALUES (?, ?)
         ON CONFLICT(key) DO UPDATE SET value = excluded.value WHERE meta.value < excluded.value`,
        [LOG_ARCHIVE_META_KEY, day]
      )
    )

  /**
   * Deletes the rows of `day` with `firstId <= id <= lastId`, taking their role rounds off their
   * runs' counts first, in one synchronous step (the caller's transaction, or one of its own).
   * `NOT INDEXED`: the rows are found by rowid range, so a step costs its own rows; through the
   * timestamp index each step would walk the whole day (quadratic in the day's size).
   */
  const deleteRange = (day: string, firstId: number, lastId: number): Effect.Effect<number, DatabaseError> =>
    sql.syncTransaction("archive delete", (c) => {
      const [startMs, endMs] = [utcDayStartMs(day), utcDayEndExclusiveMs(day)]
      ThreadRoundCounts.uncountDay(c, firstId, lastId, startMs, endMs)
      return c.run("DELETE FROM logs NOT INDEXED WHERE id >= ? AND id <= ? AND timestamp >= ? AND timestamp < ?", [firstId, lastId, startMs, endMs]).changes
    })

  /** How many rows of `day` have `firstId <= id <= lastId` now (the rows `deleteRange` would take). */
  const countRange = (day: string, firstId: number, lastId: number): Effect.Effect<number, DatabaseError> =>
    Effect.map(
      sql.get("SELECT count(*) AS n FROM logs NOT INDEXED WHERE id >= ? AND id <= ? AND timestamp >= ? AND timestamp < ?", [
        firstId,
        lastId,
        utcDayStartMs(day),
        utcDayEndExclusiveMs(day)
      ]),
      (row) => (typeof row?.n === "number" ? row.n : 0)
    )

  /**
   * Inserts rows with their own ids in one transaction, skipping ids already present, and adds the
   * role rounds of the thread rows it did insert to their runs' counts; returns how many went in.
   */
  const insertIgnoringPresent = (entries: ReadonlyArray<LogEntry>): Effect.Effect<number, DatabaseError> =>
    sql.transaction(sql.sync("archive restore", (c) => {
      let inserted = 0
      const threadIds: Array<number> = []
      for (const e of entries) {
        const changes = c.run(
          "INSERT OR IGNORE INTO logs (id, source, type, ref_id, payload, timestamp) VALUES (?, ?, ?, ?, ?, ?)",
          [e.id, e.source, e.type, e.refId, e.payload, e.timestamp]
        ).changes
        inserted += changes
        if (changes > 0 && ThreadRoundCounts.isThreadRow(e)) threadIds.push(e.id)
      }
      ThreadRoundCounts.countRestored(c, threadIds)
      return inserted
    }))

  /** Moves the WAL into the database and truncates it (a no-op for `:memory:`). */
  const checkpoint: Effect.Effect<void, DatabaseError> = Effect.asVoid(sql.all("PRAGMA wal_checkpoint(TRUNCATE)"))

  const vacuum: Effect.Effect<void, DatabaseError> = sql.exec("VACUUM")

  return {
    daysWithRows,
    page,
    pageBytes,
    archivedUpTo,
    advanceArchivedUpTo,
    countRange,
    deleteRange,
    insertIgnoringPresent,
    checkpoint,
    vacuum
  }
}
