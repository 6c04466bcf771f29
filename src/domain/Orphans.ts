/**
 * Choosing orphans for `recoverOrphans`, as a pure decision: from the active runs and their
 * leases, this owner and the time, which runs nobody alive holds, what each becomes (a started
 * run `crashed`, a queued one `interrupted`) and the reason written in its log row.
 *
 * @since 0.8.0
 */
import type { RunLease, WorkflowRun, WorkflowRunStatus } from "../../schema/WorkflowRun.ts"
import * as Lease from "./Lease.ts"

/** The statuses `recoverOrphans` looks at: `started`, and `queued` when asked. */
export const orphanStatuses = (includeQueued: boolean): ReadonlyArray<WorkflowRunStatus> =>
  includeQueued ? ["started", "queued"] : ["started"]

/** An active run as stored, with its lease (or none). */
export interface Candidate {
  readonly run: WorkflowRun
  readonly lease: Pick<RunLease, "owner" | "boot" | "expiresAt"> | null
}

/** An orphan and what recovery makes of it. */
export interface Orphan extends Candidate {
  readonly to: WorkflowRunStatus
  /** The `reason` of the recovery row's payload. */
  readonly reason: string
}

/** Why `candidate` is an orphan, in words (for its recovery row). */
export const orphanReason = (lease: Candidate["lease"], owner: Lease.Owner): string =>
  lease === null
    ? "orphaned: no live owner held the run"
    : `orphaned: the lease of ${lease.owner} (boot ${lease.boot}) ${lease.owner === owner.name ? "belongs to an earlier boot" : "expired"}`

/**
 * The candidates (in the order given) that are orphans for `owner` at `now` and have a recovery
 * status; `queued` runs only with `includeQueued`. Runs another live owner holds, and this
 * stack's own, are left out; with `writable`, an expired lease is an orphan only once it is dead
 * (`Lease.isDead`: one grace of writable time past its expiry).
 */
export const chooseOrphans = (
  candidates: ReadonlyArray<Candidate>,
  owner: Lease.Owner,
  now: number,
  includeQueued: boolean,
  writable?: Lease.Writable
): ReadonlyArray<Orphan> => {
  const wanted = new Set(orphanStatuses(includeQueued))
  const orphans: Array<Orphan> = []
  for (const candidate of candidates) {
    if (!wanted.has(candidate.run.status)) continue
    const orphan = writable === undefined
      ? Lease.isOrphan(Lease.standing(candidate.lease, owner, now))
      : Lease.isOrphanWithGrace(candidate.lease, owner, now, writable)
    if (!orphan) continue
    const to = Lease.recoveredStatus(candidate.run.status)
    if (to === null) continue
    orphans.push({ ...candidate, to, reason: orphanReason(candidate.lease, owner) })
  }
  return orphans
}
