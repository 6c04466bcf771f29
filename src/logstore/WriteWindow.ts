/**
 * The writable window of one stack (issue 16, "a live daemon loses its run to a lock"): since
 * when this stack has seen the database take its writes, with no sign that anyone was kept from
 * writing. Recovery and claims count a lease's grace only inside this window
 * (`domain/Lease.isDead`), so a window in which nobody could write (another process held the
 * write lock; this process was paused) never eats into anyone's lease.
 *
 * The window restarts (at the next write that goes through) when a write of this stack failed,
 * when a write waited more than half a renewal interval for the lock, or when two writes were
 * more than two renewal intervals apart (nothing is known of the time between). The writes it
 * watches: lease renewals, owner-boot renewals, `recoverOrphans` and `claimQueued`.
 *
 * @since 0.8.0
 */
import type { Writable } from "../domain/Lease.ts"

/** The window of one stack; synchronous (called around a write). */
export interface WriteWindow {
  /** A write of this stack went through at `at` (epoch ms) after waiting `waitedMs` for it. */
  readonly wrote: (at: number, waitedMs: number) => void
  /** A write of this stack failed (a lock outlasted its wait, or the database could not be written). */
  readonly failed: () => void
  /** The window as the lease rules read it. */
  readonly writable: () => Writable
}

/** A fresh window: nothing seen yet, so no expired lease is dead until a write goes through. */
export const make = (renewalMs: number): WriteWindow => {
  let since = Number.POSITIVE_INFINITY
  let last = Number.NEGATIVE_INFINITY
  let broken = true
  return {
    wrote: (at, waitedMs) => {
      if (broken || at - last > 2 * renewalMs || waitedMs > renewalMs / 2) since = at
      broken = false
      last = Math.max(last, at)
    },
    failed: () => {
      broken = true
    },
    writable: () => ({ since, graceMs: renewalMs })
  }
}
