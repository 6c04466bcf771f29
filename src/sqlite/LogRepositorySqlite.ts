/**
 * The LogStore's storage seam on SQLite: {@link LogRepositoryShape} over the migrated connection.
 * A transition is one synchronous `BEGIN IMMEDIATE … COMMIT` step (read the run and its lease in
 * one statement, decide, write), appends insert their round counts in the same step, and log
 * queries read rows as arrays behind a column guard (docs/PERFORMANCE.md).
 *
 * @since 0.8.0
 */
import { Effect, Layer, Option, Result } from "effect"
import type { CorruptRow } from "../../schema/Errors.ts"
import type { LogEntry } from "../../schema/LogEntry.ts"
import type { RunLease, WorkflowRun } from "../../schema/WorkflowRun.ts"
import * as ThreadLog from "../domain/ThreadLog.ts"
import { type NewLogRow, type StoredRun, type TransitionPlan, transitionRecord } from "../domain/TransitionPlan.ts"
import type { TransitionResult } from "../LogStore.ts"
import * as ThreadRoundCounts from "./ThreadRoundCounts.ts"
import * as ThreadRoundsSql from "./ThreadRoundsSql.ts"
import { type Decide, LogRepository, type LogRepositoryShape } from "../seam/LogRepository.ts"
import { Database } from "./Database.ts"
import * as LeaseRepositorySqlite from "./LeaseRepositorySqlite.ts"
import * as LogSql from "./LogSql.ts"
import * as LogRepositoryOpsSqlite from "./LogRepositoryOpsSqlite.ts"
import type { SqlRow, SyncConnection } from "./Sqlite.ts"

const insertLog = (connection: SyncConnection, row: NewLogRow): LogEntry => ({
  id: connection.run(LogSql.INSERT_LOG, [row.source, row.type, row.refId, row.payload, row.timestamp]).lastInsertRowid,
  ...row
})

/** Inserts rows with consecutive ids and adds their rounds (one statement per batch holding a thread row). */
const insertRows = (connection: SyncConnection, rows: ReadonlyArray<NewLogRow>): ReadonlyArray<LogEntry> => {
  const entries = rows.map((row) => insertLog(connection, row))
  ThreadRoundCounts.countInserted(connection, entries)
  return entries
}

/** The run and its lease, read in one statement. */
const readRunAndLease = (connection: SyncConnection, runId: string): Result.Result<StoredRun, CorruptRow> => {
  const stored = connection.get(LogSql.RUN_AND_LEASE, [runId])
  let run: WorkflowRun | null = null
  if (stored !== undefined && stored.runId !== null) {
    const decoded = LogSql.decodeRunRow(
      { runId: stored.runId, workflow: stored.workflow, status: stored.status, timestamp: stored.timestamp, exitCode: stored.exitCode },
      () => runId
    )
    if (Result.isFailure(decoded)) return Result.fail(decoded.failure)
    run = decoded.success
  }
  let lease: RunLease | null = null
  if (stored !== undefined && stored.owner !== null) {
    const decoded = LogSql.decodeLeaseRow({ runId, owner: stored.owner, boot: stored.boot, expiresAt: stored.expiresAt }, () => runId)
    if (Result.isFailure(decoded)) return Result.fail(decoded.failure)
    lease = decoded.success
  }
  return Result.succeed({ run, lease })
}

/** Writes an accepted plan: the row (and its round), the run, the history record, the lease. */
const writePlan = (connection: SyncConnection, plan: TransitionPlan): TransitionResult => {
  const entry = insertLog(connection, plan.row)
  ThreadRoundCounts.countInsertedRow(connection, entry)
  const { run } = plan
  connection.run(LogSql.UPSERT_RUN, [run.runId, run.workflow, run.status, run.timestamp, run.exitCode])
  const transition = transitionRecord(plan, entry.id)
  connection.run(LogSql.INSERT_TRANSITION, [run.runId, plan.from, plan.to, plan.row.timestamp, plan.exitCode, entry.id])
  const lease = plan.lease
  if (lease._tag === "Take") {
    connection.run(LogSql.UPSERT_LEASE, [lease.lease.runId, lease.lease.owner, lease.lease.boot, lease.lease.expiresAt])
  } else if (lease._tag === "Release") connection.run(LogSql.DELETE_LEASE, [run.runId])
  return { entry, run, transition }
}

const decodeOne = <A>(
  row: SqlRow | undefined,
  decode: (row: SqlRow, key: () => string) => Result.Result<A, CorruptRow>,
  key: string
): Effect.Effect<Option.Option<A>, CorruptRow> =>
  row === undefined ? Effect.succeedNone : Effect.map(Effect.fromResult(decode(row, () => key)), Option.some)

/** Builds the repository over the migrated database in context. */
export const make = Effect.gen(function*() {
  const { sql, schemaVersion } = yield* Database
  // A file older than the stored counts is only ever opened read-only (never migrated): count its index.
  const rounds = ThreadRoundsSql.queries(schemaVersion >= ThreadRoundsSql.STORED_COUNTS_SINCE_VERSION ? "stored" : "index")

  const repository: LogRepositoryShape = {
    backend: "sqlite",
    transaction: sql.transaction,
    inTransaction: sql.inTransaction,

    // A single INSERT is atomic on its own; autocommit spares the BEGIN/COMMIT round trip. A thread
    // row is two statements (the row and its run's round count), so it takes a transaction.
    insertMany: (operation, rows) =>
      rows.length === 1 && !ThreadRoundCounts.isThreadRow(rows[0]!)
        ? sql.sync(operation, (connection) => insertRows(connection, rows))
        : sql.syncTransaction(operation, (connection) => insertRows(connection, rows)),

    selectLogs: (operation, query, limit) => {
      const compiled = LogSql.compileLogQuery(query, limit)
      return Effect.flatMap(
        sql.sync(operation, (connection) => connection.values(compiled.sql, compiled.params)),
        (rows) => LogSql.decodeAll(rows, LogSql.decodeLogValues, LogSql.byFirstValue)
      )
    },

    lastLogId: (operation) =>
      Effect.map(sql.sync(operation, (connection) => connection.get(LogSql.SELECT_LAST_LOG_ID)), (row) => Number(row?.id ?? 0)),

    threadRows: (operation, runId) =>
      Effect.flatMap(
        sql.sync(operation, (connection) =>
          connection.all(LogSql.SELECT_THREAD_ROWS, [runId, ThreadLog.WORKFLOW_SOURCE, ThreadLog.THREAD_MESSAGE_TYPE, ThreadLog.THREAD_EVENT_TYPE])),
        (rows) => LogSql.decodeAll(rows, LogSql.decodeLogRow, LogSql.byId)
      ),

    firstRow: (operation, match) =>
      Effect.flatMap(
        sql.sync(operation, (connection) => connection.get(LogSql.SELECT_FIRST_ROW, [match.refId, match.source, match.type])),
        (row) => decodeOne(row, LogSql.decodeLogRow, String(row?.id))
      ),

    getRun: (operation, runId) =>
      Effect.flatMap(sql.sync(operation, (connection) => connection.get(LogSql.SELECT_RUN, [runId])), (row) =>
        decodeOne(row, LogSql.decodeRunRow, runId)),

    selectRuns: (operation, filter, cursor, limit) => {
      const compiled = LogSql.compileRunsPage(filter, cursor, limit)
      return Effect.map(sql.sync(operation, (connection) => connection.all(compiled.sql, compiled.params)), LogSql.decodeRunsPage)
    },

    orphanCandidates: (operation, statuses) =>
      Effect.map(sql.sync(operation, (connection) => connection.all(LogSql.SELECT_ORPHAN_CANDIDATES, [JSON.stringify(statuses)])), LogSql.decodeOrphanCandidates),

    transition: <E>(operation: string, runId: string, decide: Decide<E>) =>
      Effect.clockWith((clock) =>
        Effect.flatMap(
          sql.syncTransaction(operation, (connection): Result.Result<TransitionResult, E | CorruptRow> => {
            // The time is read in the step, so a step repeated after a lock wait judges leases afresh.
            const now = clock.currentTimeMillisUnsafe()
            const stored = readRunAndLease(connection, runId)
            if (Result.isFailure(stored)) return Result.fail(stored.failure)
            const plan = decide(stored.success, now)
            return Result.isFailure(plan) ? Result.fail(plan.failure) : Result.succeed(writePlan(connection, plan.success))
          }),
          (result) => Result.isFailure(result) ? Effect.fail(result.failure) : Effect.succeed(result.success)
        )
      ),

    runHistory: (operation, runId) =>
      Effect.flatMap(
        sql.sync(operation, (connection) => connection.all(LogSql.SELECT_HISTORY, [runId])),
        (rows) => LogSql.decodeAll(rows, LogSql.decodeTransitionRow, LogSql.byId)
      ),

    getLease: (operation, runId) =>
      Effect.flatMap(sql.sync(operation, (connection) => connection.get(LogSql.SELECT_LEASE, [runId])), (row) =>
        decodeOne(row, LogSql.decodeLeaseRow, runId)),

    renewLeases: (operation, owner, expiresAt) =>
      sql.sync(operation, (connection) => connection.run(LogSql.RENEW_LEASES, [expiresAt, owner.name, owner.boot]).changes),

    releaseLeases: (operation, owner) =>
      sql.sync(operation, (connection) => {
        connection.run(LogSql.RELEASE_LEASES, [owner.name, owner.boot])
      }),

    pruneKeys: (operation, before) =>
      sql.sync(operation, (connection) => {
        connection.run(LogSql.PRUNE_KEYS, [before])
      }),

    findKey: (operation, key) =>
      Effect.map(sql.sync(operation, (connection) => connection.get(LogSql.SELECT_KEY, [key])), (row) =>
        row === undefined
          ? Option.none()
          : Option.some({ operation: String(row.operation), request: String(row.request), result: row.result })),

    storeKey: (operation, record) =>
      sql.sync(operation, (connection) => {
        connection.run(LogSql.INSERT_KEY, [record.key, record.operation, record.request, record.result, record.createdAt])
      }),

    roundCount: (operation, runId) =>
      Effect.map(sql.sync(operation, (connection) => connection.get(rounds.count, [runId])), (row) => Number(row?.n ?? 0)),

    roundPage: (operation, runId, page, rows) => {
      const query = ThreadRoundsSql.pageQuery(rounds, runId, page, rows)
      return Effect.flatMap(
        sql.sync(operation, (connection) => connection.all(query.sql, query.params)),
        (found) => LogSql.decodeAll(found, LogSql.decodeRoundRow, LogSql.byId)
      )
    },

    getMeta: (operation, key) =>
      Effect.map(sql.sync(operation, (connection) => connection.get(LogSql.SELECT_META, [key])), (row) =>
        row === undefined ? Option.none() : Option.some(String(row.value))),

    setMeta: (operation, key, value) =>
      sql.sync(operation, (connection) => {
        connection.run(LogSql.UPSERT_META, [key, value])
      }),

    // Like `transition`: read, decide and insert in one synchronous BEGIN IMMEDIATE step.
    insertChecked: <E>(operation: string, runId: string, decide: (stored: StoredRun, now: number) => Result.Result<NewLogRow, E>) =>
      Effect.clockWith((clock) =>
        Effect.flatMap(
          sql.syncTransaction(operation, (connection): Result.Result<LogEntry, E | CorruptRow> => {
            const stored = readRunAndLease(connection, runId)
            if (Result.isFailure(stored)) return Result.fail(stored.failure)
            const row = decide(stored.success, clock.currentTimeMillisUnsafe())
            if (Result.isFailure(row)) return Result.fail(row.failure)
            const entry = insertLog(connection, row.success)
            ThreadRoundCounts.countInsertedRow(connection, entry)
            return Result.succeed(entry)
          }),
          (result) => Result.isFailure(result) ? Effect.fail(result.failure) : Effect.succeed(result.success)
        )
      ),

    ...LogRepositoryOpsSqlite.make(sql, schemaVersion),

    // Lease control, claims and owner boots (issue 16).
    ...LeaseRepositorySqlite.make(sql)
  }
  return LogRepository.of(repository)
})

/** The repository over the migrated database in context. */
export const layer: Layer.Layer<LogRepository, never, Database> = Layer.effect(LogRepository, make)
