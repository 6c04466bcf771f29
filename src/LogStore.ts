/**
 * The LogStore service: an append-only structured log, the `workflow_runs` table it
 * materialises through an enforced state machine, thread helpers for crash recovery, and `meta`.
 *
 * @since 0.6.0
 */
import { Context, type Effect, type Option, type Stream } from "effect"
import type { CorruptRow, DatabaseError, IllegalTransition, InvalidInput } from "../schema/Errors.ts"
import type { AppendInput, LogEntry, LogQuery, LogStreamQuery } from "../schema/LogEntry.ts"
import type { GetThreadRoundsParams, ThreadEvent, ThreadMessage, ThreadRoundRow, TriggerPayload } from "../schema/Thread.ts"
import type { MarkOrphansOptions, RunsQuery, RunTransition, RunTransitionInput, WorkflowRun } from "../schema/WorkflowRun.ts"

/** What `transition` wrote: the log row, the run as it now is, and the history record. */
export interface TransitionResult {
  readonly entry: LogEntry
  readonly run: WorkflowRun
  readonly transition: RunTransition
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
  readonly append: (input: AppendInput) => Effect.Effect<LogEntry, InvalidInput | DatabaseError>
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
   * `BEGIN IMMEDIATE` transaction, or fails with `IllegalTransition` and writes nothing.
   */
  readonly transition: (
    entry: AppendInput,
    run: RunTransitionInput
  ) => Effect.Effect<TransitionResult, IllegalTransition | InvalidInput | CorruptRow | DatabaseError>
  readonly getRun: (runId: string) => Effect.Effect<Option.Option<WorkflowRun>, CorruptRow | DatabaseError>
  /**
   * `queued` and `started` runs, oldest first. Listings skip a legacy row that does not decode
   * (logging a warning) so one bad row cannot block a daemon's start; `getRun` reports it.
   */
  readonly activeRuns: (workflow?: string) => Effect.Effect<ReadonlyArray<WorkflowRun>, DatabaseError>
  /** Runs, newest first, optionally by workflow and status. */
  readonly runs: (query?: RunsQuery) => Effect.Effect<ReadonlyArray<WorkflowRun>, InvalidInput | DatabaseError>
  /** The accepted transitions of a run, oldest first. */
  readonly runHistory: (runId: string) => Effect.Effect<ReadonlyArray<RunTransition>, CorruptRow | DatabaseError>
  /**
   * On daemon start: every `started` run becomes `crashed` (one `crashed` log row each, at
   * `options.timestamp`, default the Clock, with `options.source`, default `"workflow"`); returns
   * the runs as they now are.
   */
  readonly markOrphansCrashed: (
    options?: MarkOrphansOptions
  ) => Effect.Effect<ReadonlyArray<WorkflowRun>, InvalidInput | DatabaseError>
  /** The run's trigger (see SPEC §Log conventions), or none. */
  readonly triggerPayload: (runId: string) => Effect.Effect<Option.Option<TriggerPayload>, CorruptRow | DatabaseError>
  /** The run's thread messages, oldest first. */
  readonly threadMessages: (runId: string) => Effect.Effect<ReadonlyArray<ThreadMessage>, CorruptRow | DatabaseError>
  /** @deprecated The older `thread_command_event` format; use `threadMessages` or `threadRounds`. */
  readonly threadEvents: (runId: string) => Effect.Effect<ReadonlyArray<ThreadEvent>, CorruptRow | DatabaseError>
  /** How many role rounds the run has. */
  readonly threadRoundCount: (runId: string) => Effect.Effect<number, CorruptRow | DatabaseError>
  /** Role rounds newest first, only rounds `< before` (0 = no bound), at most `limit`. */
  readonly threadRounds: (
    runId: string,
    params: GetThreadRoundsParams
  ) => Effect.Effect<ReadonlyArray<ThreadRoundRow>, InvalidInput | CorruptRow | DatabaseError>
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
