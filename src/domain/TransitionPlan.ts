/**
 * Planning a run transition, as a pure decision over plain data: the run as stored (or none), its
 * lease (or none), the request, this owner and the time in, a {@link TransitionPlan} (what to
 * write) or the typed refusal out. Every backend calls it between reading the run and writing the
 * plan, inside its own transaction (SQLite: in one synchronous step; PostgreSQL: after
 * `SELECT … FOR UPDATE`), so the rules are written once. A `Result`, not an Effect, so a
 * synchronous step can call it.
 *
 * @since 0.8.0
 */
import { Result } from "effect"
import { IllegalTransition, RunLeased, RunMismatch } from "../../schema/Errors.ts"
import { LeaseLost } from "../../schema/RunErrors.ts"
import type { LogEntry } from "../../schema/LogEntry.ts"
import type { RunLease, RunTransition, WorkflowRun, WorkflowRunStatus } from "../../schema/WorkflowRun.ts"
import * as Lease from "./Lease.ts"
import { classifyTransition, conflictOf, nextExitCode } from "./RunStateMachine.ts"

/** A log row about to be inserted (its id is given by the store). */
export type NewLogRow = Omit<LogEntry, "id">

/** An append request as validated: every field but `source` and `type` may be left out. */
export interface RowInput {
  readonly source: string
  readonly type: string
  readonly refId?: string | null | undefined
  readonly payload?: string | null | undefined
  readonly timestamp?: number | undefined
}

/** The row an append request writes at `now`: absent fields are null, the time defaults to `now`. */
export const toNewRow = (input: RowInput, now: number): NewLogRow => ({
  source: input.source,
  type: input.type,
  refId: input.refId ?? null,
  payload: input.payload ?? null,
  timestamp: input.timestamp ?? now
})

/** What `transition` asks: move `runId` (of `workflow`) to `status`, with an exit code or not. */
export interface TransitionRequest {
  readonly runId: string
  readonly workflow: string
  readonly status: WorkflowRunStatus
  readonly exitCode?: number | null | undefined
}

/** The run and its lease as the backend read them, inside the transaction that will write the plan. */
export interface StoredRun {
  readonly run: WorkflowRun | null
  readonly lease: RunLease | null
}

/** What happens to the run's lease row. */
export type LeaseWrite =
  | { readonly _tag: "Take"; readonly lease: RunLease }
  | { readonly _tag: "Release" }
  | { readonly _tag: "Keep" }

/**
 * What an accepted transition writes, in one transaction: `row` into the log, `run` over the
 * stored run (insert or update), a history record `from → to` pointing at the row's id, and the
 * lease write.
 */
export interface TransitionPlan {
  readonly row: NewLogRow
  readonly run: WorkflowRun
  readonly from: WorkflowRunStatus | null
  readonly to: WorkflowRunStatus
  readonly exitCode: number | null
  readonly lease: LeaseWrite
}

/** The history record of a written `plan` whose log row got the id `logId`. */
export const transitionRecord = (plan: TransitionPlan, logId: number): RunTransition => ({
  runId: plan.run.runId,
  from: plan.from,
  to: plan.to,
  timestamp: plan.row.timestamp,
  exitCode: plan.exitCode,
  logId
})

/** A refusal: nothing is written. */
export type TransitionRefused = IllegalTransition | RunMismatch | RunLeased | LeaseLost

/** Everything a plan is made from. */
export interface PlanInput {
  readonly stored: StoredRun
  readonly request: TransitionRequest
  /** The log row of the move (its `refId` defaults to the run id; its time to `now`). */
  readonly entry: RowInput
  readonly owner: Lease.Owner
  /** Epoch ms, read by the backend inside its transaction. */
  readonly now: number
  /** How long a lease taken now lasts. */
  readonly ttlMs: number
  /**
   * Whether this stack held the run's lease and has not let it go (it took it and no transition
   * of its own released it since): a lease that is no longer its own was lost, which is
   * `LeaseLost`, never an `IllegalTransition` that hides why.
   */
  readonly held?: boolean | undefined
}

/**
 * Plans one move, in the order a caller learns of refusals: `RunLeased` (another live owner holds
 * the run), `LeaseLost` (this stack held it and its lease is gone), `IllegalTransition` (the state machine), `RunMismatch` (another workflow, or another
 * exit code for a terminal run). A run moved to `queued` or `started` is leased to `owner`; any
 * other status releases a stored lease.
 */
export const planTransition = (input: PlanInput): Result.Result<TransitionPlan, TransitionRefused> => {
  const { request, owner, now } = input
  const { run: current, lease } = input.stored
  if (lease !== null && !Lease.mayTransition(Lease.standing(lease, owner, now))) {
    return Result.fail(new RunLeased({ runId: request.runId, owner: lease.owner, boot: lease.boot, expiresAt: lease.expiresAt }))
  }
  if (input.held === true && (lease === null || lease.owner !== owner.name || lease.boot !== owner.boot)) {
    return Result.fail(
      new LeaseLost({ runId: request.runId, owner: owner.name, ...(lease === null ? {} : { newOwner: lease.owner }) })
    )
  }
  const from = current?.status ?? null
  const kind = classifyTransition(from, request.status)
  if (kind === "illegal") return Result.fail(new IllegalTransition({ runId: request.runId, from, to: request.status }))
  const conflict = conflictOf(current, request)
  if (conflict !== null) return Result.fail(new RunMismatch({ runId: request.runId, ...conflict }))
  const exitCode = nextExitCode(kind, current, request.exitCode)
  const row = toNewRow(input.entry.refId === undefined ? { ...input.entry, refId: request.runId } : input.entry, now)
  const run: WorkflowRun = {
    runId: request.runId,
    workflow: current?.workflow ?? request.workflow,
    status: request.status,
    timestamp: row.timestamp,
    exitCode
  }
  const leaseWrite: LeaseWrite = Lease.holdsLease(run.status)
    ? { _tag: "Take", lease: { runId: run.runId, owner: owner.name, boot: owner.boot, expiresAt: Lease.expiryAt(now, input.ttlMs) } }
    : lease !== null
    ? { _tag: "Release" }
    : { _tag: "Keep" }
  return Result.succeed({ row, run, from, to: run.status, exitCode, lease: leaseWrite })
}
