/**
 * The errors of runs and their ownership: the state machine, leases, owner names and
 * idempotency keys. Re-exported by `Errors.ts`, which holds the union of every error.
 *
 * @since 0.8.0
 */
import { Schema } from "effect"
import { WorkflowRunStatus } from "./WorkflowRun.ts"

/**
 * A run was asked to move to a status the state machine does not allow; nothing was written.
 *
 * @example
 * ```ts
 * store.transition(entry, run).pipe(Effect.catchTag("IllegalTransition", (e) => Effect.log(e.from, e.to)))
 * ```
 */
export class IllegalTransition extends Schema.TaggedError<IllegalTransition>()("IllegalTransition", {
  runId: Schema.String,
  from: Schema.NullOr(WorkflowRunStatus),
  to: WorkflowRunStatus
}) {
  override get message(): string {
    return `run ${this.runId}: illegal transition ${this.from ?? "(new run)"} -> ${this.to}`
  }
}

/** No run with this id exists. */
export class RunNotFound extends Schema.TaggedError<RunNotFound>()("RunNotFound", {
  runId: Schema.String
}) {
  override get message(): string {
    return `run ${this.runId} not found`
  }
}

/**
 * Another live owner holds the run's lease: this stack may read the run but not move it until
 * the lease is released or expires (`expiresAt`, epoch ms). Nothing was written.
 *
 * @example
 * ```ts
 * log.transition(entry, run).pipe(Effect.catchTag("RunLeased", (e) => Effect.log(`${e.runId} belongs to ${e.owner}`)))
 * ```
 */
export class RunLeased extends Schema.TaggedError<RunLeased>()("RunLeased", {
  runId: Schema.String,
  owner: Schema.String,
  boot: Schema.String,
  expiresAt: Schema.Int
}) {
  override get message(): string {
    return `run ${this.runId} is leased by ${this.owner} (boot ${this.boot}) until ${new Date(this.expiresAt).toISOString()}`
  }
}

/**
 * An idempotency key was used before for a different request (`operation` names the first one's
 * operation). Nothing was written: use a new key for a new request.
 */
export class IdempotencyConflict extends Schema.TaggedError<IdempotencyConflict>()("IdempotencyConflict", {
  key: Schema.String,
  operation: Schema.String,
  detail: Schema.String
}) {
  override get message(): string {
    return `idempotency key ${JSON.stringify(this.key)} was used for a different ${this.operation}: ${this.detail}`
  }
}

/**
 * A transition contradicts what the run already is: another `workflow` than the run was created
 * with, or another exit code for a terminal run. Nothing was written.
 */
export class RunMismatch extends Schema.TaggedError<RunMismatch>()("RunMismatch", {
  runId: Schema.String,
  field: Schema.Literals(["workflow", "exitCode"]),
  stored: Schema.NullOr(Schema.Union([Schema.String, Schema.Int])),
  requested: Schema.NullOr(Schema.Union([Schema.String, Schema.Int]))
}) {
  override get message(): string {
    return `run ${this.runId}: ${this.field} is ${JSON.stringify(this.stored)}, the request says ${JSON.stringify(this.requested)}`
  }
}

/**
 * Another live boot is renewing leases under this owner name (SPEC §Daemon features, second
 * round): building a second stack with the same name fails, so its orphan recovery cannot take
 * the first boot's runs. `lastRenewedAt` is epoch ms. Pick another `owner`, or stop the other boot.
 *
 * @example
 * ```ts
 * Layer.build(NerveStoreLive({ dataDir, owner: "daemon-a" })).pipe(
 *   Effect.catchTag("OwnerInUse", (e) => Effect.logError(`${e.owner} is live (boot ${e.boot})`))
 * )
 * ```
 */
export class OwnerInUse extends Schema.TaggedError<OwnerInUse>()("OwnerInUse", {
  owner: Schema.String,
  boot: Schema.String,
  lastRenewedAt: Schema.Int
}) {
  override get message(): string {
    return `owner ${JSON.stringify(this.owner)} is in use by a live boot ${this.boot} (last renewed ${new Date(this.lastRenewedAt).toISOString()})`
  }
}

/**
 * This stack held the run's lease and lost it (it expired while the stack was paused or cut off,
 * and `newOwner`, when there is one, took the run). Published on `LogStore.leaseLost`, and the
 * failure of this stack's next write on that run. Nothing was written.
 *
 * @example
 * ```ts
 * log.transition(entry, run).pipe(Effect.catchTag("LeaseLost", (e) => Effect.logWarning(`lost ${e.runId}`)))
 * ```
 */
export class LeaseLost extends Schema.TaggedError<LeaseLost>()("LeaseLost", {
  runId: Schema.String,
  owner: Schema.String,
  newOwner: Schema.optional(Schema.String)
}) {
  override get message(): string {
    return `run ${this.runId}: the lease of ${this.owner} was lost${this.newOwner === undefined ? "" : ` to ${this.newOwner}`}`
  }
}

/**
 * The run has finished (`status` is terminal): `appendThreadMessage` does not add to its thread.
 * Nothing was written.
 */
export class RunFinished extends Schema.TaggedError<RunFinished>()("RunFinished", {
  runId: Schema.String,
  status: WorkflowRunStatus
}) {
  override get message(): string {
    return `run ${this.runId} has finished (${this.status}): its thread takes no more messages`
  }
}
