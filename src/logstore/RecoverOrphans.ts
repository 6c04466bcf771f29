/**
 * `recoverOrphans` on any backend: in one transaction, the active runs and their leases are read,
 * `domain/Orphans.chooseOrphans` picks those nobody alive holds, and each is moved (a started run
 * to `crashed`, a queued one to `interrupted`) through the repository's `transition` with the
 * same planner as every other move.
 *
 * @since 0.8.0
 */
import { Clock, Effect } from "effect"
import type { DatabaseError } from "../../schema/Errors.ts"
import type { RecoverOrphansOptions, WorkflowRun } from "../../schema/WorkflowRun.ts"
import type { Owner } from "../domain/Lease.ts"
import { chooseOrphans, orphanStatuses } from "../domain/Orphans.ts"
import * as ThreadLog from "../domain/ThreadLog.ts"
import { planTransition } from "../domain/TransitionPlan.ts"
import type { LogRepositoryShape } from "../seam/LogRepository.ts"
import type { WriteWindow } from "./WriteWindow.ts"

const OPERATION = "LogStore.recoverOrphans"

/** Recovers the orphans `options` ask for; returns the runs as they now are, oldest first. */
export const recover = (
  repository: LogRepositoryShape,
  owner: Owner,
  ttlMs: number,
  options: RecoverOrphansOptions,
  window?: WriteWindow
): Effect.Effect<ReadonlyArray<WorkflowRun>, DatabaseError> =>
  Effect.gen(function*() {
    const before = yield* Clock.currentTimeMillis
    const source = options.source ?? ThreadLog.WORKFLOW_SOURCE
    const timestamp = options.timestamp ?? (yield* Clock.currentTimeMillis)
    const includeQueued = options.includeQueued === true
    return yield* repository.transaction(Effect.gen(function*() {
      const now = yield* Clock.currentTimeMillis
      // This transaction is a write of this stack: it extends (or, after a long lock wait,
      // restarts) the writable window, in which alone a lease's grace counts (issue 16).
      window?.wrote(now, now - before)
      const { candidates, invalid } = yield* repository.orphanCandidates(OPERATION, orphanStatuses(includeQueued))
      for (const corrupt of invalid) yield* Effect.logWarning(corrupt.message)
      const runs: Array<WorkflowRun> = []
      for (const orphan of chooseOrphans(candidates, owner, now, includeQueued, window?.writable())) {
        const { run } = orphan
        const moved = yield* repository.transition(OPERATION, run.runId, (stored, at) =>
          planTransition({
            stored,
            request: { runId: run.runId, workflow: run.workflow, status: orphan.to, exitCode: run.exitCode },
            entry: { source, type: orphan.to, refId: run.runId, payload: JSON.stringify({ reason: orphan.reason }), timestamp },
            owner,
            now: at,
            ttlMs
          })).pipe(
            // Read in this transaction a moment ago, so the move is legal and the rows decode.
            Effect.catchTag(["IllegalTransition", "RunMismatch", "RunLeased", "LeaseLost", "CorruptRow"], Effect.die)
          )
        runs.push(moved.run)
      }
      return runs
    })).pipe(Effect.tapError(() => Effect.sync(() => window?.failed())))
  })
