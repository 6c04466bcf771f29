/**
 * The LogStore service: an append-only structured log, the `workflow_runs` table it
 * materialises through an enforced state machine, thread helpers for crash recovery, and `meta`.
 *
 * @since 0.6.0
 */
import { Context, type Duration, type Effect, type Option, type Stream } from "effect"
import type {
  CorruptRow,
  DatabaseError,
  FollowGap,
  IdempotencyConflict,
  IllegalTransition,
  InvalidInput,
  RunLeased,
  RunFinished,
  RunMismatch,
  RunNotFound
} from "../schema/Errors.ts"
import type { LeaseLost } from "../schema/RunErrors.ts"
import type { CountRunsQuery, RunCounts, StoreHealth, WaitForRunOptions } from "../schema/StoreHealth.ts"
import type { AppendInput, FollowQuery, LogEntry, LogQuery, LogStreamQuery } from "../schema/LogEntry.ts"
import type {
  GetThreadRoundsInput,
  ThreadEvent,
  ThreadMessage,
  ThreadMessageInput,
  ThreadRoundRow,
  TriggerPayload
} from "../schema/Thread.ts"
import type {
  RecoverOrphansOptions,
  RunLease,
  RunsQuery,
  RunsStreamQuery,
  RunTransition,
  RunTransitionInput,
  WorkflowRun,
  WriteOptions
} from "../schema/WorkflowRun.ts"

/** What `transition` wrote: the log row, the run as it now is, and the history record. */
export interface TransitionResult {
  readonly entry: LogEntry
  readonly run: WorkflowRun
  readonly transition: RunTransition
}

/**
 * Options of the LogStore layers: who this stack is and how long its leases last.
 *
 * - `owner`: the owner name (default `host:pid:boot`, unique to the process). Give a daemon a
 *   stable name (e.g. `"nerve@build-host"`) so that its next boot recovers its runs at once
 *   instead of waiting for their leases to expire; one name must be used by one live stack at a time.
 * - `leaseTtl`: how long a lease lasts unless renewed (default 30 seconds).
 * - `leaseRenewal`: how often this stack renews its leases (default a third of `leaseTtl`).
 */
export interface LogStoreOptions {
  readonly owner?: string
  readonly leaseTtl?: Duration.Input
  readonly leaseRenewal?: Duration.Input
}

/** Options of `follow`: how often to look for rows other processes appended (default 1 second). */
export interface FollowOptions {
  readonly pollInterval?: Duration.Input
}

/** Options of `waitForRun`: the statuses (default: the terminal ones) and the poll interval (default 1 second). */
export interface WaitForRunCallOptions extends WaitForRunOptions {
  readonly pollInterval?: Duration.Input
}


/**
 * The operations of the log. Every operation validates its input (`InvalidInput`, nothing
 * written), decodes every row it returns (`CorruptRow` names the table and key) and reports SQLite
 * failures as `DatabaseError`.
 */
export interface LogStoreShape {
  /**
   * Runs `self` in one `BEGIN IMMEDIATE` transaction: every LogStore write inside it commits when
   * it succeeds, and none does when it fails, dies or is interrupted. Nested calls join the outer one.
   *
   * @example
   * ```ts
   * yield* log.transaction(Effect.all([log.append(a), log.setMeta("cursor", "42")]))
   * ```
   */
  readonly transaction: <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A, E | DatabaseError, R>
  /**
   * Appends one row. Concurrent appends share one transaction (group commit); each completes only
   * after its row is committed. Inside `transaction` the row joins that transaction.
   */
  readonly append: (
    input: AppendInput,
    options?: WriteOptions
  ) => Effect.Effect<LogEntry, InvalidInput | IdempotencyConflict | CorruptRow | DatabaseError>
  /** Appends rows in one transaction: all or none. */
  readonly appendMany: (
    inputs: ReadonlyArray<AppendInput>
  ) => Effect.Effect<ReadonlyArray<LogEntry>, InvalidInput | DatabaseError>
  /** Rows matching the filters, by id (`asc` by default), at most `limit` (default 1000). */
  readonly query: (query?: LogQuery) => Effect.Effect<ReadonlyArray<LogEntry>, InvalidInput | CorruptRow | DatabaseError>
  /** Every matching row, read page by page by id in constant memory; `limit` (no cap) caps the total. */
  readonly stream: (query?: LogStreamQuery) => Stream.Stream<LogEntry, InvalidInput | CorruptRow | DatabaseError>
  readonly getMeta: (key: string) => Effect.Effect<Option.Option<string>, InvalidInput | DatabaseError>
  readonly setMeta: (key: string, value: string) => Effect.Effect<void, InvalidInput | DatabaseError>
  /**
   * Appends `entry` (its `refId` defaults to the run id) and moves the run to `run.status` in one
   * `BEGIN IMMEDIATE` transaction, or fails and writes nothing: `IllegalTransition` (the state
   * machine), `RunLeased` (another live owner holds the run), `RunMismatch` (another workflow, or
   * another exit code for a terminal run). A run moved to `queued` or `started` is leased to this
   * stack; any other status releases the lease. With `idempotencyKey`, a repeat returns the first
   * result and writes nothing. A run whose lease this stack held and lost (it was recovered or
   * released by another stack while this one was paused) fails with `LeaseLost`, or `RunLeased`
   * when another live owner holds it now.
   */
  readonly transition: (
    entry: AppendInput,
    run: RunTransitionInput,
    options?: WriteOptions
  ) => Effect.Effect<
    TransitionResult,
    IllegalTransition | RunLeased | LeaseLost | RunMismatch | IdempotencyConflict | InvalidInput | CorruptRow | DatabaseError
  >
  readonly getRun: (runId: string) => Effect.Effect<Option.Option<WorkflowRun>, CorruptRow | DatabaseError>
  /** The run, or `RunNotFound`. */
  readonly getRunOrFail: (runId: string) => Effect.Effect<WorkflowRun, RunNotFound | CorruptRow | DatabaseError>
  /** Who holds the run, if a lease is stored (expired or not). */
  readonly getLease: (runId: string) => Effect.Effect<Option.Option<RunLease>, CorruptRow | DatabaseError>
  /** This stack's owner identity: the owner name and its boot id. */
  readonly owner: { readonly name: string; readonly boot: string }
  /**
   * `queued` and `started` runs, oldest first. Listings skip a legacy row that does not decode
   * (logging a warning) so one bad row cannot block a daemon's start; `getRun` reports it.
   */
  readonly activeRuns: (workflow?: string) => Effect.Effect<ReadonlyArray<WorkflowRun>, DatabaseError>
  /**
   * Runs, newest first (by last transition, then run id), optionally by workflow and one or more
   * statuses; at most `limit` (default 1,000, at most 100,000). `cursor: lastRunOfPreviousPage`
   * continues after it.
   */
  readonly runs: (query?: RunsQuery) => Effect.Effect<ReadonlyArray<WorkflowRun>, InvalidInput | DatabaseError>
  /** Every matching run, newest first, read page by page (no cap; `limit` caps the total). */
  readonly streamRuns: (query?: RunsStreamQuery) => Stream.Stream<WorkflowRun, InvalidInput | DatabaseError>
  /** The accepted transitions of a run, oldest first. */
  readonly runHistory: (runId: string) => Effect.Effect<ReadonlyArray<RunTransition>, CorruptRow | DatabaseError>
  /**
   * On daemon start: every orphaned `started` run becomes `crashed` (with `includeQueued`, every
   * orphaned `queued` run becomes `interrupted`), one log row each, at `options.timestamp` (default
   * the Clock) with `options.source` (default `"workflow"`); returns the runs as they now are.
   * Orphaned: no lease, an expired lease, or a lease of this owner name's earlier boot. Runs that
   * another live owner holds, and this stack's own, are left alone.
   */
  readonly recoverOrphans: (
    options?: RecoverOrphansOptions
  ) => Effect.Effect<ReadonlyArray<WorkflowRun>, InvalidInput | DatabaseError>
  /** @deprecated The former name of `recoverOrphans` (the same operation); use `recoverOrphans`. */
  readonly markOrphansCrashed: (
    options?: RecoverOrphansOptions
  ) => Effect.Effect<ReadonlyArray<WorkflowRun>, InvalidInput | DatabaseError>
  /**
   * Rows matching the filters appended after `query.afterId` (default: from now on), live: this
   * stack's own commits wake it at once, other processes' rows are found by polling every
   * `pollInterval` (default 1 second). Never ends by itself; interrupting it stops it cleanly.
   * Never skips silently: when rows after its cursor were archived meanwhile (a live follower
   * that fell behind, or one resuming from a saved `afterId`), the stream fails with
   * `FollowGap { afterId, firstAvailableId }` (read them with `LogArchive`, then follow on from
   * `firstAvailableId - 1`).
   */
  readonly follow: (
    query?: FollowQuery,
    options?: FollowOptions
  ) => Stream.Stream<LogEntry, InvalidInput | CorruptRow | FollowGap | DatabaseError>
  /**
   * Appends a thread message of the run (`source: "workflow"`, type `thread_workflow_message`,
   * `refId: runId`, the payload `{ role, content, meta?, timestamp }` with the Clock's time), the
   * row `threadMessages` and `threadRounds` read back. Fenced, in the transaction of the write:
   * `RunNotFound` (no such run), `RunFinished` (a terminal run), `RunLeased` (another live owner
   * holds the run), `LeaseLost` (this stack held the run and lost its lease). With `idempotencyKey`, a retry (even at a later time) returns the first row:
   * the key's fingerprint is the run id and the message, not the time.
   */
  readonly appendThreadMessage: (
    runId: string,
    message: ThreadMessageInput,
    options?: WriteOptions
  ) => Effect.Effect<
    LogEntry,
    InvalidInput | RunNotFound | RunFinished | RunLeased | LeaseLost | IdempotencyConflict | CorruptRow | DatabaseError
  >
  /** The run's trigger (see SPEC §Log conventions), or none. */
  readonly triggerPayload: (runId: string) => Effect.Effect<Option.Option<TriggerPayload>, CorruptRow | DatabaseError>
  /** The run's thread messages, oldest first. */
  readonly threadMessages: (runId: string) => Effect.Effect<ReadonlyArray<ThreadMessage>, CorruptRow | DatabaseError>
  /** @deprecated The older `thread_command_event` format; use `threadMessages` or `threadRounds`. */
  readonly threadEvents: (runId: string) => Effect.Effect<ReadonlyArray<ThreadEvent>, CorruptRow | DatabaseError>
  /** How many role rounds the run has. */
  readonly threadRoundCount: (runId: string) => Effect.Effect<number, CorruptRow | DatabaseError>
  /**
   * Role rounds newest first, only rounds `< before` (default 0 = no bound), at most `limit`
   * (default 50): with no params, the newest page.
   */
  readonly threadRounds: (
    runId: string,
    params?: GetThreadRoundsInput
  ) => Effect.Effect<ReadonlyArray<ThreadRoundRow>, InvalidInput | CorruptRow | DatabaseError>

  // --- lease control (issue 16) ---
  /**
   * Every lease this stack loses, as it learns of it (its renewal finds the lease gone or another
   * owner's: the stack was paused past its time-to-live and another stack recovered or claimed
   * the run). Each is counted in `nerve_leases_lost_total`, and the next write on the run fails
   * with `LeaseLost` (or `RunLeased`). A stack whose renewals were only held up by another
   * process's write lock keeps its runs: others count a lease's grace only in time they could write.
   *
   * @example
   * ```ts
   * yield* log.leaseLost.pipe(Stream.runForEach((lost) => cancelWork(lost.runId)), Effect.forkScoped)
   * ```
   */
  readonly leaseLost: Stream.Stream<LeaseLost>
  /** The stored leases (expired or not), by run id: all of them, or those of the owner name `owner`. */
  readonly leases: (query?: { readonly owner?: string | undefined }) => Effect.Effect<ReadonlyArray<RunLease>, InvalidInput | CorruptRow | DatabaseError>
  /**
   * Hands the run back at once: deletes this stack's lease of it (a queued run becomes claimable
   * by any stack, a started one recoverable). No lease, or a dead one of someone else: nothing to
   * do. Another live owner's lease: `RunLeased`, nothing written.
   */
  readonly releaseLease: (runId: string) => Effect.Effect<void, InvalidInput | RunLeased | CorruptRow | DatabaseError>
  /**
   * Takes up to `limit` (1 to 10,000) queued runs, oldest first, of `workflow` when given, that no
   * live owner holds (no lease, a lease of this name's earlier boot, or another owner's lease dead
   * past its grace), leases them to this stack and returns them (still `queued`: move them to
   * `started` with `transition`). Each run goes to exactly one claimer however many stacks
   * (processes, machines) claim at once.
   *
   * @example
   * ```ts
   * for (const run of yield* log.claimQueued({ workflow: "build", limit: 4 })) yield* startRun(run)
   * ```
   */
  readonly claimQueued: (
    request: { readonly workflow?: string | undefined; readonly limit: number }
  ) => Effect.Effect<ReadonlyArray<WorkflowRun>, InvalidInput | DatabaseError>
  /** How many runs match, by status: every status present, 0 when none. A read (no write lock). */
  readonly countRuns: (query?: CountRunsQuery) => Effect.Effect<RunCounts, InvalidInput | DatabaseError>
  /**
   * Completes with the run once it is in one of `options.statuses` (default: the terminal ones),
   * at once when it already is. This stack's own commits wake it at once; other processes'
   * writes are found by polling every `pollInterval` (default 1 second). A run that does not
   * exist yet is waited for. Interrupt it (or `Effect.timeout`) to stop waiting.
   */
  readonly waitForRun: (
    runId: string,
    options?: WaitForRunCallOptions
  ) => Effect.Effect<WorkflowRun, InvalidInput | CorruptRow | DatabaseError>
  /**
   * The stack's health, without taking (or waiting for) the write lock: schema versions, whether
   * it is read-only or writable, its last lease renewal, and its current lock wait.
   */
  readonly health: () => Effect.Effect<StoreHealth, DatabaseError>
}

/**
 * The log service. Provide it with `NerveStoreLive` / `NerveStoreMemory` from
 * `@uncaged/nerve-store/layers`, or one of the LogStore layers there.
 *
 * @example
 * ```ts
 * const program = Effect.gen(function*() {
 *   const log = yield* LogStore
 *   yield* log.transition({ source: "workflow", type: "started" }, { runId: "r1", workflow: "build", status: "started" })
 *   return yield* log.activeRuns()
 * })
 * ```
 */
export class LogStore extends Context.Service<LogStore, LogStoreShape>()("@uncaged/nerve-store/LogStore") {}
