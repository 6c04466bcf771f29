/**
 * The LogStore, written once on the storage seam: input validation, group commit, transitions
 * planned by `domain/TransitionPlan`, idempotency keys, leases, listings, orphan recovery, follow
 * and thread helpers, over any backend's {@link LogRepositoryShape}. A backend provides the
 * repository; this provides the service.
 *
 * @since 0.8.0
 */
import { Clock, Effect, Option, Result, Schema, Stream } from "effect"
import { type DatabaseError, InvalidInput, RunNotFound } from "../../schema/Errors.ts"
import { AppendInput, DEFAULT_QUERY_LIMIT, FollowQuery, LogEntry, LogQuery, LogStreamQuery } from "../../schema/LogEntry.ts"
import { NonEmptyText } from "../../schema/Primitives.ts"
import { GetThreadRoundsParams, ThreadMessageInput } from "../../schema/Thread.ts"
import {
  DEFAULT_RUNS_LIMIT,
  RecoverOrphansOptions,
  RunsQuery,
  RunsStreamQuery,
  RunTransition,
  RunTransitionInput,
  WorkflowRun,
  WriteOptions
} from "../../schema/WorkflowRun.ts"
import * as Lease from "../domain/Lease.ts"
import { namedAs } from "../domain/PublicOperation.ts"
import { checkWrite } from "../domain/ThreadFence.ts"
import * as Metrics from "../Metrics.ts"
import { withoutCallSite } from "../domain/Operation.ts"
import * as ThreadLog from "../domain/ThreadLog.ts"
import { type NewLogRow, planTransition, toNewRow } from "../domain/TransitionPlan.ts"
import { inputDecoder, rowDecoder } from "../domain/Validate.ts"
import { LogStore, type LogStoreShape, type TransitionResult } from "../LogStore.ts"
import type { LogRepositoryShape, RunFilter, RunKey } from "../seam/LogRepository.ts"
import * as Followers from "./Followers.ts"
import * as GroupCommit from "./GroupCommit.ts"
import * as Idempotency from "./Idempotency.ts"
import { durationMillis, type LeaseConfig } from "./LeaseConfig.ts"
import * as LeaseControl from "./LeaseControl.ts"
import * as LeaseKeeper from "./LeaseKeeper.ts"
import * as OwnerBoots from "./OwnerBoots.ts"
import { pages } from "./Paging.ts"
import { recover } from "./RecoverOrphans.ts"
import { threadRounds } from "./RoundPaging.ts"
import * as RunWaits from "./RunWaits.ts"

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
const decodeRoundsParams = inputDecoder(GetThreadRoundsParams, "params")
const decodeMetaKey = inputDecoder(NonEmptyText, "key")
const TransitionResultSchema = Schema.Struct({ entry: LogEntry, run: WorkflowRun, transition: RunTransition })
const decodeStoredEntry = rowDecoder(Schema.fromJsonString(LogEntry), "idempotency_keys")
const decodeStoredTransition = rowDecoder(Schema.fromJsonString(TransitionResultSchema), "idempotency_keys")

const checkRange = <Q extends LogQuery | LogStreamQuery>(query: Q): Effect.Effect<Q, InvalidInput> =>
  query.since !== undefined && query.until !== undefined && query.since > query.until
    ? Effect.fail(new InvalidInput({ field: "query.since", reason: `must not be after query.until (${query.until})` }))
    : Effect.succeed(query)

/** Logs the rows a listing left out (a legacy row must not block a daemon's start; `getRun` reports it). */
const warnInvalid = (invalid: ReadonlyArray<{ readonly message: string }>): Effect.Effect<void> =>
  invalid.length === 0 ? Effect.void : Effect.forEach(invalid, (corrupt) => Effect.logWarning(corrupt.message), { discard: true })

/**
 * Builds the LogStore on `repository`, as owner `config.owner`, in the current scope (the lease
 * keeper renews this stack's leases until the scope closes, then releases them).
 */
export const make = Effect.fnUntraced(function*(repository: LogRepositoryShape, config: LeaseConfig) {
  const me = config.owner
  // One live boot per owner name: `OwnerInUse` while another boot of this name renews it.
  const registered = yield* OwnerBoots.register(repository, config)
  const leases = yield* LeaseKeeper.make(repository, config, registered)
  const once = Idempotency.make(repository)
  const followers = Followers.make()
  const wakeFollowers = Effect.sync(followers.wake)
  // Other processes' commits, where the backend hears of them (PostgreSQL: LISTEN/NOTIFY).
  if (repository.commits !== undefined) yield* Effect.forkScoped(Stream.runForEach(repository.commits, () => wakeFollowers))
  /** The written value, after waking this stack's followers. */
  const woken = <A>(written: A): A => {
    followers.wake()
    return written
  }
  // Concurrent appends share one `insertMany` (one transaction; a multi-row INSERT where the backend can).
  const commitAppends = GroupCommit.make((rows: ReadonlyArray<NewLogRow>) =>
    Effect.contextWith((context) => {
      Metrics.groupCommitRows.updateUnsafe(rows.length, context)
      return Effect.map(repository.insertMany("LogStore.append", rows), woken)
    })
  )
  const insertOne = (operation: string, row: NewLogRow) => Effect.map(repository.insertMany(operation, [row]), (entries) => entries[0]!)

  /** A `transition` request, planned by the domain rules inside the backend's transaction. */
  const checkedTransition = (request: RunTransitionInput, entry: AppendInput) =>
    Effect.flatMap(repository.inTransaction, (joined) => {
      // Fenced: a run this stack held and lost fails with `LeaseLost` (issue 16).
      const held = leases.held(request.runId)
      const done = leases.writing(request.runId)
      return repository.transition("LogStore.transition", request.runId, (stored, now) =>
        planTransition({ stored, request, entry, owner: me, now, ttlMs: config.ttlMs, held })).pipe(
          Effect.map((result) => {
            if (Lease.holdsLease(result.run.status)) {
              leases.taken()
              // Inside a caller's transaction the lease may still roll back: not fenced.
              if (!joined) leases.hold(request.runId)
            } else leases.letGo(request.runId)
            return result
          }),
          Effect.tapError((error) =>
            error._tag === "LeaseLost" || error._tag === "RunLeased" ? Effect.sync(() => leases.letGo(request.runId)) : Effect.void
          ),
          Effect.ensuring(Effect.sync(done))
        )
    }).pipe(Effect.tap((result) => Effect.andThen(Metrics.recordTransition(result.run.status), Metrics.recordAppend(1))))

  /** `append` with an idempotency key (kept apart from the group-committed hot path). */
  const appendOnce = Effect.fnUntraced(function*(input: unknown, key: string) {
    const entry = yield* decodeAppend(input)
    const now = yield* Clock.currentTimeMillis
    const written = yield* once(key, "LogStore.append", { entry }, decodeStoredEntry, insertOne("LogStore.append", toNewRow(entry, now)))
      .pipe(namedAs("LogStore.append"))
    yield* wakeFollowers
    return written
  })

  /** One page of a run listing, its left-out rows logged. */
  const runsPage = (operation: string, filter: RunFilter, cursor: RunKey | undefined, limit: number) =>
    Effect.tap(repository.selectRuns(operation, filter, cursor, limit), (page) => warnInvalid(page.invalid))

  const recoverOrphans = Effect.fn("LogStore.recoverOrphans")(function*(input?: RecoverOrphansOptions) {
    const options = yield* decodeOrphansOptions(input ?? {})
    const recovered = yield* recover(repository, me, config.ttlMs, options, leases.window)
    yield* Effect.annotateCurrentSpan({ "nerve.runs.recovered": recovered.length, "nerve.owner": me.name })
    if (recovered.length > 0) yield* wakeFollowers
    return recovered
  }, namedAs("LogStore.recoverOrphans"))

  const store: LogStoreShape = LogStore.of({
    owner: me,

    transaction: (self) =>
      repository.transaction(self).pipe(Effect.tap(wakeFollowers), namedAs("LogStore.transaction"), Effect.withSpan("LogStore.transaction")),

    append: withoutCallSite(Effect.fn("LogStore.append")(function*(input, options) {
      if (options !== undefined) {
        const { idempotencyKey } = yield* decodeWriteOptions(options)
        if (idempotencyKey !== undefined) return yield* appendOnce(input, idempotencyKey)
      }
      const entry = yield* decodeAppend(input)
      const row = toNewRow(entry, entry.timestamp ?? (yield* Clock.currentTimeMillis))
      // Inside the caller's transaction the row belongs to it: sharing a group commit would let
      // other fibers' rows roll back with it (or wait on a permit this fiber holds).
      if (yield* repository.inTransaction) return yield* insertOne("LogStore.append", row)
      return yield* commitAppends(row)
    }, Metrics.timedAppend)),

    appendMany: withoutCallSite(Effect.fn("LogStore.appendMany")(function*(inputs) {
      const entries = yield* decodeAppendMany(inputs)
      if (entries.length === 0) return []
      const now = yield* Clock.currentTimeMillis
      const rows = entries.map((entry) => toNewRow(entry, now))
      const written = woken(yield* repository.insertMany("LogStore.appendMany", rows))
      yield* Metrics.recordAppend(written.length)
      return written
    })),

    query: withoutCallSite(Effect.fn("LogStore.query")(function*(input) {
      const query = yield* Effect.flatMap(decodeQuery(input ?? {}), checkRange)
      return yield* repository.selectLogs("LogStore.query", query, query.limit ?? DEFAULT_QUERY_LIMIT)
    })),

    stream: (input) =>
      Stream.unwrap(Effect.map(Effect.flatMap(decodeStreamQuery(input ?? {}), checkRange), (query) =>
        pages(query.afterId ?? 0, query.limit, (afterId, size) =>
          Effect.map(repository.selectLogs("LogStore.stream", { ...query, afterId }, size), (rows) => ({
            items: rows,
            read: rows.length,
            next: rows[rows.length - 1]?.id
          }))))).pipe(Stream.withSpan("LogStore.stream")),

    getMeta: Effect.fn("LogStore.getMeta")(function*(key) {
      return yield* repository.getMeta("LogStore.getMeta", yield* decodeMetaKey(key))
    }),

    setMeta: Effect.fn("LogStore.setMeta")(function*(key, value) {
      yield* repository.setMeta("LogStore.setMeta", yield* decodeMetaKey(key), value)
    }),

    transition: withoutCallSite(Effect.fn("LogStore.transition")(function*(entryInput, runInput, optionsInput) {
      const entry = yield* decodeAppend(entryInput)
      const request = yield* decodeRunInput(runInput)
      const key = optionsInput === undefined ? undefined : (yield* decodeWriteOptions(optionsInput)).idempotencyKey
      yield* Effect.annotateCurrentSpan({ "nerve.run.id": request.runId, "nerve.run.workflow": request.workflow, "nerve.run.to": request.status })
      const result: TransitionResult = key === undefined
        ? yield* checkedTransition(request, entry)
        : yield* once(key, "LogStore.transition", { entry, run: request }, decodeStoredTransition, checkedTransition(request, entry))
          .pipe(namedAs("LogStore.transition"))
      yield* Effect.annotateCurrentSpan({ "nerve.run.from": result.transition.from ?? "(new)", "nerve.log.id": result.entry.id })
      return woken(result)
    })),

    getRun: Effect.fn("LogStore.getRun")(function*(runId) {
      yield* Effect.annotateCurrentSpan({ "nerve.run.id": runId })
      return yield* repository.getRun("LogStore.getRun", runId)
    }),

    getRunOrFail: Effect.fn("LogStore.getRunOrFail")(function*(runId) {
      yield* Effect.annotateCurrentSpan({ "nerve.run.id": runId })
      const run = yield* repository.getRun("LogStore.getRunOrFail", runId)
      if (Option.isNone(run)) return yield* new RunNotFound({ runId })
      return run.value
    }),

    getLease: Effect.fn("LogStore.getLease")(function*(runId) {
      yield* Effect.annotateCurrentSpan({ "nerve.run.id": runId })
      return yield* repository.getLease("LogStore.getLease", runId)
    }),

    activeRuns: Effect.fn("LogStore.activeRuns")(function*(workflow) {
      const page = yield* runsPage("LogStore.activeRuns", { workflow, status: ["queued", "started"] }, undefined, -1)
      yield* Effect.annotateCurrentSpan({ "nerve.runs.count": page.runs.length })
      // Oldest first: the listing comes newest first.
      return [...page.runs].reverse()
    }),

    runs: Effect.fn("LogStore.runs")(function*(input) {
      const query = yield* decodeRunsQuery(input ?? {})
      const page = yield* runsPage("LogStore.runs", query, query.cursor, query.limit ?? DEFAULT_RUNS_LIMIT)
      yield* Effect.annotateCurrentSpan({ "nerve.runs.count": page.runs.length })
      return page.runs
    }),

    // Paged by the stored rows, so a page of legacy rows that do not decode (left out of the
    // listing) does not end the stream.
    streamRuns: (input) =>
      Stream.unwrap(Effect.map(decodeRunsStreamQuery(input ?? {}), (query) =>
        pages<RunKey | undefined, WorkflowRun, DatabaseError>(query.cursor, query.limit, (cursor, size) =>
          Effect.map(runsPage("LogStore.streamRuns", query, cursor, size), (page) => ({
            items: page.runs,
            read: page.read,
            next: page.last
          }))))).pipe(Stream.withSpan("LogStore.streamRuns")),

    runHistory: Effect.fn("LogStore.runHistory")(function*(runId) {
      yield* Effect.annotateCurrentSpan({ "nerve.run.id": runId })
      return yield* repository.runHistory("LogStore.runHistory", runId)
    }),

    recoverOrphans,
    markOrphansCrashed: recoverOrphans,

    follow: (input, options) =>
      Stream.unwrap(Effect.gen(function*() {
        const query = yield* decodeFollowQuery(input ?? {})
        const pollMs = yield* durationMillis(options?.pollInterval, Followers.DEFAULT_FOLLOW_POLL_INTERVAL, "options.pollInterval")
        const start = query.afterId ?? (yield* repository.lastLogId("LogStore.follow"))
        return Followers.follow(repository, followers, query, start, pollMs)
      })).pipe(Stream.withSpan("LogStore.follow")),

    appendThreadMessage: Effect.fn("LogStore.appendThreadMessage")(function*(runIdInput, messageInput, options) {
      const runId = yield* decodeRunId(runIdInput)
      const message = yield* decodeThreadMessage(messageInput)
      yield* Effect.annotateCurrentSpan({ "nerve.run.id": runId })
      const key = options === undefined ? undefined : (yield* decodeWriteOptions(options)).idempotencyKey
      // Read, check and insert in one transaction of the backend: no transition slips in between.
      // Fenced like a transition: a run this stack held and lost fails with `LeaseLost`.
      const held = leases.held(runId)
      const write = repository.insertChecked("LogStore.appendThreadMessage", runId, (stored, now) =>
        Result.map(checkWrite(runId, stored, me, now, held), () => {
          const payload = {
            role: message.role,
            content: message.content,
            ...(message.meta === undefined ? {} : { meta: message.meta }),
            timestamp: now
          }
          return toNewRow({ source: ThreadLog.WORKFLOW_SOURCE, type: ThreadLog.THREAD_MESSAGE_TYPE, refId: runId, payload: JSON.stringify(payload) }, now)
        }))
      // The fingerprint is the request (run and message), not the time the write adds.
      const written = key === undefined
        ? yield* write
        : yield* once(key, "LogStore.appendThreadMessage", { runId, message }, decodeStoredEntry, write)
          .pipe(namedAs("LogStore.appendThreadMessage"))
      yield* Metrics.recordAppend(1)
      return woken(written)
    }),

    triggerPayload: Effect.fn("LogStore.triggerPayload")(function*(runId) {
      const row = yield* repository.firstRow("LogStore.triggerPayload", {
        refId: runId,
        source: ThreadLog.WORKFLOW_SOURCE,
        type: ThreadLog.RUN_STARTED_TYPE
      })
      return Option.isNone(row) ? Option.none() : ThreadLog.triggerPayload(row.value.payload)
    }),

    threadMessages: Effect.fn("LogStore.threadMessages")(function*(runId) {
      return ThreadLog.threadMessages(yield* repository.threadRows("LogStore.threadMessages", runId))
    }),

    threadEvents: Effect.fn("LogStore.threadEvents")(function*(runId) {
      return ThreadLog.threadEvents(yield* repository.threadRows("LogStore.threadEvents", runId))
    }),

    threadRoundCount: Effect.fn("LogStore.threadRoundCount")(function*(runId) {
      return yield* repository.roundCount("LogStore.threadRoundCount", runId)
    }),

    threadRounds: Effect.fn("LogStore.threadRounds")(function*(runId, input) {
      return yield* threadRounds(repository, runId, yield* decodeRoundsParams(input ?? {}))
    }),

    ...RunWaits.make(repository, followers, leases),

    // Lease control (issue 16): leaseLost, leases, releaseLease, claimQueued.
    ...LeaseControl.make(repository, config, leases)
  })
  return store
})
