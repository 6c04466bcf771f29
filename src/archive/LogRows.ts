/**
 * The archive's SQL against the `logs` and `meta` tables: finding the days with rows, reading a
 * day page by page by id, deleting exactly what was exported, and putting rows back.
 *
 * @since 0.6.0
 */
import { Effect } from "effect"
import type { PlannedDay } from "../../schema/Archive.ts"
import { CorruptRow, type DatabaseError } from "../../schema/Errors.ts"
import type { LogEntry } from "../../schema/LogEntry.ts"
import type { SqliteShape, SqlRow } from "../Sqlite.ts"
import { LOG_ARCHIVE_META_KEY, utcDateStringFromMs, utcDayEndExclusiveMs, utcDayStartMs } from "../UtcDay.ts"

/** One page of a day's rows, already rendered as archive lines. */
export interface Page {
  readonly ids: ReadonlyArray<number>
  readonly lines: ReadonlyArray<string>
}

// The rowid range keeps paging O(page): `NOT INDEXED` stops the planner from walking the
// timestamp index (in time order) and sorting every page by id.
const PAGE_SQL = `SELECT id, source, type, ref_id, payload, timestamp FROM logs NOT INDEXED
  WHERE id > ? AND id <= ? AND timestamp >= ? AND timestamp < ? ORDER BY id LIMIT ?`

const isText = (value: unknown): value is string => typeof value === "string"
const isTextOrNull = (value: unknown): value is string | null => value === null || typeof value === "string"
const isMs = (value: unknown): value is number => typeof value === "number" && Number.isSafeInteger(value) && value >= 0

/** Checks a `logs` row and renders its archive line (0.5 key order), or says what is wrong. */
const renderRow = (row: SqlRow): string | { readonly id: string; readonly reason: string } => {
  const { id, source, type, ref_id, payload, timestamp } = row
  if (typeof id !== "number" || !Number.isSafeInteger(id) || id <= 0) return { id: String(id), reason: "id is not a positive integer" }
  if (!isText(source) || !isText(type)) return { id: String(id), reason: "source and type must be text" }
  if (!isTextOrNull(ref_id) || !isTextOrNull(payload)) return { id: String(id), reason: "ref_id and payload must be text or null" }
  if (!isMs(timestamp)) return { id: String(id), reason: "timestamp is not epoch milliseconds" }
  return JSON.stringify({ id, source, type, refId: ref_id, payload, timestamp })
}

/** The archive's queries on one connection. */
export const makeLogRows = (sql: SqliteShape) => {
  /** The oldest timestamp in `[fromMs, beforeMs)`, if any row is there. */
  const oldestTimestamp = (fromMs: number, beforeMs: number): Effect.Effect<number | undefined, DatabaseError> =>
    Effect.map(
      sql.get("SELECT min(timestamp) AS t FROM logs WHERE timestamp >= ? AND timestamp < ?", [fromMs, beforeMs]),
      (row) => (typeof row?.t === "number" ? row.t : undefined)
    )

  const dayStats = (day: string): Effect.Effect<PlannedDay | undefined, DatabaseError> =>
    Effect.map(
      sql.get(
        "SELECT count(*) AS n, min(id) AS lo, max(id) AS hi FROM logs WHERE timestamp >= ? AND timestamp < ?",
        [utcDayStartMs(day), utcDayEndExclusiveMs(day)]
      ),
      (row) =>
        row !== undefined && typeof row.n === "number" && row.n > 0 && typeof row.lo === "number" && typeof row.hi === "number"
          ? { day, rowCount: row.n, minId: row.lo, maxId: row.hi }
          : undefined
    )

  /** The days with rows before `beforeMs`, oldest first, at most `maxDays`, jumping over empty days. */
  const daysWithRows = Effect.fnUntraced(function*(beforeMs: number, maxDays: number) {
    const days: Array<PlannedDay> = []
    let from = Number.MIN_SAFE_INTEGER
    while (days.length < maxDays) {
      const t = yield* oldestTimestamp(from, beforeMs)
      if (t === undefined) break
      const day = utcDateStringFromMs(t)
      const stats = yield* dayStats(day)
      if (stats !== undefined) days.push(stats)
      from = utcDayEndExclusiveMs(day)
    }
    return days
  })

  /** Rows of `day` with `afterId < id <= maxId`, by id, at most `limit`, as archive lines. */
  const page = (day: string, afterId: number, maxId: number, limit: number): Effect.Effect<Page, CorruptRow | DatabaseError> =>
    Effect.flatMap(
      sql.sync("archive export", (c) => {
        const rows = c.all(PAGE_SQL, [afterId, maxId, utcDayStartMs(day), utcDayEndExclusiveMs(day), limit])
        const ids: Array<number> = []
        const lines: Array<string> = []
        for (const row of rows) {
          const line = renderRow(row)
          if (typeof line !== "string") return line
          ids.push(row.id as number)
          lines.push(line)
        }
        return { ids, lines }
      }),
      (result) =>
        "lines" in result
          ? Effect.succeed(result)
          : Effect.fail(new CorruptRow({ table: "logs", key: result.id, reason: result.reason }))
    )

  const watermark: Effect.Effect<string | null, DatabaseError> = Effect.map(
    sql.get("SELECT value FROM meta WHERE key = ?", [LOG_ARCHIVE_META_KEY]),
    (row) => (typeof row?.value === "string" ? row.value : null)
  )

  /** Sets the watermark to `day` unless it is already at or past it (inside the caller's transaction). */
  const advanceWatermarkTo = (day: string): Effect.Effect<void, DatabaseError> =>
    Effect.asVoid(
      sql.run(
        `INSERT INTO meta (key, value) VALUES (?, ?)
         ON CONFLICT(key) DO UPDATE SET value = excluded.value WHERE meta.value < excluded.value`,
        [LOG_ARCHIVE_META_KEY, day]
      )
    )

  /** Deletes the rows of `day` with `firstId <= id <= lastId`; returns how many went. */
  const deleteRange = (day: string, firstId: number, lastId: number): Effect.Effect<number, DatabaseError> =>
    Effect.map(
      sql.run("DELETE FROM logs WHERE id >= ? AND id <= ? AND timestamp >= ? AND timestamp < ?", [
        firstId,
        lastId,
        utcDayStartMs(day),
        utcDayEndExclusiveMs(day)
      ]),
      (result) => result.changes
    )

  /** Inserts rows with their own ids in one transaction, skipping ids already present; returns how many went in. */
  const insertIgnoringPresent = (entries: ReadonlyArray<LogEntry>): Effect.Effect<number, DatabaseError> =>
    sql.transaction(sql.sync("archive restore", (c) => {
      let inserted = 0
      for (const e of entries) {
        inserted += c.run(
          "INSERT OR IGNORE INTO logs (id, source, type, ref_id, payload, timestamp) VALUES (?, ?, ?, ?, ?, ?)",
          [e.id, e.source, e.type, e.refId, e.payload, e.timestamp]
        ).changes
      }
      return inserted
    }))

  /** Moves the WAL into the database and truncates it (a no-op for `:memory:`). */
  const checkpoint: Effect.Effect<void, DatabaseError> = Effect.asVoid(sql.all("PRAGMA wal_checkpoint(TRUNCATE)"))

  const vacuum: Effect.Effect<void, DatabaseError> = sql.exec("VACUUM")

  return { daysWithRows, page, watermark, advanceWatermarkTo, deleteRange, insertIgnoringPresent, checkpoint, vacuum }
}

export type LogRows = ReturnType<typeof makeLogRows>
