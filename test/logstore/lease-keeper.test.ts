// The lease keeper on the storage seam, with a backend that answers asynchronously: a lease taken
// while a renewal that found no lease is still in flight must keep being renewed (the keeper used
// to stop renewing when that renewal came back with 0, and the new lease then expired under a
// live stack). The repository is SQLite's, its renewal held at a gate to play a slow backend.
import { assert, describe, it } from "@effect/vitest"
import { Deferred, Effect, Layer, Option, Queue, Stream } from "effect"
import { TestClock } from "effect/testing"
import { DatabaseMemory } from "../../layers/index.ts"
import * as LogStoreMake from "../../src/logstore/LogStoreMake.ts"
import { LogRepository } from "../../src/seam/LogRepository.ts"
import * as LogRepositorySqlite from "../../src/sqlite/LogRepositorySqlite.ts"

const config = { owner: { name: "me", boot: "b1" }, ttlMs: 30_000, renewalMs: 10_000 }
const started = (runId: string) => [{ source: "workflow", type: "started" }, { runId, workflow: "w", status: "started" as const }] as const

/** The next renewal's count, once the renewal fiber has run (it runs within a few yields), or a failure. */
const nextRenewal = (renewals: Queue.Queue<number>) =>
  Effect.gen(function*() {
    for (let i = 0; i < 1_000; i++) {
      const taken = yield* Queue.poll(renewals)
      if (Option.isSome(taken)) return taken.value
      yield* Effect.yieldNow
    }
    return yield* Effect.fail("no renewal ran")
  })

describe("the lease keeper", () => {
  it.effect("a lease taken while a renewal that found none is in flight is still renewed", () =>
    Effect.gen(function*() {
      const real = yield* LogRepository
      const renewals = yield* Queue.unbounded<number>()
      let gate: Deferred.Deferred<void> | undefined
      const slow = {
        ...real,
        renewLeases: (operation: string, owner: typeof config.owner, expiresAt: number) =>
          Effect.tap(real.renewLeases(operation, owner, expiresAt), (renewed) =>
            Effect.andThen(Queue.offer(renewals, renewed), gate === undefined ? Effect.void : Deferred.await(gate)))
      }
      const log = yield* LogStoreMake.make(slow, config)

      yield* log.transition(...started("r1"))
      yield* log.transition({ source: "workflow", type: "completed" }, { runId: "r1", workflow: "w", status: "completed" })
      gate = yield* Deferred.make<void>()
      yield* Effect.yieldNow
      yield* TestClock.adjust("10 seconds")
      // The renewal found no lease and has not answered yet: take one meanwhile.
      assert.strictEqual(yield* nextRenewal(renewals), 0)
      yield* log.transition(...started("r2"))
      const taken = Option.getOrThrow(yield* log.getLease("r2")).expiresAt
      assert.strictEqual(taken, 40_000)
      yield* Deferred.succeed(gate, undefined)
      gate = undefined
      yield* Effect.yieldNow
      yield* TestClock.adjust("10 seconds")
      assert.strictEqual(yield* nextRenewal(renewals), 1)
      assert.strictEqual(Option.getOrThrow(yield* log.getLease("r2")).expiresAt, 50_000)
    }).pipe(Effect.scoped, Effect.provide(LogRepositorySqlite.layer.pipe(Layer.provide(DatabaseMemory)))))

  it.effect("a run whose lease is still this boot's is not reported lost, though the listing missed it", () =>
    Effect.gen(function*() {
      const real = yield* LogRepository
      let racing = false
      // As if a transition of this stack committed between the renewal and the listing: the renewal
      // counted one lease fewer and the listing does not show it, but the lease is this boot's.
      const raced = {
        ...real,
        renewLeases: (operation: string, owner: typeof config.owner, expiresAt: number) =>
          Effect.map(real.renewLeases(operation, owner, expiresAt), (renewed) => racing ? 0 : renewed),
        leases: (operation: string, owner?: string) =>
          Effect.map(real.leases(operation, owner), (leases) => racing ? [] : leases)
      }
      const log = yield* LogStoreMake.make(raced, config)
      const lost = yield* Queue.unbounded<string>()
      yield* Effect.forkScoped(Stream.runForEach(log.leaseLost, (event) => Queue.offer(lost, event.runId)))
      yield* log.transition(...started("r1"))
      racing = true
      yield* Effect.yieldNow
      yield* TestClock.adjust("10 seconds")
      for (let i = 0; i < 200; i++) yield* Effect.yieldNow
      racing = false
      assert.deepStrictEqual(Option.getOrUndefined(yield* Queue.poll(lost)), undefined)
      const done = yield* log.transition({ source: "workflow", type: "completed" }, { runId: "r1", workflow: "w", status: "completed" })
      assert.strictEqual(done.run.status, "completed")
    }).pipe(Effect.scoped, Effect.provide(LogRepositorySqlite.layer.pipe(Layer.provide(DatabaseMemory)))))
})
