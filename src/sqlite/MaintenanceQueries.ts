/**
 * The SQL that the maintenance service reads on SQLite: table presence, the journal mode,
 * counts for `stats`, live owners, stale leases, and rows still in SQLite from archived days.
 * Every row is decoded with a schema; a row that does not decode fails `CorruptRow` naming it.
 *
 * @since 0.8.0
 */
import { Effect, Result, Schema } from "effect"
import { rowDecoder } from "../domain/Validate.ts"
import { LOG_ARCHIVE_META_KEY, utcDateStringFromMs, utcDayEndExclusiveMs } from "../domain/UtcDay.ts"
import type { LiveOwner, RowsBehindArchive, StaleLease } from "../Maintenance.ts"
import type { SqliteShape, SqlRow } from "./Sqlite.ts"

/** Decodes one row of a query, or fails naming the query. */
const decodeRow = <S extends Schema.Top & { readonly DecodingServices: never }>(schema: S, what: string) => {
  const decode = rowDecoder(schema, what)
  return (row: SqlRow | undefined) => Result.match(decode(row ?? {}, () => what), { onFailure: Effect.fail, onSuccess: Effect.succeed })
}

const Count = Schema.Struct({ n: Schema.Int })
const NullableInt = Schema.NullOr(Schema.Int)
const LogRange = Schema.Struct({ n: Schema.Int, minId: NullableInt, maxId: NullableInt, minTs: NullableInt, maxTs: NullableInt })
const StatusCount = Schema.Struct({ status: Schema.String, n: Schema.Int })
const TextValue = Schema.Struct({ value: Schema.String })
const OwnerRow = Schema.Struct({ owner: Schema.String, runs: Schema.Int, expiresAt: Schema.Int })
const StaleRow = Schema.Struct({ runId: Schema.String, status: Schema.String, owner: Schema.String, expiresAt: Schema.Int })
const DayRow = Schema.Struct({ day: Schema.String })

/** Whether the file has a table `name`. */
export const hasTable = Effect.fnUntraced(function*(sql: SqliteShape, name: string) {
  const row = yield* sql.get("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table' AND name = ?", [name])
  return (yield* decodeRow(Count, "sqlite_master")(row)).n > 0
})

/** `PRAGMA journal_mode`. */
export const journalMode = Effect.fnUntraced(function*(sql: SqliteShape) {
  return (yield* decodeRow(TextValue, "PRAGMA journal_mode")(yield* sql.get("SELECT journal_mode AS value FROM pragma_journal_mode"))).value
})

/** Count, ids and times of the rows in `logs`. */
export const logRange = Effect.fnUntraced(function*(sql: SqliteShape) {
  return yield* decodeRow(LogRange, "logs")(
    yield* sql.get("SELECT count(*) AS n, min(id) AS minId, max(id) AS maxId, min(timestamp) AS minTs, max(timestamp) AS maxTs FROM logs")
  )
})

/** How many runs have each status. */
export const runsByStatus = Effect.fnUntraced(function*(sql: SqliteShape) {
  return yield* Effect.forEach(yield* sql.all("SELECT status, count(*) AS n FROM workflow_runs GROUP BY status"), decodeRow(StatusCount, "workflow_runs"))
})

/** The meta key `archived_up_to`, or null. */
export const archivedUpTo = Effect.fnUntraced(function*(sql: SqliteShape) {
  const meta = yield* sql.get("SELECT value FROM meta WHERE key = ?", [LOG_ARCHIVE_META_KEY])
  return meta === undefined ? null : (yield* decodeRow(TextValue, "meta")(meta)).value
})

/**
 * Rows still in SQLite from days up to `upTo` (restored days, or rows appended late with an old
 * timestamp), or null when there are none.
 */
export const rowsBehindArchive = Effect.fnUntraced(function*(sql: SqliteShape, upTo: string) {
  const endMs = utcDayEndExclusiveMs(upTo)
  if (!Number.isFinite(endMs)) return null
  const range = yield* decodeRow(LogRange, "logs")(
    yield* sql.get(
      "SELECT count(*) AS n, min(id) AS minId, max(id) AS maxId, min(timestamp) AS minTs, max(timestamp) AS maxTs FROM logs WHERE timestamp < ?",
      [endMs]
    )
  )
  if (range.n === 0 || range.minTs === null || range.maxTs === null) return null
  const oldestDay = utcDateStringFromMs(range.minTs)
  const newestDay = utcDateStringFromMs(range.maxTs)
  const restoredDays = (yield* hasTable(sql, "archive_restored"))
    ? (yield* Effect.forEach(
      yield* sql.all("SELECT day FROM archive_restored WHERE day >= ? AND day <= ? ORDER BY day", [oldestDay, newestDay]),
      decodeRow(DayRow, "archive_restored")
    )).map((row) => row.day)
    : []
  return { rows: range.n, oldestDay, newestDay, restoredDays } satisfies RowsBehindArchive
})

/**
 * The owners whose leases have not expired at `now`, with how many runs each holds and when its
 * last lease ends (a file older than the leases has none).
 */
export const liveOwners = Effect.fnUntraced(function*(sql: SqliteShape, now: number) {
  if (!(yield* hasTable(sql, "run_leases"))) return []
  const rows = yield* sql.all(
    "SELECT owner, count(*) AS runs, max(expires_at) AS expiresAt FROM run_leases WHERE expires_at > ? GROUP BY owner ORDER BY owner",
    [now]
  )
  return (yield* Effect.forEach(rows, decodeRow(OwnerRow, "run_leases"))) satisfies ReadonlyArray<LiveOwner>
})

/** Runs not yet finished (queued or started) whose lease expired at `now`: their owner is gone. */
export const staleLeases = Effect.fnUntraced(function*(sql: SqliteShape, now: number) {
  if (!(yield* hasTable(sql, "run_leases"))) return []
  const rows = yield* sql.all(
    `SELECT l.run_id AS runId, r.status AS status, l.owner AS owner, l.expires_at AS expiresAt
     FROM run_leases AS l JOIN workflow_runs AS r ON r.run_id = l.run_id
     WHERE l.expires_at <= ? AND r.status IN ('queued', 'started') ORDER BY l.expires_at, l.run_id`,
    [now]
  )
  return (yield* Effect.forEach(rows, decodeRow(StaleRow, "run_leases"))) satisfies ReadonlyArray<StaleLease>
})
