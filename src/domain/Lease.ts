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

// --- issue 16: the writable grace, owner boots, claims ---

/**
 * What a stack knows of the database's writability: since when it has seen every one of its
 * writes go through without a long lock wait, with no gap longer than two renewal intervals
 * (`src/logstore/WriteWindow.ts` keeps it). A lease is judged expired only by time inside it.
 */
export interface Writable {
  /** Epoch ms: the start of this stack's current writable window. */
  readonly since: number
  /** The grace: how much writable time past a lease's expiry it takes to call the lease dead. */
  readonly graceMs: number
}

/**
 * Whether an expired lease is dead at `now`: one grace of writable time has passed since it
 * expired. Time before `writable.since` (a lock held by another process, a pause of this stack)
 * does not count, so a holder whose renewals were only held up by a lock keeps its runs: its
 * renewal, retried as soon as the lock frees, lands within the grace.
 */
export const isDead = (lease: Pick<Lease, "expiresAt">, now: number, writable: Writable): boolean =>
  now - Math.max(lease.expiresAt, writable.since) >= writable.graceMs

/**
 * Like {@link isOrphan}, with the grace: an `expired` lease of another owner is an orphan only
 * once it is dead. A lease of this name's earlier boot (expired or not) is taken at once (building the stack proved that boot is
 * no longer renewing: `OwnerInUse` otherwise).
 */
export const isOrphanWithGrace = (lease: Lease | null, owner: Owner, now: number, writable: Writable): boolean => {
  // A lease of this name's earlier boot, expired or not, is taken at once.
  if (lease !== null && lease.owner === owner.name && lease.boot !== owner.boot) return true
  const standing_ = standing(lease, owner, now)
  if (standing_ === "expired") return lease !== null && isDead(lease, now, writable)
  return isOrphan(standing_)
}

/**
 * The newest `expiresAt` a claim may take over at `now`: a lease of another owner that expired at
 * or before it is dead ({@link isDead}); `null` when no expired lease is dead yet (this stack's
 * writable window is younger than the grace), so only free runs are claimable.
 */
export const deadBefore = (now: number, writable: Writable): number | null =>
  now - writable.since >= writable.graceMs ? now - writable.graceMs : null

/** The stored boot of an owner name: which boot renews it and when it last did. */
export interface OwnerBoot {
  readonly owner: string
  readonly boot: string
  readonly renewedAt: number
  readonly renewalMs: number
  /** Where the boot runs: its host name and process id (a boot on this host whose process is gone is dead at once). */
  readonly host: string
  readonly pid: number
}

/**
 * Whether a stored boot is still live at `now`: it renewed within two of its renewal intervals.
 * A boot that was killed stops renewing and is taken over after that, without waiting for its
 * leases' time-to-live.
 */
export const bootIsLive = (boot: OwnerBoot, now: number): boolean => now - boot.renewedAt < 2 * boot.renewalMs

/**
 * Whether `name` is the default owner name of boot `boot` (`host:pid:boot`): unique to one
 * process, so it needs no registration as the one live boot of its name.
 */
export const isDefaultName = (owner: Owner): boolean => owner.name.endsWith(`:${owner.boot}`)
