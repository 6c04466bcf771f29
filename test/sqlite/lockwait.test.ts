// Waiting for another connection's lock must not block the event loop (issue 11, bug 9): the
// other connection here lives in this very process, so a wait inside the synchronous node:sqlite
// call would also stop the fiber that releases the lock.
import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber, Layer } from "effect"
import { TestClock } from "effect/testing"
import { DatabaseSync } from "node:sqlite"
import { join } from "node:path"
import { LogStore } from "../../src/LogStore.ts"
import * as LogStoreSqlite from "../../src/logstore/LogStoreSqlite.ts"
import * as Database from "../../src/sqlite/Database.ts"
import { makeTempDir } from "../support/tempDir.ts"

const stack = (filename: string, busyTimeoutMs: number) =>
  Layer.provideMerge(LogStoreSqlite.layer, Database.layer({ filename, busyTimeoutMs }))

/** A second connection in this process that holds the write lock until `release`. */
const holdWriteLock = (filename: string) => {
  const other = new DatabaseSync(filename)
  other.exec("BEGIN IMMEDIATE; INSERT INTO meta (key, value) VALUES ('held', 'yes')")
  return {
    release: () => other.isTransaction && other.exec("COMMIT"),
    close: () => {
      if (!other.isOpen) return
      if (other.isTransaction) other.exec("ROLLBACK")
      other.close()
    }
  }
}

/** A fiber that counts its 5 ms sleeps: it only counts while the event loop is free. */
const ticker = Effect.gen(function*() {
  let ticks = 0
  const fiber = yield* Effect.forkChild(Effect.forever(Effect.andThen(Effect.sleep("5 millis"), Effect.sync(() => ticks++))))
  return { ticks: () => ticks, fiber }
})

describe("waiting for another connection's lock", () => {
  it.live("appends wait for the lock without blocking the event loop, and commit once it is released", () =>
    Effect.gen(function*() {
      const filename = join(makeTempDir(), "nerve.db")
      yield* Effect.gen(function*() {
        const log = yield* LogStore
        const lock = holdWriteLock(filename)
        yield* Effect.addFinalizer(() => Effect.sync(lock.close))
        const clock = yield* ticker
        // The release is itself a fiber of this process: it can only run if the waits yield.
        let ticksAtRelease = -1
        const releaser = yield* Effect.forkChild(Effect.andThen(
          Effect.sleep("1 second"),
          Effect.sync(() => {
            ticksAtRelease = clock.ticks()
            lock.release()
          })
        ))
        const [single, many, moved] = yield* Effect.all([
          log.append({ source: "s", type: "single" }),
          log.appendMany([{ source: "s", type: "many" }, { source: "s", type: "many" }]),
          log.transition({ source: "workflow", type: "started" }, { runId: "r", workflow: "w", status: "started" })
        ], { concurrency: "unbounded" })
        yield* Fiber.join(releaser)
        yield* Fiber.interrupt(clock.fiber)
        assert.isAtLeast(ticksAtRelease, 20, "other fibers kept running while the appends waited")
        assert.strictEqual(single.type, "single")
        assert.strictEqual(many.length, 2)
        assert.strictEqual(moved.run.status, "started")
        assert.strictEqual((yield* log.query()).length, 4)
      }).pipe(Effect.provide(stack(filename, 20_000)), Effect.scoped)
    }))

  it.live("a lock held past the busy timeout fails 'busy', naming the operation, and nothing is written", () =>
    Effect.gen(function*() {
      const filename = join(makeTempDir(), "nerve.db")
      yield* Effect.gen(function*() {
        const log = yield* LogStore
        const lock = holdWriteLock(filename)
        yield* Effect.addFinalizer(() => Effect.sync(lock.close))
        const clock = yield* ticker
        const single = yield* Effect.flip(log.append({ source: "s", type: "t" }))
        const many = yield* Effect.flip(log.appendMany([{ source: "s", type: "t" }]))
        assert.isAbove(clock.ticks(), 0, "the wait let other fibers run")
        for (const error of [single, many]) {
          assert.strictEqual(error._tag, "DatabaseError")
          if (error._tag !== "DatabaseError") continue
          assert.strictEqual(error.reason, "busy")
          assert.strictEqual(error.code, 5)
          assert.isTrue(error.isRetryable)
          assert.include(error.detail, "busy timeout (300 ms)")
        }
        assert.match(single._tag === "DatabaseError" ? single.operation : "", /append/)
        assert.match(many._tag === "DatabaseError" ? many.operation : "", /appendMany/)
        lock.close()
        assert.strictEqual((yield* log.query()).length, 0)
      }).pipe(Effect.provide(stack(filename, 300)), Effect.scoped)
    }))

  it.effect("the wait runs on the Effect Clock: TestClock decides when the busy timeout is spent", () =>
    Effect.gen(function*() {
      const filename = join(makeTempDir(), "nerve.db")
      yield* Effect.gen(function*() {
        const log = yield* LogStore
        const lock = holdWriteLock(filename)
        yield* Effect.addFinalizer(() => Effect.sync(lock.close))
        const append = yield* Effect.forkChild(Effect.flip(log.append({ source: "s", type: "t" })))
        yield* TestClock.adjust("59 seconds")
        assert.isUndefined(append.pollUnsafe(), "still waiting before the minute is up")
        yield* TestClock.adjust("2 seconds")
        const error = yield* Fiber.join(append)
        assert.strictEqual(error._tag === "DatabaseError" ? error.reason : error._tag, "busy")
      }).pipe(Effect.provide(stack(filename, 60_000)), Effect.scoped)
    }))
})
