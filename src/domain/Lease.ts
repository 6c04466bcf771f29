/**
 * Run ownership by leases, as pure decisions (no I/O, no SQL, no clock): a backend hands in the
 * stored lease, the asking owner and the time, and gets back what the owner may do.
 *
 * An owner is a `name` and a `boot` id. The name is what a deployment calls its daemon (default:
 * `host:pid:boot`, so unique to one process); the boot id is random per stack. A lease names the
 * owner and boot that hold a run and when it ends unless renewed. Nothing here depends on the
 * process: two daemons on two machines sharing one database follow the same rules.
 *
 * @since 0.7.0
 */
import type { WorkflowRunStatus } from "../../schema/WorkflowRun.ts"

/** Who is asking: an owner name and this stack's boot id. */
export interface Owner {
  readonly name: string
  readonly boot: string
}

/** A stored lease. */
export interface Lease {
  readonly owner: string
  readonly boot: string
  readonly expiresAt: number
}

/**
 * How a lease stands for `owner` at `now`:
 * - `free`: no lease (never taken, released by a graceful stop, or a run from nerve-store 0.5);
 * - `mine`: this owner and boot hold it;
 * - `expired`: someone held it, but `expiresAt <= now` (its holder stopped renewing);
 * - `earlierBoot`: this owner's name with another boot id, still unexpired — a previous life of
 *   this daemon that died without releasing (a name must be used by one live stack at a time);
 * - `held`: another owner holds it and it has not expired.
 */
export type LeaseStanding = "free" | "mine" | "expired" | "earlierBoot" | "held"

/** Classifies `lease` for `owner` at `now` (epoch ms). */
export const standing = (lease: Lease | null, owner: Owner, now: number): LeaseStanding => {
  if (lease === null) return "free"
  if (lease.owner === owner.name && lease.boot === owner.boot) return "mine"
  if (lease.expiresAt <= now) return "expired"
  if (lease.owner === owner.name) return "earlierBoot"
  return "held"
}

/** Whether `owner` may move the run: anything but a live lease of another owner. */
export const mayTransition = (standing: LeaseStanding): boolean => standing !== "held"

/**
 * Whether an active run is an orphan that `recoverOrphans` may take: nobody alive holds it. A run
 * this very stack holds is never an orphan, even when its lease lapsed (the stack is alive).
 */
export const isOrphan = (standing: LeaseStanding): boolean =>
  standing === "free" || standing === "expired" || standing === "earlierBoot"

/** Statuses whose run is owned (leased) by the stack that moved it there. */
export const LEASED_STATUSES: ReadonlySet<WorkflowRunStatus> = new Set(["queued", "started"])

/** Whether a run in `status` keeps a lease after a transition (else the lease is released). */
export const holdsLease = (status: WorkflowRunStatus): boolean => LEASED_STATUSES.has(status)

/** When a lease taken or renewed at `now` ends. */
export const expiryAt = (now: number, ttlMs: number): number => now + ttlMs

/** How an orphan is recovered: a started run crashed, a queued one interrupted (queued → crashed is illegal). */
export const recoveredStatus = (status: WorkflowRunStatus): WorkflowRunStatus | null =>
  status === "started" ? "crashed" : status === "queued" ? "interrupted" : null
