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
 * @since 0.7.0
 */
import { Clock, Deferred, Duration, Effect, Exit, type Scope } from "effect"
import { expiryAt } from "../domain/Lease.ts"
import type { LogRepositoryShape } from "../seam/LogRepository.ts"
import type { LeaseConfig } from "./LeaseConfig.ts"

/** What the LogStore tells the keeper. */
export interface LeaseKeeper {
  /** A transition of this stack just took (or renewed) a lease: make sure renewal runs. Synchronous. */
  readonly taken: () => void
  /** When this stack last renewed its leases (epoch ms, the Clock), if ever. */
  readonly lastRenewedAt: () => number | undefined
}

/** Starts the keeper in the current scope. */
export const make = Effect.fnUntraced(function*(
  repository: LogRepositoryShape,
  config: LeaseConfig
): Effect.fn.Return<LeaseKeeper, never, Scope.Scope> {
  const owner = config.owner
  // Whether this stack ever took a lease (else closing writes nothing), and whether renewal runs.
  let leasing = false
  let renewing = false
  // Counts `taken` calls: a lease taken while a renewal that found none was in flight (an
  // asynchronous backend answers later) keeps the renewal running.
  let takes = 0
  let start = Deferred.makeUnsafe<void>()
  let lastRenewedAt: number | undefined

  /** Renews every lease of this stack; ends the renewal when none is left. */
  const renew = Effect.gen(function*() {
    const now = yield* Clock.currentTimeMillis
    const takesBefore = takes
    const renewed = yield* repository.renewLeases("LogStore.renewLeases", owner, expiryAt(now, config.ttlMs))
    lastRenewedAt = now
    if (renewed === 0 && takes === takesBefore) renewing = false
  }).pipe(Effect.catch((error) => Effect.logWarning(`lease renewal failed (will retry): ${error.message}`)))

  const release = Effect.gen(function*() {
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
      body: () => Effect.andThen(Effect.sleep(Duration.millis(config.renewalMs)), renew),
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
    lastRenewedAt: () => lastRenewedAt
  }
})
