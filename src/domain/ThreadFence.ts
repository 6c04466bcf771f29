/**
 * Fencing of unfenced writes to a run (`appendThreadMessage`), as a pure decision: given the run
 * and its lease as read inside the write's transaction, the asking owner and the time, whether the
 * row may be written. A backend calls it between reading the run and inserting the row, in one
 * transaction, so no transition can slip in between.
 *
 * @since 0.9.0
 */
import { Result } from "effect"
import { LeaseLost, RunFinished, RunLeased, RunNotFound } from "../../schema/Errors.ts"
import * as Lease from "./Lease.ts"
import { isTerminal } from "./RunStateMachine.ts"
import type { StoredRun } from "./TransitionPlan.ts"

/** Why a write to a run is refused: nothing is written. */
export type FenceRefused = RunNotFound | RunFinished | RunLeased | LeaseLost

/**
 * Whether `owner` may write to the run at `now`: `RunNotFound` (no such run), `RunFinished` (a
 * terminal run takes no more rows), `RunLeased` (another live owner holds it), `LeaseLost`
 * (`held`: this stack held the run's lease and it is gone or another's); else the run's stored
 * state is passed on.
 */
export const checkWrite = (
  runId: string,
  stored: StoredRun,
  owner: Lease.Owner,
  now: number,
  held = false
): Result.Result<StoredRun, FenceRefused> => {
  const run = stored.run
  if (run === null) return Result.fail(new RunNotFound({ runId }))
  if (isTerminal(run.status)) return Result.fail(new RunFinished({ runId, status: run.status }))
  const lease = stored.lease
  if (lease !== null && !Lease.mayTransition(Lease.standing(lease, owner, now))) {
    return Result.fail(new RunLeased({ runId, owner: lease.owner, boot: lease.boot, expiresAt: lease.expiresAt }))
  }
  if (held && (lease === null || lease.owner !== owner.name || lease.boot !== owner.boot)) {
    return Result.fail(new LeaseLost({ runId, owner: owner.name, ...(lease === null ? {} : { newOwner: lease.owner }) }))
  }
  return Result.succeed(stored)
}
