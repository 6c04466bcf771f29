/**
 * LogStore on the SQLite connection: the same code serves a file and `:memory:`.
 *
 * @since 0.6.0
 */
import { Clock, Effect, Layer, Option, Result, Schema, Stream } from "effect"
import { CorruptRow, IllegalTransition, InvalidInput } from "../../schema/Errors.ts"
import { AppendInput, DEFAULT_QUERY_LIMIT, LogEntry, LogQuery, LogStreamQuery } from "../../schema/LogEntry.ts"
import { NonEmptyText } from "../../schema/Primitives.ts"
import { GetThreadRoundsParams, type ThreadRoundRow } from "../../schema/Thread.ts"
import {
  MarkOrphansOptions,
  RunsQuery,
  RunTransition,
  RunTransitionInput,
  WorkflowRun,
  type WorkflowRunStatus
} from "../../schema/WorkflowRun.ts"
import * as GroupCommit from "../sqlite/GroupCommit.ts"
import { LogStore } from "../LogStore.ts"
import { classifyTransition, nextExitCode } from "../domain/RunStateMachine.ts"
import { Database } from "../sqlite/Database.ts"
import type { SqlParam, SqlRow, SyncConnection } from "../sqlite/Sqlite.ts"
import * as ThreadLog from "../domain/ThreadLog.ts"
import { inputDecoder, rowDecoder } from "../domain/Validate.ts"
import * as ThreadRoundsSql from "./ThreadRoundsSql.ts"

const LOG_COLUMNS = "id, source, type, ref_id AS refId, payload, timestamp"
const RUN_COLUMNS = "run_id AS runId, workflow, status, timestamp, exit_code AS exitCode"
const TRANSITION_COLUMNS =
  `run_id AS runId, from_status AS "from", to_status AS "to", timestamp, exit_code AS exitCode, log_id AS logId`
const INSERT_LOG = "INSERT INTO logs (source, type, ref_id, payload, timestamp) VALUES (?, ?, ?, ?, ?)"
const UPSERT_RUN = `INSERT INTO workflow_runs (run_id, workflow, status, timestamp, exit_code) VALUES (?, ?, ?, ?, ?)
  ON CONFLICT(run_id) DO UPDATE SET status = excluded.status, timestamp = excluded.timestamp, exit_code = excluded.exit_code`
const INSERT_TRANSITION =
  "INSERT INTO run_transitions (run_id, from_status, to_status, timestamp, exit_code, log_id) VALUES (?, ?, ?, ?, ?, ?)"
const STREAM_PAGE_SIZE = 1_000
const DEFAULT_RUNS_LIMIT = 1_000

/** A validated row about to be inserted. */
type NewLogRow = Omit<LogEntry, "id">

const decodeAppend = inputDecoder(AppendInput, "entry")
const decodeAppendMany = inputDecoder(Schema.Array(AppendInput), "entries")
const decodeQuery = inputDecoder(LogQuery, "query")
const decodeStreamQuery = inputDecoder(LogStreamQuery, "query")
const decodeOrphansOptions = inputDecoder(MarkOrphansOptions, "options")
const decodeRunInput = inputDecoder(RunTransitionInput, "run")
const decodeRunsQuery = inputDecoder(RunsQuery, "query")
const decodeRoundsParams = inputDecoder(GetThreadRoundsParams, "params")
const decodeMetaKey = inputDecoder(NonEmptyText, "key")
const decodeLogRow = rowDecoder(LogEntry, "logs")
const decodeRunRow = rowDecoder(WorkflowRun, "workflow_runs")
const decodeTransitionRow = rowDecoder(RunTransition, "run_transitions")
const decodeRoundRow = rowDecoder(ThreadRoundsSql.RoundLogRow, "logs")

const decodeAll = <A>(
  rows: ReadonlyArray<SqlRow>,
  decode: (row: unknown, key: () => string) => Result.Result<A, CorruptRow>,
  key: (row: SqlRow) => string
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

const insertRow = (connection: SyncConnection, row: NewLogRow): LogEntry => ({
  id: connection.run(INSERT_LOG, [row.source, row.type, row.refId, row.payload, row.timestamp]).lastInsertRowid,
  ...row
})

const insertRows = (connection: SyncConnection, rows: ReadonlyArray<NewLogRow>): ReadonlyArray<LogEntry> =>
  rows.map((row) => insertRow(connection, row))

const toNewRow = (input: AppendInput, now: number): NewLogRow => ({
  source: input.source,
  type: input.type,
  refId: input.refId ?? null,
  payload: input.payload ?? null,
  timestamp: input.timestamp ?? now
})

const stackTraceLimitWritable = Object.getOwnPropertyDescriptor(Error, "stackTraceLimit")?.writable === true

/**
 * Calls an `Effect.fn` operation without capturing its call site. `Effect.fn` records where it
 * was called by constructing an `Error` on every call unless `Error.stackTraceLimit` is 0; that
 * capture costs more than the rest of an append's overhead together. The span and the definition
 * site stay; only the caller's file and line are missing from a failure's trace. The limit is
 * restored before any other code runs (the call only builds the Effect, synchronously).
 */
const withoutCallSite = <Args extends ReadonlyArray<unknown>, R>(operation: (...args: Args) => R): (...args: Args) => R => {
  if (!stackTraceLimitWritable) return operation
  return (...args) => {
    const limit = Error.stackTraceLimit
    Error.stackTraceLimit = 0
    try {
      return operation(...args)
    } finally {
      Error.stackTraceLimit = limit
    }
  }
}

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

/** Builds the LogStore over the migrated database in context. */
export const make = Effect.gen(function*() {
  const { sql } = yield* Database

  // A single INSERT is atomic on its own; autocommit spares the BEGIN/COMMIT round trip.
  const commitAppends = GroupCommit.make((rows: ReadonlyArray<NewLogRow>) =>
    rows.length === 1
      ? sql.sync("append", (connection) => insertRows(connection, rows))
      : sql.syncTransaction("append", (connection) => insertRows(connection, rows))
  )

  const selectLogs = (query: LogQuery, limit: number) => {
    const compiled = compileQuery(query, limit)
    return Effect.flatMap(sql.all(compiled.sql, compiled.params), (rows) => decodeAll(rows, decodeLogRow, byId))
  }

  const threadRows = (runId: string) =>
    Effect.flatMap(
      sql.all(
        `SELECT ${LOG_COLUMNS} FROM logs WHERE ref_id = ? AND source = ? AND type IN (?, ?) ORDER BY id`,
        [runId, ThreadLog.WORKFLOW_SOURCE, ThreadLog.THREAD_MESSAGE_TYPE, ThreadLog.THREAD_EVENT_TYPE]
      ),
      (rows) => decodeAll(rows, decodeLogRow, byId)
    )

  const findRun = (runId: string) =>
    Effect.flatMap(sql.get(`SELECT ${RUN_COLUMNS} FROM workflow_runs WHERE run_id = ?`, [runId]), (row) =>
      row === undefined ? Effect.succeedNone : Effect.map(Effect.fromResult(decodeRunRow(row, () => runId)), Option.some))

  /** Inside a transaction: one accepted move of a run, recorded in logs, workflow_runs and run_transitions. */
  const applyTransition = (
    current: WorkflowRun | null,
    request: { readonly runId: string; readonly workflow: string; readonly status: WorkflowRunStatus; readonly exitCode?: number | null | undefined },
    row: NewLogRow
  ) =>
    Effect.gen(function*() {
      const kind = classifyTransition(current?.status ?? null, request.status)
      if (kind === "illegal") {
        return yield* new IllegalTransition({ runId: request.runId, from: current?.status ?? null, to: request.status })
      }
      const exitCode = nextExitCode(kind, current, request.exitCode)
      return yield* sql.sync("transition", (connection) => {
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
        return { entry, run, transition }
      })
    })

  return LogStore.of({
    transaction: (self) => sql.transaction(self).pipe(Effect.withSpan("LogStore.transaction")),

    append: withoutCallSite(Effect.fn("LogStore.append")(function*(input) {
      const entry = yield* decodeAppend(input)
      const row = toNewRow(entry, entry.timestamp ?? (yield* Clock.currentTimeMillis))
      // Inside the caller's transaction the row belongs to it: sharing a group commit would let
      // other fibers' rows roll back with it (or wait on a permit this fiber holds).
      if (yield* sql.inTransaction) return yield* sql.sync("append", (connection) => insertRow(connection, row))
      return yield* commitAppends(row)
    })),

    appendMany: withoutCallSite(Effect.fn("LogStore.appendMany")(function*(inputs) {
      const entries = yield* decodeAppendMany(inputs)
      if (entries.length === 0) return []
      const now = yield* Clock.currentTimeMillis
      const rows = entries.map((entry) => toNewRow(entry, now))
      return yield* sql.syncTransaction("appendMany", (connection) => insertRows(connection, rows))
    })),

    query: withoutCallSite(Effect.fn("LogStore.query")(function*(input) {
      const query = yield* Effect.flatMap(decodeQuery(input ?? {}), checkRange)
      return yield* selectLogs(query, query.limit ?? DEFAULT_QUERY_LIMIT)
    })),

    stream: (input) =>
      Stream.unwrap(Effect.map(Effect.flatMap(decodeStreamQuery(input ?? {}), checkRange), (query) =>
        Stream.paginate(
          { afterId: query.afterId ?? 0, remaining: query.limit ?? Number.POSITIVE_INFINITY },
          (cursor) =>
            Effect.map(
              selectLogs({ ...query, afterId: cursor.afterId }, Math.min(STREAM_PAGE_SIZE, cursor.remaining)),
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
      const row = yield* sql.get("SELECT value FROM meta WHERE key = ?", [valid])
      return row === undefined ? Option.none() : Option.some(String(row.value))
    }),

    setMeta: Effect.fn("LogStore.setMeta")(function*(key, value) {
      const valid = yield* decodeMetaKey(key)
      yield* sql.run(
        "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        [valid, value]
      )
    }),

    transition: Effect.fn("LogStore.transition")(function*(entryInput, runInput) {
      const entry = yield* decodeAppend(entryInput)
      const request = yield* decodeRunInput(runInput)
      const row = toNewRow({ ...entry, refId: entry.refId === undefined ? request.runId : entry.refId }, yield* Clock.currentTimeMillis)
      return yield* sql.transaction(Effect.flatMap(
        findRun(request.runId),
        (current) => applyTransition(Option.getOrNull(current), request, row)
      ))
    }),

    getRun: Effect.fn("LogStore.getRun")(function*(runId) {
      return yield* findRun(runId)
    }),

    activeRuns: Effect.fn("LogStore.activeRuns")(function*(workflow) {
      const rows = workflow === undefined
        ? yield* sql.all(`SELECT ${RUN_COLUMNS} FROM workflow_runs WHERE status IN ('queued', 'started') ORDER BY timestamp, rowid`)
        : yield* sql.all(
          `SELECT ${RUN_COLUMNS} FROM workflow_runs WHERE status IN ('queued', 'started') AND workflow = ? ORDER BY timestamp, rowid`,
          [workflow]
        )
      return yield* decodeRunListing(rows)
    }),

    runs: Effect.fn("LogStore.runs")(function*(input) {
      const query = yield* decodeRunsQuery(input ?? {})
      const where: Array<string> = []
      const params: Array<SqlParam> = []
      if (query.workflow !== undefined) {
        where.push("workflow = ?")
        params.push(query.workflow)
      }
      if (query.status !== undefined) {
        where.push("status = ?")
        params.push(query.status)
      }
      params.push(query.limit ?? DEFAULT_RUNS_LIMIT)
      const rows = yield* sql.all(
        `SELECT ${RUN_COLUMNS} FROM workflow_runs${where.length === 0 ? "" : ` WHERE ${where.join(" AND ")}`}
         ORDER BY timestamp DESC, rowid DESC LIMIT ?`,
        params
      )
      return yield* decodeRunListing(rows)
    }),

    runHistory: Effect.fn("LogStore.runHistory")(function*(runId) {
      const rows = yield* sql.all(`SELECT id, ${TRANSITION_COLUMNS} FROM run_transitions WHERE run_id = ? ORDER BY id`, [runId])
      return yield* decodeAll(rows, decodeTransitionRow, byId)
    }),

    markOrphansCrashed: Effect.fn("LogStore.markOrphansCrashed")(function*(input) {
      const options = yield* decodeOrphansOptions(input ?? {})
      const source = options.source ?? ThreadLog.WORKFLOW_SOURCE
      const timestamp = options.timestamp ?? (yield* Clock.currentTimeMillis)
      return yield* sql.transaction(Effect.gen(function*() {
        const orphans = yield* decodeRunListing(
          yield* sql.all(`SELECT ${RUN_COLUMNS} FROM workflow_runs WHERE status = 'started' ORDER BY timestamp, rowid`)
        )
        const crashed: Array<WorkflowRun> = []
        for (const orphan of orphans) {
          const row: NewLogRow = {
            source,
            type: "crashed",
            refId: orphan.runId,
            payload: JSON.stringify({ reason: "orphaned: the daemon stopped while the run was started" }),
            timestamp
          }
          const { run } = yield* applyTransition(orphan, { ...orphan, status: "crashed" }, row)
          crashed.push(run)
        }
        return crashed
      })).pipe(Effect.catchTag("IllegalTransition", Effect.die)) // started → crashed is always legal
    }),

    triggerPayload: Effect.fn("LogStore.triggerPayload")(function*(runId) {
      const row = yield* sql.get(
        `SELECT ${LOG_COLUMNS} FROM logs WHERE ref_id = ? AND source = ? AND type = ? ORDER BY id LIMIT 1`,
        [runId, ThreadLog.WORKFLOW_SOURCE, ThreadLog.RUN_STARTED_TYPE]
      )
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
      const row = yield* sql.get(ThreadRoundsSql.COUNT_SQL, [runId])
      return Number(row?.n ?? 0)
    }),

    threadRounds: Effect.fn("LogStore.threadRounds")(function*(runId, input) {
      const params = yield* decodeRoundsParams(input)
      const result: Array<ThreadRoundRow> = []
      // Rounds that yield no row do not use up the page: read on until it is full or rounds run out.
      let before = params.before
      while (result.length < params.limit && before !== 1) {
        const page = ThreadRoundsSql.pageQuery(runId, before, params.limit - result.length)
        const rows = yield* decodeAll(yield* sql.all(page.sql, page.params), decodeRoundRow, byId)
        const first = rows[0]
        if (first === undefined) break
        let round = ThreadRoundsSql.roundOf(first.total, before, 0)
        for (const row of rows) {
          const roundRow = ThreadRoundsSql.toRoundRow(row, round)
          if (Option.isSome(roundRow)) result.push(roundRow.value)
          round--
        }
        before = round + 1
      }
      return result
    })
  })
})

/** LogStore over the migrated database in context. */
export const layer: Layer.Layer<LogStore, never, Database> = Layer.effect(LogStore, make)
