/**
 * LogStore on the SQLite connection: the same code serves a file and `:memory:`.
 *
 * @since 0.6.0
 */
import { Clock, Deferred, Duration, Effect, Exit, Layer, Option, Result, Schema, Stream } from "effect"
import {
  CorruptRow,
  IllegalTransition,
  InvalidInput,
  RunLeased,
  RunMismatch,
  RunNotFound
} from "../../schema/Errors.ts"
import { AppendInput, DEFAULT_QUERY_LIMIT, FollowQuery, LogEntry, LogQuery, LogStreamQuery } from "../../schema/LogEntry.ts"
import { NonEmptyText } from "../../schema/Primitives.ts"
import { GetThreadRoundsParams, ThreadMessageInput, type ThreadRoundRow } from "../../schema/Thread.ts"
import {
  DEFAULT_RUNS_LIMIT,
  RecoverOrphansOptions,
  RunLease,
  RunsQuery,
  RunsStreamQuery,
  RunTransition,
  RunTransitionInput,
  WorkflowRun,
  type WorkflowRunStatus,
  WriteOptions
} from "../../schema/WorkflowRun.ts"
import * as GroupCommit from "../sqlite/GroupCommit.ts"
import * as Idempotency from "./Idempotency.ts"
import { defaultLeaseConfig, durationMillis, type LeaseConfig, leaseConfig } from "./LeaseConfig.ts"
import * as LeaseKeeper from "./LeaseKeeper.ts"
import { compileRunsFilter, NEWEST_FIRST, type RunFilter, type RunKey } from "./RunListing.ts"
import { LogStore, type LogStoreOptions, type LogStoreShape, type TransitionResult } from "../LogStore.ts"
import * as Lease from "../domain/Lease.ts"
import { withoutCallSite } from "../domain/Operation.ts"
import { classifyTransition, conflictOf, nextExitCode } from "../domain/RunStateMachine.ts"
import { Database } from "../sqlite/Database.ts"
import type { SqlParam, SqlRow, SyncConnection } from "../sqlite/Sqlite.ts"
import * as ThreadLog from "../domain/ThreadLog.ts"
import { columnsDecoder, inputDecoder, rowDecoder } from "../domain/Validate.ts"
import * as ThreadRoundCounts from "./ThreadRoundCounts.ts"
import * as ThreadRoundsSql from "./ThreadRoundsSql.ts"

const LOG_COLUMNS = "id, source, type, ref_id AS refId, payload, timestamp"
/** The `LogEntry` property of each column of {@link LOG_COLUMNS}, in order (rows read as arrays). */
const LOG_FIELDS = ["id", "source", "type", "refId", "payload", "timestamp"]
const RUN_COLUMNS = "run_id AS runId, workflow, status, timestamp, exit_code AS exitCode"
const TRANSITION_COLUMNS =
  `run_id AS runId, from_status AS "from", to_status AS "to", timestamp, exit_code AS exitCode, log_id AS logId`
const INSERT_LOG = "INSERT INTO logs (source, type, ref_id, payload, timestamp) VALUES (?, ?, ?, ?, ?)"
const UPSERT_RUN = `INSERT INTO workflow_runs (run_id, workflow, status, timestamp, exit_code) VALUES (?, ?, ?, ?, ?)
  ON CONFLICT(run_id) DO UPDATE SET status = excluded.status, timestamp = excluded.timestamp, exit_code = excluded.exit_code`
const INSERT_TRANSITION =
  "INSERT INTO run_transitions (run_id, from_status, to_status, timestamp, exit_code, log_id) VALUES (?, ?, ?, ?, ?, ?)"
const LEASE_COLUMNS = "run_id AS runId, owner, boot, expires_at AS expiresAt"
/** The run and its lease in one row (NULLs for what is not stored). One parameter, the run id. */
const RUN_AND_LEASE = `SELECT r.workflow, r.status, r.timestamp, r.exit_code AS exitCode, r.run_id AS runId,
    l.owner, l.boot, l.expires_at AS expiresAt
  FROM (SELECT ?1 AS id) k LEFT JOIN workflow_runs r ON r.run_id = k.id LEFT JOIN run_leases l ON l.run_id = k.id`
const UPSERT_LEASE = `INSERT INTO run_leases (run_id, owner, boot, expires_at) VALUES (?, ?, ?, ?)
  ON CONFLICT(run_id) DO UPDATE SET owner = excluded.owner, boot = excluded.boot, expires_at = excluded.expires_at`
const STREAM_PAGE_SIZE = 1_000

/** How often `follow` looks for other processes' rows, by default. */
export const DEFAULT_FOLLOW_POLL_INTERVAL: Duration.Duration = Duration.seconds(1)

/** A validated row about to be inserted. */
type NewLogRow = Omit<LogEntry, "id">

const decodeAppend = inputDecoder(AppendInput, "entry")
const decodeAppendMany = inputDecoder(Schema.Array(AppendInput), "entries")
const decodeQuery = inputDecoder(LogQuery, "query")
const decodeStreamQuery = inputDecoder(LogStreamQuery, "query")
const decodeOrphansOptions = inputDecoder(RecoverOrphansOptions, "options")
const decodeRunInput = inputDecoder(RunTransitionInput, "run")
const decodeRunsQuery = inputDecoder(RunsQuery, "query")
const decodeRunsStreamQuery = inputDecoder(RunsStreamQuery, "query")
const decodeWriteOptions = inputDecoder(WriteOptions, "options")
const decodeFollowQuery = inputDecoder(FollowQuery, "query")
const decodeRunId = inputDecoder(NonEmptyText, "runId")
const decodeThreadMessage = inputDecoder(ThreadMessageInput, "message")
const decodeLeaseRow = rowDecoder(RunLease, "run_leases")
const TransitionResultSchema = Schema.Struct({ entry: LogEntry, run: WorkflowRun, transition: RunTransition })
const decodeStoredEntry = rowDecoder(Schema.fromJsonString(LogEntry), "idempotency_keys")
const decodeStoredTransition = rowDecoder(Schema.fromJsonString(TransitionResultSchema), "idempotency_keys")
const decodeRoundsParams = inputDecoder(GetThreadRoundsParams, "params")
const decodeMetaKey = inputDecoder(NonEmptyText, "key")
const decodeLogRow = rowDecoder(LogEntry, "logs")
const decodeLogValues = columnsDecoder(LogEntry, "logs", LOG_FIELDS)
const decodeRunRow = rowDecoder(WorkflowRun, "workflow_runs")
const decodeTransitionRow = rowDecoder(RunTransition, "run_transitions")
const decodeRoundRow = rowDecoder(ThreadRoundsSql.RoundLogRow, "logs")

const decodeAll = <R, A>(
  rows: ReadonlyArray<R>,
  decode: (row: R, key: () => string) => Result.Result<A, CorruptRow>,
  key: (row: R) => string
): Effect.Effect<ReadonlyArray<A>, CorruptRow> => {
  const decoded: Array<A> = []
  for (const row of rows) {
    const result = decode(row, () => key(row))
    if (Result.isFailure(result)) return Effect.fail(result.failure)
    decoded.push(result.success)
  }
  return Effect.succeed(decoded)
}

const byId = (row: SqlRow) => String(row.id)
const byFirstValue = (values: ReadonlyArray<unknown>) => String(values[0])
const byRunId = (row: SqlRow) => String(row.runId)

/** Decodes run rows, leaving out (and logging) legacy rows that do not decode. */
const decodeRunListing = (rows: ReadonlyArray<SqlRow>): Effect.Effect<ReadonlyArray<WorkflowRun>> =>
  Effect.gen(function*() {
    const runs: Array<WorkflowRun> = []
    for (const row of rows) {
      const result = decodeRunRow(row, () => byRunId(row))
      if (Result.isSuccess(result)) runs.push(result.success)
      else yield* Effect.logWarning(result.failure.message)
    }
    return runs
  })

const insertLog = (connection: SyncConnection, row: NewLogRow): LogEntry => ({
  id: connection.run(INSERT_LOG, [row.source, row.type, row.refId, row.payload, row.timestamp]).lastInsertRowid,
  ...row
})

// A thread row's round is counted by a second statement, so callers hold a transaction whenever a
// row may be one (every path but the lone non-thread append of `commitAppends`).
const insertRow = (connection: SyncConnection, row: NewLogRow): LogEntry => {
  const entry = insertLog(connection, row)
  ThreadRoundCounts.countInsertedRow(connection, entry)
  return entry
}

const insertRows = (connection: SyncConnection, rows: ReadonlyArray<NewLogRow>): ReadonlyArray<LogEntry> => {
  const entries = rows.map((row) => insertLog(connection, row))
  ThreadRoundCounts.countInserted(connection, entries)
  return entries
}

const toNewRow = (input: AppendInput, now: number): NewLogRow => ({
  source: input.source,
  type: input.type,
  refId: input.refId ?? null,
  payload: input.payload ?? null,
  timestamp: input.timestamp ?? now
})

/** The SQL of a log query: filters, cursor, order and limit. */
const compileQuery = (query: LogQuery, limit: number): { readonly sql: string; readonly params: Array<SqlParam> } => {
  const where: Array<string> = []
  const params: Array<SqlParam> = []
  const filter = (clause: string, value: SqlParam | undefined) => {
    if (value === undefined) return
    where.push(clause)
    params.push(value)
  }
  const descending = query.order === "desc"
  filter("source = ?", query.source)
  filter("type = ?", query.type)
  filter("ref_id = ?", query.refId)
  filter("timestamp >= ?", query.since)
  filter("timestamp <= ?", query.until)
  filter(descending ? "id < ?" : "id > ?", query.afterId === 0 ? undefined : query.afterId)
  params.push(limit)
  return {
    sql: `SELECT ${LOG_COLUMNS} FROM logs${where.length === 0 ? "" : ` WHERE ${where.join(" AND ")}`} ORDER BY id ${
      descending ? "DESC" : "ASC"
    } LIMIT ?`,
    params
  }
}

const checkRange = <Q extends LogQuery | LogStreamQuery>(query: Q): Effect.Effect<Q, InvalidInput> =>
  query.since !== undefined && query.until !== undefined && query.since > query.until
    ? Effect.fail(new InvalidInput({ field: "query.since", reason: `must not be after query.until (${query.until})` }))
    : Effect.succeed(query)

/** Builds the LogStore over the migrated database in context, with the default lease settings. */
export const make = Effect.suspend(() => Effect.flatMap(defaultLeaseConfig, makeWith))

/** Builds the LogStore over the migrated database in context, as owner `config.owner`. */
export const makeWith = Effect.fnUntraced(function*(config: LeaseConfig) {
  const { sql, schemaVersion } = yield* Database
  const me = config.owner
  // A file older than the stored counts is only ever opened read-only (never migrated): count its index.
  const rounds = ThreadRoundsSql.queries(schemaVersion >= ThreadRoundsSql.STORED_COUNTS_SINCE_VERSION ? "stored" : "index")
  const leases = yield* LeaseKeeper.make(sql, config)
  const once = Idempotency.make(sql)

  // Followers of this stack wait on this signal; every commit of ours completes it. Only a
  // process-local shortcut: other processes' rows are found by polling.
  let signal: Deferred.Deferred<void> | undefined
  const nextSignal = (): Deferred.Deferred<void> => (signal ??= Deferred.makeUnsafe<void>())
  const wake = () => {
    if (signal === undefined) return
    Deferred.doneUnsafe(signal, Exit.void)
    signal = undefined
  }
  const wakeFollowers = Effect.sync(wake)
  /** The written value, after waking this stack's followers. */
  const woken = <A>(written: A): A => {
    wake()
    return written
  }
  // A single INSERT is atomic on its own; autocommit spares the BEGIN/COMMIT round trip. A thread
  // row is two statements (the row and its run's round count), so it takes a transaction.
  const commitAppends = GroupCommit.make((rows: ReadonlyArray<NewLogRow>) =>
    Effect.map(
      rows.length === 1 && !rows.some(ThreadRoundCounts.isThreadRow)
        ? sql.sync("LogStore.append", (connection) => insertRows(connection, rows))
        : sql.syncTransaction("LogStore.append", (connection) => insertRows(connection, rows)),
      woken
    )
  )

  const selectLogs = (operation: string, query: LogQuery, limit: number) => {
    const compiled = compileQuery(query, limit)
    return Effect.flatMap(
      sql.sync(operation, (connection) => connection.values(compiled.sql, compiled.params)),
      (rows) => decodeAll(rows, decodeLogValues, byFirstValue)
    )
  }

  const threadRows = (runId: string) =>
    Effect.flatMap(
      sql.all(
        `SELECT ${LOG_COLUMNS} FROM logs WHERE ref_id = ? AND source = ? AND type IN (?, ?) ORDER BY id`,
        [runId, ThreadLog.WORKFLOW_SOURCE, ThreadLog.THREAD_MESSAGE_TYPE, ThreadLog.THREAD_EVENT_TYPE]
      ),
      (rows) => decodeAll(rows, decodeLogRow, byId)
    )

  const findRun = (runId: string, operation = "LogStore.getRun") =>
    Effect.flatMap(sql.sync(operation, (connection) => connection.get(`SELECT ${RUN_COLUMNS} FROM workflow_runs WHERE run_id = ?`, [runId])), (row) =>
      row === undefined ? Effect.succeedNone : Effect.map(Effect.fromResult(decodeRunRow(row, () => runId)), Option.some))

  const findLease = (runId: string) =>
    Effect.flatMap(sql.sync("LogStore.getLease", (connection) => connection.get(`SELECT ${LEASE_COLUMNS} FROM run_leases WHERE run_id = ?`, [runId])), (row) =>
      row === undefined ? Effect.succeedNone : Effect.map(Effect.fromResult(decodeLeaseRow(row, () => runId)), Option.some))

  /**
   * On the connection, inside a transaction: one move of a run, checked against the state machine
   * and the stored run, then recorded in logs, workflow_runs and run_transitions, with the run's
   * lease taken (`queued`, `started`) or released (any other status; `leased` says whether a lease
   * row exists). Synchronous, so the whole move is one step: nothing is written unless it is legal.
   */
  const writeTransition = (
    connection: SyncConnection,
    current: WorkflowRun | null,
    request: { readonly runId: string; readonly workflow: string; readonly status: WorkflowRunStatus; readonly exitCode?: number | null | undefined },
    row: NewLogRow,
    now: number,
    leased: boolean
  ): Result.Result<TransitionResult, IllegalTransition | RunMismatch> => {
    const kind = classifyTransition(current?.status ?? null, request.status)
    if (kind === "illegal") {
      return Result.fail(new IllegalTransition({ runId: request.runId, from: current?.status ?? null, to: request.status }))
    }
    const conflict = conflictOf(current, request)
    if (conflict !== null) return Result.fail(new RunMismatch({ runId: request.runId, ...conflict }))
    const exitCode = nextExitCode(kind, current, request.exitCode)
    const entry = insertRow(connection, row)
    const run: WorkflowRun = {
      runId: request.runId,
      workflow: current?.workflow ?? request.workflow,
      status: request.status,
      timestamp: row.timestamp,
      exitCode
    }
    connection.run(UPSERT_RUN, [run.runId, run.workflow, run.status, run.timestamp, run.exitCode])
    const transition: RunTransition = {
      runId: run.runId,
      from: current?.status ?? null,
      to: run.status,
      timestamp: row.timestamp,
      exitCode,
      logId: entry.id
    }
    connection.run(INSERT_TRANSITION, [run.runId, transition.from, run.status, row.timestamp, exitCode, entry.id])
    if (Lease.holdsLease(run.status)) connection.run(UPSERT_LEASE, [run.runId, me.name, me.boot, Lease.expiryAt(now, config.ttlMs)])
    else if (leased) connection.run("DELETE FROM run_leases WHERE run_id = ?", [run.runId])
    return Result.succeed({ entry, run, transition })
  }

  /**
   * On the connection, inside a transaction: a `transition` request read against the stored run
   * and its lease (one statement), checked and written.
   */
  const transitionOn = (
    connection: SyncConnection,
    request: RunTransitionInput,
    row: NewLogRow,
    now: number
  ): Result.Result<TransitionResult, IllegalTransition | RunMismatch | RunLeased | CorruptRow> => {
    const stored = connection.get(RUN_AND_LEASE, [request.runId])
    let current: WorkflowRun | null = null
    if (stored !== undefined && stored.runId !== null) {
      const decoded = decodeRunRow(
        { runId: stored.runId, workflow: stored.workflow, status: stored.status, timestamp: stored.timestamp, exitCode: stored.exitCode },
        () => request.runId
      )
      if (Result.isFailure(decoded)) return Result.fail(decoded.failure)
      current = decoded.success
    }
    let lease: RunLease | null = null
    if (stored !== undefined && stored.owner !== null) {
      const decoded = decodeLeaseRow(
        { runId: request.runId, owner: stored.owner, boot: stored.boot, expiresAt: stored.expiresAt },
        () => request.runId
      )
      if (Result.isFailure(decoded)) return Result.fail(decoded.failure)
      lease = decoded.success
    }
    if (lease !== null && !Lease.mayTransition(Lease.standing(lease, me, now))) {
      return Result.fail(new RunLeased({ runId: request.runId, owner: lease.owner, boot: lease.boot, expiresAt: lease.expiresAt }))
    }
    return writeTransition(connection, current, request, row, now, lease !== null)
  }

  /**
   * A `transition` request as one synchronous step, in its own transaction unless the fiber holds
   * one. The time is read in the step, so a step repeated after a lock wait judges leases afresh.
   */
  const checkedTransition = (request: RunTransitionInput, entry: AppendInput) =>
    Effect.clockWith((clock) =>
      Effect.flatMap(
        sql.syncTransaction("LogStore.transition", (connection) => {
          const now = clock.currentTimeMillisUnsafe()
          const row = toNewRow({ ...entry, refId: entry.refId === undefined ? request.runId : entry.refId }, now)
          return transitionOn(connection, request, row, now)
        }),
        (result) => {
          if (Result.isFailure(result)) return Effect.fail(result.failure)
          if (Lease.holdsLease(result.success.run.status)) leases.taken()
          return Effect.succeed(result.success)
        }
      ))

  /** `append` with an idempotency key (kept apart from the group-committed hot path). */
  const appendOnce = Effect.fnUntraced(function*(input: unknown, key: string) {
    const entry = yield* decodeAppend(input)
    const now = yield* Clock.currentTimeMillis
    const written = yield* once(
      key,
      "LogStore.append",
      { entry },
      decodeStoredEntry,
      sql.sync("LogStore.append", (connection) => insertRow(connection, toNewRow(entry, now)))
    )
    yield* wakeFollowers
    return written
  })

  /** One page of a listing, as stored rows (the cursor of the next page is the last one's key). */
  const selectRunRows = (operation: string, query: RunFilter, cursor: RunKey | undefined, limit: number) => {
    const filter = compileRunsFilter(query, cursor)
    return sql.sync(operation, (connection) =>
      connection.all(`SELECT ${RUN_COLUMNS} FROM workflow_runs${filter.where} ${NEWEST_FIRST} LIMIT ?`, [...filter.params, limit]))
  }

  const selectRuns = (operation: string, query: RunFilter, cursor: RunKey | undefined, limit: number) =>
    Effect.flatMap(selectRunRows(operation, query, cursor, limit), decodeRunListing)

  const recoverOrphans = Effect.fn("LogStore.recoverOrphans")(function*(input?: RecoverOrphansOptions) {
    const options = yield* decodeOrphansOptions(input ?? {})
    const source = options.source ?? ThreadLog.WORKFLOW_SOURCE
    const timestamp = options.timestamp ?? (yield* Clock.currentTimeMillis)
    const statuses = options.includeQueued === true ? "'started', 'queued'" : "'started'"
    const recovered = yield* sql.transaction(Effect.gen(function*() {
      const now = yield* Clock.currentTimeMillis
      const candidates = yield* sql.sync("LogStore.recoverOrphans", (connection) =>
        connection.all(
          `SELECT r.run_id AS runId, r.workflow, r.status, r.timestamp, r.exit_code AS exitCode, l.owner AS leaseOwner, l.boot AS leaseBoot, l.expires_at AS leaseExpiresAt
           FROM workflow_runs r LEFT JOIN run_leases l ON l.run_id = r.run_id
           WHERE r.status IN (${statuses}) ORDER BY r.timestamp, r.rowid`
        ))
      const runs: Array<WorkflowRun> = []
      for (const candidate of candidates) {
        const lease = candidate.leaseOwner === null
          ? null
          : { owner: String(candidate.leaseOwner), boot: String(candidate.leaseBoot), expiresAt: Number(candidate.leaseExpiresAt) }
        if (!Lease.isOrphan(Lease.standing(lease, me, now))) continue
        const decoded = decodeRunRow(candidate, () => byRunId(candidate))
        if (Result.isFailure(decoded)) {
          yield* Effect.logWarning(decoded.failure.message)
          continue
        }
        const orphan = decoded.success
        const to = Lease.recoveredStatus(orphan.status)
        if (to === null) continue
        const row: NewLogRow = {
          source,
          type: to,
          refId: orphan.runId,
          payload: JSON.stringify({
            reason: lease === null
              ? "orphaned: no live owner held the run"
              : `orphaned: the lease of ${lease.owner} (boot ${lease.boot}) ${lease.owner === me.name ? "belongs to an earlier boot" : "expired"}`
          }),
          timestamp
        }
        const moved = yield* sql.sync("LogStore.recoverOrphans", (connection) =>
          writeTransition(connection, orphan, { ...orphan, status: to }, row, now, lease !== null))
        runs.push((yield* Effect.fromResult(moved)).run)
      }
      return runs
    })).pipe(Effect.catchTag(["IllegalTransition", "RunMismatch"], Effect.die)) // started → crashed, queued → interrupted are legal
    yield* Effect.annotateCurrentSpan({ "nerve.runs.recovered": recovered.length, "nerve.owner": me.name })
    if (recovered.length > 0) yield* wakeFollowers
    return recovered
  })

  const store: LogStoreShape = LogStore.of({
    owner: me,

    transaction: (self) => sql.transaction(self).pipe(Effect.tap(wakeFollowers), Effect.withSpan("LogStore.transaction")),

    append: withoutCallSite(Effect.fn("LogStore.append")(function*(input, options) {
      if (options !== undefined) {
        const { idempotencyKey } = yield* decodeWriteOptions(options)
        if (idempotencyKey !== undefined) return yield* appendOnce(input, idempotencyKey)
      }
      const entry = yield* decodeAppend(input)
      const row = toNewRow(entry, entry.timestamp ?? (yield* Clock.currentTimeMillis))
      // Inside the caller's transaction the row belongs to it: sharing a group commit would let
      // other fibers' rows roll back with it (or wait on a permit this fiber holds).
      if (yield* sql.inTransaction) return yield* sql.sync("LogStore.append", (connection) => insertRow(connection, row))
      return yield* commitAppends(row)
    })),

    appendMany: withoutCallSite(Effect.fn("LogStore.appendMany")(function*(inputs) {
      const entries = yield* decodeAppendMany(inputs)
      if (entries.length === 0) return []
      const now = yield* Clock.currentTimeMillis
      const rows = entries.map((entry) => toNewRow(entry, now))
      return yield* Effect.map(sql.syncTransaction("LogStore.appendMany", (connection) => insertRows(connection, rows)), woken)
    })),

    query: withoutCallSite(Effect.fn("LogStore.query")(function*(input) {
      const query = yield* Effect.flatMap(decodeQuery(input ?? {}), checkRange)
      return yield* selectLogs("LogStore.query", query, query.limit ?? DEFAULT_QUERY_LIMIT)
    })),

    stream: (input) =>
      Stream.unwrap(Effect.map(Effect.flatMap(decodeStreamQuery(input ?? {}), checkRange), (query) =>
        Stream.paginate(
          { afterId: query.afterId ?? 0, remaining: query.limit ?? Number.POSITIVE_INFINITY },
          (cursor) =>
            Effect.map(
              selectLogs("LogStore.stream", { ...query, afterId: cursor.afterId }, Math.min(STREAM_PAGE_SIZE, cursor.remaining)),
              (rows) => {
                const last = rows[rows.length - 1]
                const remaining = cursor.remaining - rows.length
                const more = last !== undefined && rows.length === Math.min(STREAM_PAGE_SIZE, cursor.remaining) && remaining > 0
                return [rows, more ? Option.some({ afterId: last.id, remaining }) : Option.none()] as const
              }
            )
        ))).pipe(Stream.withSpan("LogStore.stream")),

    getMeta: Effect.fn("LogStore.getMeta")(function*(key) {
      const valid = yield* decodeMetaKey(key)
      const row = yield* sql.sync("LogStore.getMeta", (connection) => connection.get("SELECT value FROM meta WHERE key = ?", [valid]))
      return row === undefined ? Option.none() : Option.some(String(row.value))
    }),

    setMeta: Effect.fn("LogStore.setMeta")(function*(key, value) {
      const valid = yield* decodeMetaKey(key)
      yield* sql.sync("LogStore.setMeta", (connection) =>
        connection.run(
          "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
          [valid, value]
        ))
    }),

    transition: withoutCallSite(Effect.fn("LogStore.transition")(function*(entryInput, runInput, optionsInput) {
      const entry = yield* decodeAppend(entryInput)
      const request = yield* decodeRunInput(runInput)
      const key = optionsInput === undefined ? undefined : (yield* decodeWriteOptions(optionsInput)).idempotencyKey
      yield* Effect.annotateCurrentSpan({ "nerve.run.id": request.runId, "nerve.run.workflow": request.workflow, "nerve.run.to": request.status })
      const result: TransitionResult = key === undefined
        ? yield* checkedTransition(request, entry)
        : yield* once(key, "LogStore.transition", { entry, run: request }, decodeStoredTransition, checkedTransition(request, entry))
      yield* Effect.annotateCurrentSpan({ "nerve.run.from": result.transition.from ?? "(new)", "nerve.log.id": result.entry.id })
      return woken(result)
    })),

    getRun: Effect.fn("LogStore.getRun")(function*(runId) {
      yield* Effect.annotateCurrentSpan({ "nerve.run.id": runId })
      return yield* findRun(runId)
    }),

    getRunOrFail: Effect.fn("LogStore.getRunOrFail")(function*(runId) {
      yield* Effect.annotateCurrentSpan({ "nerve.run.id": runId })
      const run = yield* findRun(runId, "LogStore.getRunOrFail")
      if (Option.isNone(run)) return yield* new RunNotFound({ runId })
      return run.value
    }),

    getLease: Effect.fn("LogStore.getLease")(function*(runId) {
      yield* Effect.annotateCurrentSpan({ "nerve.run.id": runId })
      return yield* findLease(runId)
    }),

    activeRuns: Effect.fn("LogStore.activeRuns")(function*(workflow) {
      const runs = yield* selectRuns("LogStore.activeRuns", { workflow, status: ["queued", "started"] }, undefined, -1)
      yield* Effect.annotateCurrentSpan({ "nerve.runs.count": runs.length })
      // Oldest first: the listing comes newest first.
      return [...runs].reverse()
    }),

    runs: Effect.fn("LogStore.runs")(function*(input) {
      const query = yield* decodeRunsQuery(input ?? {})
      const runs = yield* selectRuns("LogStore.runs", query, query.cursor, query.limit ?? DEFAULT_RUNS_LIMIT)
      yield* Effect.annotateCurrentSpan({ "nerve.runs.count": runs.length })
      return runs
    }),

    streamRuns: (input) =>
      Stream.unwrap(Effect.map(decodeRunsStreamQuery(input ?? {}), (query) =>
        Stream.paginate(
          { cursor: query.cursor, remaining: query.limit ?? Number.POSITIVE_INFINITY } as {
            readonly cursor: RunKey | undefined
            readonly remaining: number
          },
          (state) =>
            Effect.gen(function*() {
              const pageSize = Math.min(STREAM_PAGE_SIZE, state.remaining)
              const rows = yield* selectRunRows("LogStore.streamRuns", query, state.cursor, pageSize)
              // Paged by the stored rows, so a page of legacy rows that do not decode (left out
              // of the listing) does not end the stream.
              const runs = yield* decodeRunListing(rows)
              const last = rows[rows.length - 1]
              const remaining = state.remaining - runs.length
              const more = last !== undefined && rows.length === pageSize && remaining > 0
              return [
                runs,
                more ? Option.some({ cursor: { timestamp: last.timestamp ?? null, runId: last.runId ?? null }, remaining }) : Option.none()
              ] as const
            })
        ))).pipe(Stream.withSpan("LogStore.streamRuns")),

    runHistory: Effect.fn("LogStore.runHistory")(function*(runId) {
      yield* Effect.annotateCurrentSpan({ "nerve.run.id": runId })
      const rows = yield* sql.sync("LogStore.runHistory", (connection) =>
        connection.all(`SELECT id, ${TRANSITION_COLUMNS} FROM run_transitions WHERE run_id = ? ORDER BY id`, [runId]))
      return yield* decodeAll(rows, decodeTransitionRow, byId)
    }),

    recoverOrphans,
    markOrphansCrashed: recoverOrphans,

    follow: (input, options) =>
      Stream.unwrap(Effect.gen(function*() {
        const query = yield* decodeFollowQuery(input ?? {})
        const pollMs = yield* durationMillis(options?.pollInterval, DEFAULT_FOLLOW_POLL_INTERVAL, "options.pollInterval")
        const start = query.afterId ?? Number(
          (yield* sql.sync("LogStore.follow", (connection) => connection.get("SELECT max(id) AS id FROM logs")))?.id ?? 0
        )
        return Stream.paginate(start, (afterId) =>
          Effect.gen(function*() {
            // Take the signal before reading, so a commit between the read and the wait still wakes us.
            const woken = nextSignal()
            const rows = yield* selectLogs("LogStore.follow", { ...query, afterId, order: "asc" }, STREAM_PAGE_SIZE)
            const last = rows[rows.length - 1]
            if (last !== undefined) return [rows, Option.some(last.id)] as const
            yield* Effect.raceFirst(Deferred.await(woken), Effect.sleep(Duration.millis(pollMs)))
            return [rows, Option.some(afterId)] as const
          }))
      })).pipe(Stream.withSpan("LogStore.follow")),

    appendThreadMessage: Effect.fn("LogStore.appendThreadMessage")(function*(runIdInput, messageInput, options) {
      const runId = yield* decodeRunId(runIdInput)
      const message = yield* decodeThreadMessage(messageInput)
      yield* Effect.annotateCurrentSpan({ "nerve.run.id": runId })
      const payload = {
        role: message.role,
        content: message.content,
        ...(message.meta === undefined ? {} : { meta: message.meta }),
        timestamp: yield* Clock.currentTimeMillis
      }
      const input = { source: ThreadLog.WORKFLOW_SOURCE, type: ThreadLog.THREAD_MESSAGE_TYPE, refId: runId, payload: JSON.stringify(payload) }
      return yield* (options === undefined ? store.append(input) : store.append(input, options))
    }),

    triggerPayload: Effect.fn("LogStore.triggerPayload")(function*(runId) {
      const row = yield* sql.sync("LogStore.triggerPayload", (connection) =>
        connection.get(
          `SELECT ${LOG_COLUMNS} FROM logs WHERE ref_id = ? AND source = ? AND type = ? ORDER BY id LIMIT 1`,
          [runId, ThreadLog.WORKFLOW_SOURCE, ThreadLog.RUN_STARTED_TYPE]
        ))
      if (row === undefined) return Option.none()
      const entry = yield* Effect.fromResult(decodeLogRow(row, () => byId(row)))
      return ThreadLog.triggerPayload(entry.payload)
    }),

    threadMessages: Effect.fn("LogStore.threadMessages")(function*(runId) {
      return ThreadLog.threadMessages(yield* threadRows(runId))
    }),

    threadEvents: Effect.fn("LogStore.threadEvents")(function*(runId) {
      return ThreadLog.threadEvents(yield* threadRows(runId))
    }),

    threadRoundCount: Effect.fn("LogStore.threadRoundCount")(function*(runId) {
      const row = yield* sql.get(rounds.count, [runId])
      return Number(row?.n ?? 0)
    }),

    threadRounds: Effect.fn("LogStore.threadRounds")(function*(runId, input) {
      const params = yield* decodeRoundsParams(input ?? {})
      const result: Array<ThreadRoundRow> = []
      // Rounds that yield no row do not use up the page: read on until it is full or rounds run
      // out. The first read finds its place from the count and `before`; the next ones continue
      // below the last row read, numbering on from it.
      let page = { before: params.before, belowId: ThreadRoundsSql.NO_ID_BOUND }
      let next: number | undefined
      while (result.length < params.limit) {
        const wanted = params.limit - result.length
        const query = ThreadRoundsSql.pageQuery(rounds, runId, page, wanted)
        const rows = yield* decodeAll(yield* sql.all(query.sql, query.params), decodeRoundRow, byId)
        const first = rows[0]
        if (first === undefined) break
        let round = next ?? ThreadRoundsSql.firstRound(first.total, page.before)
        // A count behind its rows (written by a program that does not keep it, see `db check`)
        // never numbers a round below 1.
        for (const row of rows) {
          if (round < 1) break
          const roundRow = ThreadRoundsSql.toRoundRow(row, round)
          if (Option.isSome(roundRow)) result.push(roundRow.value)
          round--
        }
        if (round < 1 || rows.length < wanted) break
        next = round
        page = { before: 0, belowId: rows[rows.length - 1]!.id }
      }
      return result
    })
  })
  return store
})

/** LogStore over the migrated database in context, with the default owner and lease settings. */
export const layer: Layer.Layer<LogStore, never, Database> = Layer.effect(LogStore, make)

/** LogStore over the migrated database in context, as the owner and with the leases `options` say. */
export const layerWith = (options: LogStoreOptions = {}): Layer.Layer<LogStore, InvalidInput, Database> =>
  Layer.effect(LogStore, Effect.flatMap(leaseConfig(options), makeWith))
