/**
 * The archive's storage seam (`src/seam/ArchiveRepository.ts`) on PostgreSQL, over the migrated
 * pool (`PgDatabase.ts`); the SQL is in `PgArchiveSql.ts`.
 *
 * - `transaction` is a transaction that first takes the advisory lock `ARCHIVE_LOCK`
 *   (`pg_advisory_xact_lock`, released by COMMIT or ROLLBACK, even when the process dies): one
 *   archiver's claim, publish and delete steps at a time across processes and machines.
 * - Lines are rendered in JavaScript (`encodeArchiveLine`, the 0.5 key order), pages are cut by
 *   rows and by an estimated byte budget in SQL.
 * - A delete step takes its rows' rounds off their runs' counts in the same statement; restore
 *   adds the rounds of the rows it did insert, and moves the id sequence past the restored ids.
 *
 * @since 0.8.0
 */
import { Effect, Layer, Option, type Result } from "effect"
import { isSqlError } from "effect/sql/SqlError"
import { encodeArchiveLine, type PlannedDay } from "../../schema/Archive.ts"
import type { CorruptRow, DatabaseError } from "../../schema/Errors.ts"
import type { LogEntry } from "../../schema/LogEntry.ts"
import { isUtcDay, LOG_ARCHIVE_META_KEY, type UtcDay, utcDateStringFromMs, utcDayEndExclusiveMs, utcDayStartMs } from "../domain/UtcDay.ts"
import { rowDecoder } from "../domain/Validate.ts"
import {
  ArchiveRepository,
  type ArchiveRepositoryShape,
  type BytesPage,
  ManifestRow,
  PendingRow,
  type RowsPage
} from "../seam/ArchiveRepository.ts"
import * as LogSql from "../sqlite/LogSql.ts"
import * as Sql from "./PgArchiveSql.ts"
import { PgDatabase } from "./PgDatabase.ts"
import { mapSqlError, retryConflicts, toDatabaseError } from "./PgError.ts"
import { ADD_ROUNDS, fromPg, type PgParam, type PgRow, threadRoundOf } from "./PgLogSql.ts"

const decodeManifest = rowDecoder(ManifestRow, "archive_manifest")
const decodePending = rowDecoder(PendingRow, "archive_pending")

const decodeEach = <A>(
  rows: ReadonlyArray<PgRow>,
  decode: (row: unknown, key: () => string) => Result.Result<A, CorruptRow>
): Effect.Effect<Array<A>, CorruptRow> => Effect.forEach(rows, (row) => Effect.fromResult(decode(fromPg(row), () => String(row.day))))

const num = (value: unknown): number | undefined =>
  typeof value === "number" ? value : typeof value === "bigint" || typeof value === "string" ? Number(value) : undefined

/** Builds the repository over the migrated database in context. */
export const make = Effect.gen(function*() {
  const { sql } = yield* PgDatabase
  const inTransaction = Effect.map(Effect.serviceOption(sql.transactionService), Option.isSome)

  const query = (operation: string, text: string, params: ReadonlyArray<PgParam> = []) =>
    sql.unsafe<PgRow>(text, params).pipe(mapSqlError(operation))

  /** Runs `self` in a transaction (joining the caller's); outermost, it is run again on a deadlock or serialization failure. */
  const ownTransaction = <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E | DatabaseError, R> =>
    Effect.flatMap(inTransaction, (inside) =>
      inside
        ? self
        : sql.withTransaction(self).pipe(
          Effect.mapError((error) => (isSqlError(error) ? toDatabaseError("LogArchive transaction")(error) : error)),
          retryConflicts()
        ))

  /** The archive transaction: the advisory lock first, then `self`; a nested call joins the outer one. */
  const transaction = <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E | DatabaseError, R> =>
    Effect.flatMap(inTransaction, (inside) =>
      inside
        ? self
        : sql.withTransaction(Effect.andThen(query("LogArchive lock", Sql.LOCK_ARCHIVE), self)).pipe(
          Effect.mapError((error) => (isSqlError(error) ? toDatabaseError("LogArchive transaction")(error) : error))
        ))

  const daysWithRows = Effect.fnUntraced(function*(beforeMs: number, maxDays: number): Effect.fn.Return<ReadonlyArray<PlannedDay>, DatabaseError> {
    const days: Array<PlannedDay> = []
    let from = Number.MIN_SAFE_INTEGER
    while (days.length < maxDays) {
      const t = num((yield* query("LogArchive.plan", Sql.OLDEST_TIMESTAMP, [from, beforeMs]))[0]?.t)
      if (t === undefined) break
      const day = utcDateStringFromMs(t)
      if (!isUtcDay(day)) break
      const stats = (yield* query("LogArchive.plan", Sql.DAY_STATS, [utcDayStartMs(day), utcDayEndExclusiveMs(day)]))[0]
      const [rowCount, minId, maxId] = [num(stats?.n) ?? 0, num(stats?.lo), num(stats?.hi)]
      if (rowCount > 0 && minId !== undefined && maxId !== undefined) days.push({ day, rowCount, minId, maxId })
      from = utcDayEndExclusiveMs(day)
    }
    return days
  })

  const entries = (day: UtcDay, afterId: number, maxId: number, limit: number): Effect.Effect<ReadonlyArray<LogEntry>, CorruptRow | DatabaseError> =>
    Effect.flatMap(
      query("LogArchive.archive", Sql.PAGE, [afterId, maxId, utcDayStartMs(day), utcDayEndExclusiveMs(day), limit]),
      (rows) => LogSql.decodeAll(rows.map(fromPg), LogSql.decodeLogRow, (row) => String(row.id))
    )

  const page = (day: UtcDay, afterId: number, maxId: number, limit: number): Effect.Effect<RowsPage, CorruptRow | DatabaseError> =>
    Effect.map(entries(day, afterId, maxId, limit), (found) => ({ ids: found.map((e) => e.id), lines: found.map(encodeArchiveLine) }))

  const pageBytes = (day: UtcDay, afterId: number, maxId: number, limit: number): Effect.Effect<Option.Option<BytesPage>, CorruptRow | DatabaseError> =>
    Effect.map(entries(day, afterId, maxId, limit), (found) => {
      const first = found[0]
      const last = found[found.length - 1]
      if (first === undefined || last === undefined) return Option.none()
      const bytes = Buffer.from(found.map((e) => `${encodeArchiveLine(e)}\n`).join(""), "utf8")
      return Option.some({ count: found.length, firstId: first.id, lastId: last.id, bytes })
    })

  const rangeParams = (day: UtcDay, firstId: number, lastId: number): Array<PgParam> => [firstId, lastId, utcDayStartMs(day), utcDayEndExclusiveMs(day)]

  const countRange = (day: UtcDay, firstId: number, lastId: number): Effect.Effect<number, DatabaseError> =>
    Effect.map(query("LogArchive.archive", Sql.COUNT_RANGE, rangeParams(day, firstId, lastId)), (rows) => num(rows[0]?.n) ?? 0)

  const deleteRange = (day: UtcDay, firstId: number, lastId: number): Effect.Effect<number, DatabaseError> =>
    ownTransaction(Effect.gen(function*() {
      yield* query("LogArchive.archive", Sql.LOCK_RANGE_COUNTS, rangeParams(day, firstId, lastId))
      const rows = yield* query("LogArchive.archive", Sql.DELETE_RANGE, rangeParams(day, firstId, lastId))
      return num(rows[0]?.n) ?? 0
    }))

  const insertIgnoringPresent = (input: ReadonlyArray<LogEntry>): Effect.Effect<number, DatabaseError> =>
    input.length === 0 ? Effect.succeed(0) : ownTransaction(Effect.gen(function*() {
      const op = "LogArchive.restore"
      const maxId = input.reduce((max, e) => Math.max(max, e.id), 0)
      // A restored id beyond the sequence (a day file from another database) must never be handed
      // out again: the sequence moves past it before the rows go in, while appenders wait.
      if ((num((yield* query(op, Sql.SEQUENCE_LAST))[0]?.id) ?? 0) < maxId) {
        yield* query(op, Sql.LOCK_LOGS_FOR_SEQUENCE)
        yield* query(op, Sql.ADVANCE_SEQUENCE, [maxId])
      }
      const rows = input.map((e) => ({
        id: e.id, source: e.source, type: e.type, ref_id: e.refId, payload: e.payload, timestamp: e.timestamp,
        thread_round: threadRoundOf(e)
      }))
      const inserted = yield* query(op, Sql.INSERT_IGNORING_PRESENT, [JSON.stringify(rows)])
      const rounds = new Map<string, number>()
      for (const row of inserted) {
        if (row.threadRound === true && typeof row.refId === "string") rounds.set(row.refId, (rounds.get(row.refId) ?? 0) + 1)
      }
      if (rounds.size > 0) {
        const added = [...rounds].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([ref_id, n]) => ({ ref_id, rounds: n }))
        yield* query(op, ADD_ROUNDS, [JSON.stringify(added)])
      }
      return inserted.length
    }))

  const archivedUpTo: Effect.Effect<Option.Option<string>, DatabaseError> = Effect.map(
    query("LogArchive.archive", Sql.SELECT_META, [LOG_ARCHIVE_META_KEY]),
    (rows) => (typeof rows[0]?.value === "string" ? Option.some(rows[0].value) : Option.none())
  )

  const advanceArchivedUpTo = (day: string): Effect.Effect<void, DatabaseError> =>
    Effect.asVoid(query("LogArchive.archive", Sql.ADVANCE_META, [LOG_ARCHIVE_META_KEY, day]))

  const record: ArchiveRepositoryShape["record"] = (day) =>
    Effect.gen(function*() {
      const rows = yield* query("LogArchive.archive", Sql.SELECT_RECORD, [day])
      let manifest = Option.none<ManifestRow>()
      let pending = Option.none<PendingRow>()
      for (const { kind, at, ...row } of rows.map(fromPg)) {
        if (kind === "manifest") manifest = Option.some(yield* Effect.fromResult(decodeManifest({ ...row, archivedAt: at }, () => day)))
        else pending = Option.some(yield* Effect.fromResult(decodePending({ ...row, startedAt: at }, () => day)))
      }
      return { manifest, pending }
    })

  const fileParams = (row: ManifestRow | PendingRow): Array<PgParam> =>
    [row.fileName, row.lineCount, row.bytes, row.sha256, row.minId, row.maxId]

  const repository: ArchiveRepositoryShape = {
    daysWithRows,
    page,
    pageBytes,
    countRange,
    deleteRange,
    insertIgnoringPresent,
    archivedUpTo,
    advanceArchivedUpTo,
    record,
    listManifest: Effect.flatMap(query("LogArchive.days", Sql.SELECT_MANIFEST), (rows) => decodeEach(rows, decodeManifest)),
    putManifest: (row) => Effect.asVoid(query("LogArchive.archive", Sql.UPSERT_MANIFEST, [row.day, ...fileParams(row), row.archivedAt])),
    listPending: Effect.flatMap(query("LogArchive.archive", Sql.SELECT_PENDING), (rows) => decodeEach(rows, decodePending)),
    putPending: (row) =>
      Effect.asVoid(query("LogArchive.archive", Sql.UPSERT_PENDING, [row.day, row.token, ...fileParams(row), row.startedAt])),
    clearPending: (day) => Effect.asVoid(query("LogArchive.archive", Sql.DELETE_PENDING, [day])),
    restoredAt: (day) =>
      Effect.map(query("LogArchive.archive", Sql.SELECT_RESTORED_AT, [day]), (rows) => Option.fromNullishOr(num(rows[0]?.t))),
    listRestored: Effect.map(query("LogArchive.days", Sql.SELECT_RESTORED), (rows) =>
      new Map(rows.flatMap((row) => {
        const t = num(row.t)
        return t === undefined ? [] : [[String(row.day), t] as const]
      }))),
    markRestored: (day, at) => Effect.asVoid(query("LogArchive.restore", Sql.UPSERT_RESTORED, [day, at])),
    clearRestored: (day) => Effect.asVoid(query("LogArchive.archive", Sql.DELETE_RESTORED, [day])),
    transaction,
    // PostgreSQL's WAL needs no help from us; autovacuum reclaims dead rows meanwhile.
    checkpoint: Effect.void,
    vacuum: Effect.asVoid(query("LogArchive.archive", "VACUUM logs"))
  }
  return ArchiveRepository.of(repository)
})

/** The repository over the migrated database in context. */
export const layer: Layer.Layer<ArchiveRepository, never, PgDatabase> = Layer.effect(ArchiveRepository, make)
