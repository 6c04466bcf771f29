/**
 * The LogStore's storage seam on PostgreSQL: {@link LogRepositoryShape} over the migrated pool.
 *
 * - A transition is one transaction: an advisory lock on the run id (a run not stored yet has no
 *   row to lock), `SELECT … FOR UPDATE` of the run, its lease, then `decide` and the writes.
 * - `insertMany` is one multi-row `INSERT … RETURNING id` (group commit hands it whole batches),
 *   with the thread rounds added to `thread_round_counts` by the same statement; no explicit
 *   transaction around it (a statement is atomic), except for a batch too large for one statement.
 * - Every statement that adds log rows notifies `nerve_logs` on commit (a trigger, migration 1);
 *   `commits` LISTENs there, so `follow` is pushed across processes and machines.
 * - A transaction that hits a serialization failure or a deadlock runs again (`retryConflicts`),
 *   only at the outermost level: a nested call joins its caller's transaction, which retries.
 * - Time ("now" of a transition) is the Effect `Clock`, as on SQLite (docs/DECISIONS.md § pg).
 *
 * @since 0.8.0
 */
import { Effect, Layer, Option, Result, Schedule, Stream } from "effect"
import { isSqlError, type SqlError } from "effect/sql/SqlError"
import type { CorruptRow, DatabaseError } from "../../schema/Errors.ts"
import type { LogEntry } from "../../schema/LogEntry.ts"
import type { RunLease } from "../../schema/WorkflowRun.ts"
import { type NewLogRow, type StoredRun, type TransitionPlan, transitionRecord } from "../domain/TransitionPlan.ts"
import type { TransitionResult } from "../LogStore.ts"
import * as LogSql from "../sqlite/LogSql.ts"
import { type Decide, LogRepository, type LogRepositoryShape } from "../seam/LogRepository.ts"
import * as LeaseRepositoryPg from "./LeaseRepositoryPg.ts"
import { PgDatabase } from "./PgDatabase.ts"
import { mapSqlError, retryConflicts, toDatabaseError } from "./PgError.ts"
import { LOG_CHANNEL } from "./PgMigrations.ts"
import * as PgLogSql from "./PgLogSql.ts"
import type { PgParam, PgRow } from "./PgLogSql.ts"

const decodeRows = <A>(
  rows: ReadonlyArray<PgRow>,
  decode: (row: unknown, key: () => string) => Result.Result<A, CorruptRow>,
  key: (row: PgRow) => string
): Effect.Effect<ReadonlyArray<A>, CorruptRow> =>
  LogSql.decodeAll(rows.map(PgLogSql.fromPg), decode, key)

const decodeFirst = <A>(
  rows: ReadonlyArray<PgRow>,
  decode: (row: unknown, key: () => string) => Result.Result<A, CorruptRow>,
  key: string
): Effect.Effect<Option.Option<A>, CorruptRow> => {
  const first = rows[0]
  return first === undefined ? Effect.succeedNone : Effect.map(Effect.fromResult(decode(PgLogSql.fromPg(first), () => key)), Option.some)
}

/**
 * Log rows read as column values ({@link PgLogSql.LOG_COLUMNS}, in `LogSql.LOG_FIELDS` order):
 * the driver builds no object per row, and each row is decoded with the `LogEntry` schema into
 * the one object returned.
 */
const decodeLogValues = (rows: ReadonlyArray<ReadonlyArray<unknown>>): Effect.Effect<ReadonlyArray<LogEntry>, CorruptRow> =>
  LogSql.decodeAll(rows, (values, key) => LogSql.decodeLogValues(PgLogSql.fromPgValues(values), key), (values) => String(values[0]))

/**
 * A failure of BEGIN or COMMIT (a `SqlError`) as a `DatabaseError`; the transaction's own failures
 * pass through (every repository call inside already reports `DatabaseError`).
 */
const transactionError = <E>(error: E | SqlError): E | DatabaseError =>
  isSqlError(error) ? toDatabaseError("transaction")(error) : (error as E)

const byId = (row: PgRow) => String(row.id)

/** Rows per INSERT statement: 6 parameters a row, well below PostgreSQL's 65,535 per statement. */
const INSERT_CHUNK_ROWS = 5_000

/** Builds the repository over the migrated database in context. */
export const make = Effect.gen(function*() {
  const { pg, sql, currentSchemaVersion, latestSchemaVersion } = yield* PgDatabase
  const inTransaction = Effect.map(Effect.serviceOption(sql.transactionService), Option.isSome)

  /** One statement; its failure is a `DatabaseError` of `operation`. */
  const query = (operation: string, text: string, params: ReadonlyArray<PgParam> = []) =>
    sql.unsafe<PgRow>(text, params).pipe(mapSqlError(operation))

  /** Log rows of one statement, read as values and decoded. */
  const queryLogs = (operation: string, text: string, params: ReadonlyArray<PgParam>) =>
    Effect.flatMap(sql.unsafe(text, params).values.pipe(mapSqlError(operation)), decodeLogValues)

  /** Runs `self` in a transaction (joining the caller's), run again on a conflict when outermost. */
  const transaction = <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E | DatabaseError, R> =>
    Effect.flatMap(inTransaction, (inside) =>
      inside
        ? self
        : sql.withTransaction(self).pipe(Effect.mapError(transactionError), retryConflicts()))

  /**
   * Inserts rows in order and adds their thread rounds to the runs' counts. A batch that fits one
   * statement is one statement (one round trip; atomic without BEGIN/COMMIT): a multi-row INSERT,
   * with the rounds added by a data-modifying CTE of the same statement. A larger batch takes
   * several statements, and the caller runs them in one transaction (`insertMany`).
   */
  const insertRows = (operation: string, rows: ReadonlyArray<NewLogRow>) =>
    Effect.gen(function*() {
      if (rows.length === 0) return []
      const values = rows.map((row): PgLogSql.LogValues => ({
        source: row.source,
        type: row.type,
        ref_id: row.refId,
        payload: row.payload,
        timestamp: row.timestamp,
        thread_round: PgLogSql.threadRoundOf(row)
      }))
      const rounds = new Map<string, number>()
      for (const value of values) {
        if (value.thread_round === true && value.ref_id !== null) rounds.set(value.ref_id, (rounds.get(value.ref_id) ?? 0) + 1)
      }
      // In run id order, so two batches never wait on each other's count rows in a cycle.
      const added = rounds.size === 0 ? null : JSON.stringify(
        [...rounds].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([ref_id, n]) => ({ ref_id, rounds: n }))
      )
      // A statement binds at most 65,535 parameters (6 a row): a large batch goes in several
      // statements, in order, in the caller's transaction; the rounds go with the first.
      const ids: Array<number> = []
      for (let from = 0; from < values.length; from += INSERT_CHUNK_ROWS) {
        const chunk = values.slice(from, from + INSERT_CHUNK_ROWS) as [PgLogSql.LogValues, ...Array<PgLogSql.LogValues>]
        const inserted = yield* PgLogSql.insertLogs(sql, chunk, from === 0 ? added : null).pipe(mapSqlError(operation))
        // Identity values are drawn in VALUES order, so the ids in ascending order are the rows' ids.
        ids.push(...inserted.map((row) => Number(row.id)).sort((a, b) => a - b))
      }
      return rows.map((row, i): LogEntry => ({ id: ids[i]!, ...row }))
    })

  /** A single statement, run again on a conflict unless it belongs to a caller's transaction (which retries). */
  const statement = <A, E, R>(self: Effect.Effect<A, E | DatabaseError, R>): Effect.Effect<A, E | DatabaseError, R> =>
    Effect.flatMap(inTransaction, (inside) => (inside ? self : retryConflicts()(self)))

  /**
   * Statements that may wait for another connection's lock (a run's, an owner name's), by start
   * time: `health().lockWaitMs` is the age of the oldest in progress. Only those are tracked.
   */
  const waits = new Map<symbol, number>()
  const clockNow = Effect.clockWith((clock) => clock.currentTimeMillis)
  const lockWait = (operation: string, text: string, params: ReadonlyArray<PgParam>) =>
    Effect.flatMap(clockNow, (start) => {
      const key = Symbol()
      waits.set(key, start)
      return Effect.ensuring(query(operation, text, params), Effect.sync(() => waits.delete(key)))
    })
  const lockWaitMs = Effect.map(clockNow, (at) => {
    let oldest = at
    for (const start of waits.values()) oldest = Math.min(oldest, start)
    return Math.max(0, at - oldest)
  })

  /** The run and its lease, the run locked (advisory lock on its id, then the row) until commit. */
  const lockRunAndLease = (operation: string, runId: string) =>
    Effect.gen(function*() {
      yield* lockWait(operation, PgLogSql.LOCK_RUN_ID, [runId])
      const run = Option.getOrNull(
        yield* Effect.flatMap(lockWait(operation, PgLogSql.SELECT_RUN_FOR_UPDATE, [runId]), (rows) =>
          decodeFirst(rows, LogSql.decodeRunRow, runId))
      )
      const lease: RunLease | null = Option.getOrNull(
        yield* Effect.flatMap(query(operation, PgLogSql.SELECT_LEASE, [runId]), (rows) =>
          decodeFirst(rows, LogSql.decodeLeaseRow, runId))
      )
      return { run, lease } satisfies StoredRun
    })

  /** Writes an accepted plan in one statement (`writeTransition`), and the row's round if it is one. */
  const writePlan = (operation: string, plan: TransitionPlan) =>
    Effect.gen(function*() {
      const { row, run, lease } = plan
      const round = PgLogSql.threadRoundOf(row)
      const params: Array<PgParam> = [
        row.source, row.type, row.refId, row.payload, row.timestamp, round,
        run.runId, run.workflow, run.status, run.timestamp, run.exitCode,
        plan.from, plan.to, row.timestamp, plan.exitCode
      ]
      if (lease._tag === "Take") params.push(lease.lease.owner, lease.lease.boot, lease.lease.expiresAt)
      const written = yield* query(operation, PgLogSql.writeTransition(lease._tag), params)
      const entry: LogEntry = { id: Number(written[0]?.id), ...row }
      if (round === true && row.refId !== null) {
        yield* query(operation, PgLogSql.ADD_ROUNDS, [JSON.stringify([{ ref_id: row.refId, rounds: 1 }])])
      }
      const transition = transitionRecord(plan, entry.id)
      return { entry, run, transition } satisfies TransitionResult
    })

  /**
   * Commits that added log rows, heard through LISTEN on the trigger's channel (a connection of
   * its own while the stream runs). One element first, and again after each re-LISTEN, so that a
   * follower catches up on what it may have missed; a lost connection is logged and LISTEN tried
   * again every second (meanwhile `follow` polls).
   */
  const commits: Stream.Stream<void> = Stream.unwrap(
    Effect.map(pg.listen(LOG_CHANNEL), (queue) => Stream.concat(Stream.succeed(undefined), Stream.map(Stream.fromQueue(queue), () => undefined)))
  ).pipe(
    Stream.tapError((error) => Effect.logWarning(`LogStore.follow: LISTEN ${LOG_CHANNEL} lost (${error.message}); polling until it is back`)),
    Stream.retry(Schedule.spaced("1 second")),
    Stream.orDie
  )

  const repository: LogRepositoryShape = {
    backend: "postgres",
    transaction,
    inTransaction,
    commits,

    // One statement (atomic on its own) needs no BEGIN/COMMIT around it: two round trips fewer.
    insertMany: (operation, rows) =>
      rows.length <= INSERT_CHUNK_ROWS ? statement(insertRows(operation, rows)) : transaction(insertRows(operation, rows)),

    selectLogs: (operation, logQuery, limit) => {
      const compiled = PgLogSql.compileLogQuery(logQuery, limit)
      return queryLogs(operation, compiled.sql, compiled.params)
    },

    lastLogId: (operation) => Effect.map(query(operation, PgLogSql.SELECT_LAST_LOG_ID), (rows) => Number(rows[0]?.id ?? 0)),

    threadRows: (operation, runId) => queryLogs(operation, PgLogSql.SELECT_THREAD_ROWS, [runId]),

    firstRow: (operation, match) =>
      Effect.flatMap(
        query(operation, PgLogSql.SELECT_FIRST_ROW, [match.refId, match.source, match.type]),
        (rows) => decodeFirst(rows, LogSql.decodeLogRow, String(rows[0]?.id))
      ),

    getRun: (operation, runId) =>
      Effect.flatMap(query(operation, PgLogSql.SELECT_RUN, [runId]), (rows) => decodeFirst(rows, LogSql.decodeRunRow, runId)),

    selectRuns: (operation, filter, cursor, limit) => {
      const compiled = PgLogSql.compileRunsPage(filter, cursor, limit)
      return Effect.map(query(operation, compiled.sql, compiled.params), (found) => LogSql.decodeRunsPage(found.map(PgLogSql.fromPg)))
    },

    orphanCandidates: (operation, statuses) => {
      if (statuses.length === 0) return Effect.succeed({ candidates: [], invalid: [] })
      const compiled = PgLogSql.selectOrphanCandidates(statuses)
      return Effect.map(query(operation, compiled.sql, compiled.params), (found) => LogSql.decodeOrphanCandidates(found.map(PgLogSql.fromPg)))
    },

    transition: <E>(operation: string, runId: string, decide: Decide<E>) =>
      transaction(Effect.gen(function*() {
        const stored = yield* lockRunAndLease(operation, runId)
        // The time is read after the locks, so a transition that waited judges leases afresh.
        const plan = decide(stored, yield* clockNow)
        if (Result.isFailure(plan)) return yield* Effect.fail(plan.failure)
        return yield* writePlan(operation, plan.success)
      })),

    // The thread fence: like `transition`, the run locked from the read to the insert.
    insertChecked: <E>(operation: string, runId: string, decide: (stored: StoredRun, now: number) => Result.Result<NewLogRow, E>) =>
      transaction(Effect.gen(function*() {
        const stored = yield* lockRunAndLease(operation, runId)
        const row = decide(stored, yield* clockNow)
        if (Result.isFailure(row)) return yield* Effect.fail(row.failure)
        const entries = yield* insertRows(operation, [row.success])
        return entries[0]!
      })),

    runHistory: (operation, runId) =>
      Effect.flatMap(query(operation, PgLogSql.SELECT_HISTORY, [runId]), (rows) => decodeRows(rows, LogSql.decodeTransitionRow, byId)),

    getLease: (operation, runId) =>
      Effect.flatMap(query(operation, PgLogSql.SELECT_LEASE, [runId]), (rows) => decodeFirst(rows, LogSql.decodeLeaseRow, runId)),

    renewLeases: (operation, owner, expiresAt) =>
      Effect.map(query(operation, PgLogSql.RENEW_LEASES, [expiresAt, owner.name, owner.boot]), (rows) => rows.length),

    releaseLeases: (operation, owner) => Effect.asVoid(query(operation, PgLogSql.RELEASE_LEASES, [owner.name, owner.boot])),

    pruneKeys: (operation, before) => Effect.asVoid(query(operation, PgLogSql.PRUNE_KEYS, [before])),

    findKey: (operation, key) =>
      Effect.map(query(operation, PgLogSql.SELECT_KEY, [key]), (rows) => {
        const row = rows[0]
        return row === undefined
          ? Option.none()
          : Option.some({ operation: String(row.operation), request: String(row.request), result: row.result })
      }),

    storeKey: (operation, record) =>
      Effect.asVoid(query(operation, PgLogSql.INSERT_KEY, [record.key, record.operation, record.request, record.result, record.createdAt])),

    roundCount: (operation, runId) => Effect.map(query(operation, PgLogSql.SELECT_ROUND_COUNT, [runId]), (rows) => Number(rows[0]?.n ?? 0)),

    roundPage: (operation, runId, page, rows) =>
      Effect.flatMap(
        query(operation, PgLogSql.SELECT_ROUND_PAGE, [runId, rows, page.before, page.belowId]),
        (found) => decodeRows(found, LogSql.decodeRoundRow, byId)
      ),

    getMeta: (operation, key) =>
      Effect.map(query(operation, PgLogSql.SELECT_META, [key]), (rows) =>
        rows[0] === undefined ? Option.none() : Option.some(String(rows[0].value))),

    setMeta: (operation, key, value) => Effect.asVoid(query(operation, PgLogSql.UPSERT_META, [key, value])),

    // Lease control, claims, owner boots, follow's page, counts, health (issue 16).
    ...LeaseRepositoryPg.make({ query, transaction, currentSchemaVersion, latestSchemaVersion, lockWaitMs })
  }
  return LogRepository.of(repository)
})

/** The repository over the migrated database in context. */
export const layer: Layer.Layer<LogRepository, never, PgDatabase> = Layer.effect(LogRepository, make)
