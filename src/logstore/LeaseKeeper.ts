/**
 * Keeps this stack's run leases alive: renews them in the background while the stack holds any,
 * and releases them all when the stack's scope closes (a graceful stop). Works on any backend's
 * repository; when a lease ends is `domain/Lease.expiryAt`.
 *
 * The renewal fiber is forked once, when the stack is built (never by a transition, whose fiber
 * may hold the connection), and sleeps on the Effect `Clock` only while there is something to
 * renew: an idle stack (the CLI) has no timer and never writes, and a `TestClock` jump does not
 * step through renewals for nothing.
 *
 * Issue 16: a renewal that failed (a lock outlasted its wait) is tried again after a quarter of
 * the interval, so once the lock frees the holder's renewal lands well within the grace others
 * give it (`WriteWindow`). The keeper knows which runs this stack holds; a renewal that renews
 * fewer than that looks for the lost ones, publishes a `LeaseLost` for each on `lost` and counts
 * it (`nerve_leases_lost_total`), and the next write on such a run fails with `LeaseLost`.
 *
 * @since 0.7.0
 */
import { Clock, Deferred, Duration, Effect, Exit, Metric, Option, PubSub, type Scope } from "effect"
import { LeaseLost } from "../../schema/RunErrors.ts"
import { expiryAt } from "../domain/Lease.ts"
import { leaseRenewalsTotal, leasesLostTotal } from "../Metrics.ts"
import type { LogRepositoryShape } from "../seam/LogRepository.ts"
import type { LeaseConfig } from "./LeaseConfig.ts"
import * as WriteWindow from "./WriteWindow.ts"

/** What the LogStore tells the keeper, and what it reads from it. */
export interface LeaseKeeper {
  /** A transition of this stack just took (or renewed) a lease: make sure renewal runs. Synchronous. */
  readonly taken: () => void
  /** This stack now holds `runId` (committed): a lease that is gone later was lost. */
  readonly hold: (runId: string) => void
  /** This stack let `runId` go (a transition released it, or it heard of the loss). */
  readonly letGo: (runId: string) => void
  /** Whether this stack held `runId` and has not let it go (a write on it is fenced). */
  readonly held: (runId: string) => boolean
  /** Marks a write on `runId` in flight (a renewal does not call it lost meanwhile); returns its end. */
  readonly writing: (runId: string) => () => void
  /** The `LeaseLost` of every lease this stack loses, as it learns of it. */
  readonly lost: PubSub.PubSub<LeaseLost>
  /** This stack's writable window (the grace of `recoverOrphans` and `claimQueued`). */
  readonly window: WriteWindow.WriteWindow
  /** When this stack last renewed its leases (epoch ms, the Clock), if ever. */
  readonly lastRenewedAt: () => number | undefined
}

/** Starts the keeper in the current scope; `registered`: this stack's boot row is its name's (renewed too). */
export const make = Effect.fnUntraced(function*(
  repository: LogRepositoryShape,
  config: LeaseConfig,
  registered = false
): Effect.fn.Return<LeaseKeeper, never, Scope.Scope> {
  const owner = config.owner
  // Whether this stack ever took a lease (else closing writes nothing), and whether renewal runs.
  let leasing = false
  let renewing = false
  // Counts `taken` calls: a lease taken while a renewal that found none was in flight (an
  // asynchronous backend answers later) keeps the renewal running.
  let takes = 0
  let start = Deferred.makeUnsafe<void>()
  let lastFailed = false
  let lastRenewedAt: number | undefined
  const heldRuns = new Set<string>()
  const lostRuns = new Set<string>()
  const inFlight = new Map<string, number>()
  const window = WriteWindow.make(config.renewalMs)
  const lost = yield* PubSub.unbounded<LeaseLost>()

  /** Finds the held runs whose lease is no longer this boot's, and tells of each. */
  const findLost = Effect.gen(function*() {
    const mine = new Set((yield* repository.leases("LogStore.renewLeases", owner.name)).filter((l) => l.boot === owner.boot).map((l) => l.runId))
    for (const runId of [...heldRuns]) {
      if (mine.has(runId) || inFlight.has(runId)) continue
      const now = yield* repository.getLease("LogStore.renewLeases", runId)
      if (!heldRuns.has(runId) || inFlight.has(runId)) continue
      const newOwner = Option.isSome(now) && now.value.boot !== owner.boot ? now.value.owner : undefined
      heldRuns.delete(runId)
      lostRuns.add(runId)
      yield* Metric.update(leasesLostTotal, 1)
      yield* PubSub.publish(lost, new LeaseLost({ runId, owner: owner.name, ...(newOwner === undefined ? {} : { newOwner }) }))
      yield* Effect.logWarning(`lease of run ${runId} lost${newOwner === undefined ? "" : ` to ${newOwner}`}`)
    }
  }).pipe(Effect.catch((error) => Effect.logWarning(`looking for lost leases failed: ${error.message}`)))

  /** Renews every lease of this stack (and its boot); ends the renewal when none is left. */
  const renew = Effect.gen(function*() {
    const before = yield* Clock.currentTimeMillis
    const takesBefore = takes
    // The boot row first: once the leases are stored (what other stacks see), no round trip is
    // left before the next sleep, so a test that moves a TestClock after seeing them never
    // moves it past a sleep not yet begun (asynchronous backends).
    if (registered && !(yield* repository.renewBoot("LogStore.renewLeases", owner, before))) {
      registered = false
      yield* Effect.logWarning(`owner ${owner.name}: a later boot took this name over`)
    }
    const renewed = yield* repository.renewLeases("LogStore.renewLeases", owner, expiryAt(before, config.ttlMs))
    const now = yield* Clock.currentTimeMillis
    window.wrote(now, now - before)
    lastFailed = false
    lastRenewedAt = before
    if (renewed > 0) yield* Metric.update(leaseRenewalsTotal, renewed)
    if (renewed < heldRuns.size) yield* findLost
    if (renewed === 0 && takes === takesBefore && heldRuns.size === 0) renewing = false
  }).pipe(Effect.catch((error) =>
    Effect.andThen(
      Effect.sync(() => {
        window.failed()
        lastFailed = true
      }),
      Effect.logWarning(`lease renewal failed (will retry): ${error.message}`)
    )
  ))

  const release = Effect.gen(function*() {
    if (registered) yield* repository.releaseBoot("LogStore.releaseLeases", owner)
    if (!leasing) return
    yield* repository.releaseLeases("LogStore.releaseLeases", owner)
  }).pipe(Effect.catch((error) => Effect.logWarning(`releasing leases failed: ${error.message}`)))

  // Finalizers run in reverse: the renewal fiber is interrupted first, then the leases are
  // released, and then (in the backend layer's scope) the connection closes.
  yield* Effect.addFinalizer(() => release)
  yield* Effect.forkScoped(Effect.forever(Effect.gen(function*() {
    yield* Deferred.await(start)
    start = Deferred.makeUnsafe<void>()
    yield* Effect.whileLoop({
      while: () => renewing,
      body: () =>
        Effect.andThen(
          Effect.suspend(() => Effect.sleep(Duration.millis(lastFailed ? Math.max(1, Math.floor(config.renewalMs / 4)) : config.renewalMs))),
          renew
        ),
      step: () => undefined
    })
  })))

  return {
    taken: () => {
      leasing = true
      takes++
      if (renewing) return
      renewing = true
      Deferred.doneUnsafe(start, Exit.void)
    },
    hold: (runId) => {
      heldRuns.add(runId)
      lostRuns.delete(runId)
    },
    letGo: (runId) => {
      heldRuns.delete(runId)
      lostRuns.delete(runId)
    },
    held: (runId) => heldRuns.has(runId) || lostRuns.has(runId),
    writing: (runId) => {
      inFlight.set(runId, (inFlight.get(runId) ?? 0) + 1)
      return () => {
        const n = (inFlight.get(runId) ?? 1) - 1
        if (n === 0) inFlight.delete(runId)
        else inFlight.set(runId, n)
      }
    },
    lost,
    window,
    lastRenewedAt: () => lastRenewedAt
  }
})
