import { assert, describe, it } from "@effect/vitest"
import { Deferred, Effect, Exit, Fiber } from "effect"
import * as GroupCommit from "../../src/logstore/GroupCommit.ts"

/** A commit function that records every batch it was given. */
const recording = <E = never>(fail: (batch: ReadonlyArray<number>) => E | undefined = () => undefined) => {
  const batches: Array<ReadonlyArray<number>> = []
  const submit = GroupCommit.make((batch: ReadonlyArray<number>) =>
    Effect.suspend(() => {
      batches.push(batch)
      const error = fail(batch)
      return error === undefined ? Effect.succeed(batch.map((n) => n * 10)) : Effect.fail(error)
    })
  )
  return { batches, submit }
}

describe("GroupCommit", () => {
  it.effect("concurrent submitters share one commit, and each gets its own result", () =>
    Effect.gen(function*() {
      const { batches, submit } = recording()
      const results = yield* Effect.forEach([1, 2, 3, 4, 5, 6, 7, 8], submit, { concurrency: "unbounded" })
      assert.deepStrictEqual(results, [10, 20, 30, 40, 50, 60, 70, 80])
      assert.deepStrictEqual(batches, [[1, 2, 3, 4, 5, 6, 7, 8]])
    }))

  it.effect("a lone sequential submitter commits each item at once, without waiting for company", () =>
    Effect.gen(function*() {
      const { batches, submit } = recording()
      for (const n of [1, 2, 3]) assert.strictEqual(yield* submit(n), n * 10)
      assert.deepStrictEqual(batches, [[1], [2], [3]])
      // Company arrives: the next leader gathers it again.
      yield* Effect.forEach([4, 5, 6], submit, { concurrency: "unbounded" })
      assert.deepStrictEqual(batches.slice(3).flat().sort(), [4, 5, 6])
      assert.isTrue(batches.length < 6, "the concurrent items were batched")
    }))

  it.effect("a failed commit fails every submitter of that batch, and the next batch commits", () =>
    Effect.gen(function*() {
      const { batches, submit } = recording((batch) => (batch.includes(2) ? "disk full" : undefined))
      const exits = yield* Effect.forEach([1, 2, 3], (n) => Effect.exit(submit(n)), { concurrency: "unbounded" })
      assert.isTrue(exits.every(Exit.isFailure))
      assert.strictEqual(yield* submit(4), 40)
      assert.deepStrictEqual(batches, [[1, 2, 3], [4]])
    }))

  it.effect("an interrupted follower stops waiting; the others still commit and later submits work", () =>
    Effect.gen(function*() {
      const gate = yield* Deferred.make<void>()
      const batches: Array<ReadonlyArray<number>> = []
      const submit = GroupCommit.make((batch: ReadonlyArray<number>) =>
        Effect.andThen(Deferred.await(gate), Effect.sync(() => {
          batches.push(batch)
          return batch
        }))
      )
      const leader = yield* Effect.forkChild(submit(1))
      yield* Effect.yieldNow
      yield* Effect.yieldNow // the leader is now committing [1], blocked on the gate
      const follower = yield* Effect.forkChild(submit(2))
      const other = yield* Effect.forkChild(submit(3))
      yield* Effect.yieldNow
      yield* Fiber.interrupt(follower)
      yield* Deferred.succeed(gate, undefined)
      assert.strictEqual(yield* Fiber.join(leader), 1)
      assert.strictEqual(yield* Fiber.join(other), 3)
      assert.strictEqual(yield* submit(4), 4)
      assert.deepStrictEqual(batches.flat().sort(), [1, 2, 3, 4])
    }))

  it.effect("interrupting a leader does not strand the submitters queued behind it", () =>
    Effect.gen(function*() {
      const { batches, submit } = recording()
      const fibers = yield* Effect.forEach([1, 2, 3], (n) => Effect.forkChild(submit(n)))
      yield* Effect.yieldNow // all three have submitted; the first leads and is gathering its batch
      yield* Fiber.interrupt(fibers[0]!)
      assert.deepStrictEqual(yield* Fiber.join(fibers[1]!), 20)
      assert.deepStrictEqual(yield* Fiber.join(fibers[2]!), 30)
      assert.strictEqual(yield* submit(4), 40)
      assert.deepStrictEqual(batches.flat().sort(), [1, 2, 3, 4])
    }))
})
