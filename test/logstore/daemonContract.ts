// What a daemon needs from the LogStore (issue 8): leases, safe retries, paged runs, follow,
// thread writing. One contract suite, run on the live stack (a data directory) and on the
// in-memory stack (daemon.test.ts), and on PostgreSQL (test/pg/daemon-contract.test.ts); several
// stacks of one suite share one store, as daemons share a data dir.
import { assert, describe, it } from "@effect/vitest"
import { Clock, Effect, Exit, Fiber, Layer, Option, Stream } from "effect"
import { TestClock } from "effect/testing"
import {
  RUN_STARTED_TYPE,
  THREAD_EVENT_TYPE,
  THREAD_MESSAGE_TYPE,
  WORKFLOW_SOURCE
} from "../../src/index.ts"
import type { LogStoreOptions } from "../../layers/index.ts"
import type { LogStoreShape } from "../../src/LogStore.ts"
import { openStack, type SharedStore } from "../support/stacks.ts"

const wf = (type: string) => ({ source: "workflow", type })
const start = (runId: string, status: "started" | "queued" = "started") => [wf(status), { runId, workflow: "w", status }] as const

const rowCount = (log: LogStoreShape) => Stream.runCount(log.stream())

/** Checks `stored` until it holds, pausing 5 ms of real time between checks (at most ~30 s). */
const untilStored = <E>(stored: Effect.Effect<boolean, E>, polls?: number) =>
  Effect.gen(function*() {
    for (let i = 0; i < (polls ?? 6000); i++) {
      if (yield* stored) return true
      yield* Effect.promise(() => new Promise<void>((resolve) => setTimeout(resolve, 5)))
    }
    if (polls !== undefined) return false
    return yield* Effect.die("the renewal was never stored")
  })

export const daemonContract = (name: string, sharedStore: () => SharedStore) =>
  describe(`LogStore daemon features: ${name}`, () => {
    describe("leases", () => {
      it.effect("a run another live stack holds cannot be moved: RunLeased names the holder, nothing is written", () =>
        Effect.gen(function*() {
          const stack = yield* sharedStore()
          const a = yield* openStack(stack({ owner: "daemon-a", leaseTtl: "30 seconds" }))
          const b = yield* openStack(stack({ owner: "daemon-b" }))
          yield* TestClock.setTime(1_000)
          yield* a.log.transition(...start("r"))
          const before = yield* rowCount(b.log)
          const error = yield* Effect.flip(b.log.transition(wf("completed"), { runId: "r", workflow: "w", status: "completed" }))
          assert.deepStrictEqual(
            error._tag === "RunLeased" ? [error.runId, error.owner, error.boot, error.expiresAt] : error,
            ["r", "daemon-a", a.log.owner.boot, 31_000]
          )
          assert.strictEqual(yield* rowCount(b.log), before)
          // Reads need no owner.
          assert.strictEqual(Option.getOrThrow(yield* b.log.getRun("r")).status, "started")
          assert.deepStrictEqual((yield* b.log.runHistory("r")).map((h) => h.to), ["started"])
          assert.deepStrictEqual(yield* b.log.recoverOrphans({ includeQueued: true }), [])
          // The holder still moves it.
          yield* a.log.transition(wf("completed"), { runId: "r", workflow: "w", status: "completed", exitCode: 0 })
        }).pipe(Effect.scoped))

      it.effect("a live stack renews its leases, so another stack never sees them expire", () =>
        Effect.gen(function*() {
          const stack = yield* sharedStore()
          const a = yield* openStack(stack({ owner: "daemon-a", leaseTtl: "30 seconds", leaseRenewal: "10 seconds" }))
          const b = yield* openStack(stack({ owner: "daemon-b" }))
          yield* a.log.transition(...start("r"))
          const first = Option.getOrThrow(yield* b.log.getLease("r")).expiresAt
          // One renewal period at a time: on an asynchronous backend (PostgreSQL) a renewal's
          // write lands after the clock moved on, so wait (on the real clock) until it is stored.
          // Its commit can be seen before the keeper has its answer and sleeps again; a sleep begun
          // after the clock moved waits for the next move, so the clock is nudged on (the lease, seen
          // from the other stack, must never have expired meanwhile).
          for (let step = 1; step <= 30; step++) {
            yield* TestClock.adjust("10 seconds")
            for (let nudge = 0; ; nudge++) {
              const now = yield* Clock.currentTimeMillis
              const expiresAt = Option.getOrThrow(yield* b.log.getLease("r")).expiresAt
              assert.isAbove(expiresAt, now, "the lease was seen expired")
              const renewed = yield* untilStored(Effect.map(b.log.getLease("r"), (lease) => Option.getOrThrow(lease).expiresAt >= now + 30_000), 400)
              if (renewed) break
              assert.isBelow(nudge, 10, "the renewal was never stored")
              yield* TestClock.adjust("10 seconds")
            }
          }
          const renewed = Option.getOrThrow(yield* b.log.getLease("r"))
          assert.isAbove(renewed.expiresAt, first)
          assert.isAbove(renewed.expiresAt, 5 * 60_000)
          assert.deepStrictEqual(yield* b.log.recoverOrphans(), [])
          const error = yield* Effect.flip(b.log.transition(wf("failed"), { runId: "r", workflow: "w", status: "failed" }))
          assert.strictEqual(error._tag, "RunLeased")
        }).pipe(Effect.scoped))

      it.effect("a stack that stopped renewing loses its runs once the lease expires, not before", () =>
        Effect.gen(function*() {
          const stack = yield* sharedStore()
          // Its own frozen clock: its renewal fiber never wakes, as if the process hung or died.
          const a = yield* openStack(stack({ owner: "daemon-a", leaseTtl: "30 seconds" }).pipe(Layer.provide(TestClock.layer())))
          const b = yield* openStack(stack({ owner: "daemon-b" }))
          yield* a.log.transition(...start("s"))
          yield* a.log.transition(...start("q", "queued"))
          yield* TestClock.adjust("29 seconds")
          assert.deepStrictEqual(yield* b.log.recoverOrphans({ includeQueued: true }), [])
          yield* TestClock.adjust("1 second")
          // Expired, but within its grace: one renewal interval of b (10 s) that b could write in (issue 16).
          assert.deepStrictEqual(yield* b.log.recoverOrphans({ includeQueued: true }), [])
          yield* TestClock.adjust("10 seconds")
          const recovered = yield* b.log.recoverOrphans({ includeQueued: true, source: "daemon-b", timestamp: 77 })
          assert.deepStrictEqual(recovered.map((r) => [r.runId, r.status, r.timestamp]), [["s", "crashed", 77], ["q", "interrupted", 77]])
          assert.deepStrictEqual((yield* b.log.query({ source: "daemon-b" })).map((e) => [e.type, e.refId]), [["crashed", "s"], ["interrupted", "q"]])
          assert.deepStrictEqual((yield* b.log.runHistory("s")).map((h) => h.to), ["started", "crashed"])
          assert.isTrue(Option.isNone(yield* b.log.getLease("s")))
          // The recovering stack may now respawn it, and then holds it.
          yield* b.log.transition(...start("s"))
          const error = yield* Effect.flip(a.log.transition(wf("completed"), { runId: "s", workflow: "w", status: "completed" }))
          assert.deepStrictEqual(error._tag === "RunLeased" ? error.owner : error, "daemon-b")
        }).pipe(Effect.scoped))

      it.effect("recoverOrphans takes only started runs unless includeQueued, and returns nothing twice", () =>
        Effect.gen(function*() {
          const stack = yield* sharedStore()
          const a = yield* openStack(stack({ owner: "daemon-a" }))
          yield* a.log.transition(...start("s"))
          yield* a.log.transition(...start("q", "queued"))
          yield* a.close
          const b = yield* openStack(stack({ owner: "daemon-b" }))
          assert.deepStrictEqual((yield* b.log.markOrphansCrashed()).map((r) => [r.runId, r.status]), [["s", "crashed"]])
          assert.strictEqual(Option.getOrThrow(yield* b.log.getRun("q")).status, "queued")
          assert.deepStrictEqual((yield* b.log.recoverOrphans({ includeQueued: true })).map((r) => [r.runId, r.status]), [["q", "interrupted"]])
          assert.deepStrictEqual(yield* b.log.recoverOrphans({ includeQueued: true }), [])
        }).pipe(Effect.scoped))

      it.effect("a graceful close releases the stack's leases at once", () =>
        Effect.gen(function*() {
          const stack = yield* sharedStore()
          const a = yield* openStack(stack({ owner: "daemon-a", leaseTtl: "1 hour" }))
          const b = yield* openStack(stack({ owner: "daemon-b" }))
          yield* a.log.transition(...start("r"))
          assert.isTrue(Option.isSome(yield* b.log.getLease("r")))
          yield* a.close
          assert.isTrue(Option.isNone(yield* b.log.getLease("r")))
          assert.deepStrictEqual((yield* b.log.recoverOrphans()).map((r) => [r.runId, r.status]), [["r", "crashed"]])
        }).pipe(Effect.scoped))

      it.effect("the same owner name's next boot takes over its earlier boot's runs at once; other names wait", () =>
        Effect.gen(function*() {
          const stack = yield* sharedStore()
          const earlier = yield* openStack(stack({ owner: "nerve", leaseTtl: "1 hour" }).pipe(Layer.provide(TestClock.layer())))
          yield* earlier.log.transition(...start("r1"))
          yield* earlier.log.transition(...start("r2"))
          const other = yield* openStack(stack({ owner: "someone-else" }))
          assert.deepStrictEqual(yield* other.log.recoverOrphans(), [])
          // While the earlier boot may still renew (two of its renewal intervals, 20 minutes each), the name is in use (issue 16)...
          const inUse = yield* Effect.flip(openStack(stack({ owner: "nerve" })))
          assert.deepStrictEqual(inUse._tag === "OwnerInUse" ? [inUse.owner, inUse.boot] : inUse, ["nerve", earlier.log.owner.boot])
          // ...and once it stopped renewing, a new boot takes over.
          yield* TestClock.adjust("41 minutes")
          const next = yield* openStack(stack({ owner: "nerve" }))
          assert.notStrictEqual(next.log.owner.boot, earlier.log.owner.boot)
          // It may move a run of its earlier boot directly...
          yield* next.log.transition(wf("completed"), { runId: "r2", workflow: "w", status: "completed", exitCode: 0 })
          // ...and recovers the rest without waiting for the hour to pass.
          assert.deepStrictEqual((yield* next.log.recoverOrphans()).map((r) => [r.runId, r.status]), [["r1", "crashed"]])
        }).pipe(Effect.scoped))

      it.effect("a status that ends ownership releases the lease; a respawn takes it again", () =>
        Effect.gen(function*() {
          const stack = yield* sharedStore()
          const a = yield* openStack(stack({ owner: "daemon-a" }))
          const b = yield* openStack(stack({ owner: "daemon-b" }))
          yield* a.log.transition(...start("r"))
          yield* a.log.transition(wf("interrupted"), { runId: "r", workflow: "w", status: "interrupted" })
          assert.isTrue(Option.isNone(yield* a.log.getLease("r")))
          yield* b.log.transition(...start("r"))
          assert.deepStrictEqual(Option.map(yield* a.log.getLease("r"), (l) => l.owner), Option.some("daemon-b"))
          const error = yield* Effect.flip(a.log.transition(wf("killed"), { runId: "r", workflow: "w", status: "killed" }))
          assert.strictEqual(error._tag, "RunLeased")
        }).pipe(Effect.scoped))

      it.effect("bad lease options fail the layer with InvalidInput naming the option", () =>
        Effect.gen(function*() {
          const stack = yield* sharedStore()
          const cases: ReadonlyArray<[LogStoreOptions, string]> = [
            [{ owner: " " }, "owner"],
            [{ leaseTtl: "soon" as never }, "leaseTtl"],
            [{ leaseTtl: 0 }, "leaseTtl"],
            [{ leaseTtl: "10 seconds", leaseRenewal: "10 seconds" }, "leaseRenewal"]
          ]
          for (const [options, field] of cases) {
            const error = yield* Effect.flip(Effect.scoped(openStack(stack(options))))
            assert.strictEqual(error._tag === "InvalidInput" && error.field, field, JSON.stringify(options))
          }
        }).pipe(Effect.scoped))
    })

    describe("safe retries", () => {
      it.effect("append with a key: a repeat returns the first row and writes nothing; another request is IdempotencyConflict", () =>
        Effect.gen(function*() {
          const { log } = yield* openStack((yield* sharedStore())({}))
          const first = yield* log.append({ source: "s", type: "t", payload: "p" }, { idempotencyKey: "k1" })
          yield* TestClock.adjust("1 minute")
          const again = yield* log.append({ source: "s", type: "t", payload: "p" }, { idempotencyKey: "k1" })
          assert.deepStrictEqual(again, first)
          assert.strictEqual(yield* rowCount(log), 1)
          const conflict = yield* Effect.flip(log.append({ source: "s", type: "t", payload: "other" }, { idempotencyKey: "k1" }))
          assert.deepStrictEqual(conflict._tag === "IdempotencyConflict" ? [conflict.key, conflict.operation] : conflict, ["k1", "LogStore.append"])
          assert.strictEqual(yield* rowCount(log), 1)
          // No key: every call appends.
          yield* log.append({ source: "s", type: "t", payload: "p" })
          yield* log.append({ source: "s", type: "t", payload: "p" })
          assert.strictEqual(yield* rowCount(log), 3)
          const bad = yield* Effect.flip(log.append({ source: "s", type: "t" }, { idempotencyKey: "" }))
          assert.strictEqual(bad._tag === "InvalidInput" && bad.field, "options.idempotencyKey")
        }).pipe(Effect.scoped))

      it.effect("transition with a key: resending `completed` after a crash adds no second row or history record", () =>
        Effect.gen(function*() {
          const { log } = yield* openStack((yield* sharedStore())({}))
          yield* log.transition(...start("r"))
          const done = [wf("completed"), { runId: "r", workflow: "w", status: "completed", exitCode: 0 }] as const
          const first = yield* log.transition(...done, { idempotencyKey: "r:completed" })
          const rows = yield* rowCount(log)
          yield* TestClock.adjust("1 hour")
          const again = yield* log.transition(...done, { idempotencyKey: "r:completed" })
          assert.deepStrictEqual(again, first)
          assert.strictEqual(yield* rowCount(log), rows)
          assert.deepStrictEqual((yield* log.runHistory("r")).map((h) => h.to), ["started", "completed"])
          // The same key for another request, or for another operation, is refused.
          const otherCode = yield* Effect.flip(log.transition(wf("completed"), { runId: "r", workflow: "w", status: "completed", exitCode: 1 }, { idempotencyKey: "r:completed" }))
          assert.strictEqual(otherCode._tag, "IdempotencyConflict")
          const otherOp = yield* Effect.flip(log.append(wf("completed"), { idempotencyKey: "r:completed" }))
          assert.strictEqual(otherOp._tag, "IdempotencyConflict")
          assert.strictEqual(yield* rowCount(log), rows)
        }).pipe(Effect.scoped))

      it.effect("a failed keyed request stores no key: fixing the request and retrying works", () =>
        Effect.gen(function*() {
          const { log } = yield* openStack((yield* sharedStore())({}))
          const illegal = yield* Effect.flip(log.transition(wf("completed"), { runId: "r", workflow: "w", status: "completed" }, { idempotencyKey: "k" }))
          assert.strictEqual(illegal._tag, "IllegalTransition")
          yield* log.transition(wf("started"), { runId: "r", workflow: "w", status: "started" }, { idempotencyKey: "k2" })
          const ok = yield* log.transition(wf("completed"), { runId: "r", workflow: "w", status: "completed" }, { idempotencyKey: "k" })
          assert.strictEqual(ok.run.status, "completed")
        }).pipe(Effect.scoped))

      it.effect("keys are forgotten after 7 days", () =>
        Effect.gen(function*() {
          const { log } = yield* openStack((yield* sharedStore())({}))
          yield* log.append({ source: "s", type: "t", payload: "a" }, { idempotencyKey: "k" })
          yield* TestClock.adjust("6 days")
          assert.strictEqual((yield* Effect.flip(log.append({ source: "s", type: "t", payload: "b" }, { idempotencyKey: "k" })))._tag, "IdempotencyConflict")
          yield* TestClock.adjust("25 hours")
          const fresh = yield* log.append({ source: "s", type: "t", payload: "b" }, { idempotencyKey: "k" })
          assert.strictEqual(fresh.payload, "b")
          assert.strictEqual(yield* rowCount(log), 2)
        }).pipe(Effect.scoped))

      it.effect("the same key from another stack on the same store replays too", () =>
        Effect.gen(function*() {
          const stack = yield* sharedStore()
          const a = yield* openStack(stack({ owner: "a" }))
          const b = yield* openStack(stack({ owner: "b" }))
          const first = yield* a.log.append({ source: "s", type: "t" }, { idempotencyKey: "shared" })
          assert.deepStrictEqual(yield* b.log.append({ source: "s", type: "t" }, { idempotencyKey: "shared" }), first)
          assert.strictEqual(yield* rowCount(b.log), 1)
        }).pipe(Effect.scoped))
    })

    describe("reads a daemon needs", () => {
      const seedRuns = (log: LogStoreShape, count: number) =>
        log.transaction(Effect.forEach(Array.from({ length: count }, (_, i) => i), (i) =>
          log.transition({ ...wf("started"), timestamp: 1_000 + Math.floor(i / 3) }, {
            runId: `run-${String(i).padStart(5, "0")}`,
            workflow: i % 2 === 0 ? "even" : "odd",
            status: "started"
          }), { discard: true }))

      it.effect("runs pages with a cursor, newest first, every run exactly once, ties broken by run id", () =>
        Effect.gen(function*() {
          const { log } = yield* openStack((yield* sharedStore())({}))
          yield* seedRuns(log, 25)
          const seen: Array<string> = []
          let page = yield* log.runs({ limit: 4 })
          while (page.length > 0) {
            seen.push(...page.map((r) => r.runId))
            page = yield* log.runs({ limit: 4, cursor: page[page.length - 1]! })
          }
          const all = yield* log.runs()
          assert.deepStrictEqual(seen, all.map((r) => r.runId))
          assert.strictEqual(new Set(seen).size, 25)
          assert.deepStrictEqual(seen.slice(0, 4), ["run-00024", "run-00023", "run-00022", "run-00021"])
        }).pipe(Effect.scoped))

      it.effect("runs filters on several statuses at once; an empty status list is InvalidInput", () =>
        Effect.gen(function*() {
          const { log } = yield* openStack((yield* sharedStore())({}))
          yield* seedRuns(log, 4)
          yield* log.transition(wf("crashed"), { runId: "run-00000", workflow: "even", status: "crashed" })
          yield* log.transition(wf("interrupted"), { runId: "run-00001", workflow: "odd", status: "interrupted" })
          yield* log.transition(wf("completed"), { runId: "run-00002", workflow: "even", status: "completed" })
          const resumable = yield* log.runs({ status: ["crashed", "interrupted"] })
          assert.deepStrictEqual(resumable.map((r) => r.runId).sort(), ["run-00000", "run-00001"])
          assert.deepStrictEqual((yield* log.runs({ status: ["crashed", "interrupted"], workflow: "odd" })).map((r) => r.runId), ["run-00001"])
          const error = yield* Effect.flip(log.runs({ status: [] as never }))
          assert.strictEqual(error._tag === "InvalidInput" && error.field, "query.status")
        }).pipe(Effect.scoped))

      it.effect("streamRuns returns every run past the page size and any listing cap, honouring filters and limit", () =>
        Effect.gen(function*() {
          const { log } = yield* openStack((yield* sharedStore())({}))
          yield* seedRuns(log, 2_500)
          const all = yield* Stream.runCollect(log.streamRuns())
          assert.strictEqual(all.length, 2_500)
          assert.strictEqual(new Set(all.map((r) => r.runId)).size, 2_500)
          assert.deepStrictEqual(all.map((r) => r.runId), (yield* log.runs({ limit: 2_500 })).map((r) => r.runId))
          assert.strictEqual(yield* Stream.runCount(log.streamRuns({ workflow: "odd" })), 1_250)
          assert.strictEqual(yield* Stream.runCount(log.streamRuns({ limit: 1_234 })), 1_234)
        }).pipe(Effect.scoped))

      it.effect("follow delivers this stack's own appends at once, without waiting for a poll", () =>
        Effect.gen(function*() {
          const { log } = yield* openStack((yield* sharedStore())({}))
          const old = yield* log.append({ source: "s", type: "before" })
          const follower = yield* Effect.forkChild(
            Stream.runCollect(log.follow({ source: "s", afterId: old.id }, { pollInterval: "1 hour" }).pipe(Stream.take(3)))
          )
          yield* log.append({ source: "other", type: "skipped" })
          yield* log.append({ source: "s", type: "a" })
          yield* log.appendMany([{ source: "s", type: "b" }])
          yield* log.transition({ source: "s", type: "c" }, { runId: "r", workflow: "w", status: "started" })
          const rows = yield* Fiber.join(follower)
          assert.deepStrictEqual(rows.map((r) => r.type), ["a", "b", "c"])
        }).pipe(Effect.scoped))

      it.effect("follow starts after the last row by default and picks up another stack's appends by polling", () =>
        Effect.gen(function*() {
          const stack = yield* sharedStore()
          const a = yield* openStack(stack({}))
          const b = yield* openStack(stack({}))
          yield* a.log.append({ source: "s", type: "old" })
          const follower = yield* Effect.forkChild(
            Stream.runCollect(a.log.follow({}, { pollInterval: "2 seconds" }).pipe(Stream.take(2))),
            { startImmediately: true }
          )
          yield* Effect.yieldNow
          yield* b.log.append({ source: "s", type: "from-b-1" })
          yield* b.log.append({ source: "s", type: "from-b-2" })
          yield* TestClock.adjust("2 seconds")
          const rows = yield* Fiber.join(follower)
          assert.deepStrictEqual(rows.map((r) => r.type), ["from-b-1", "from-b-2"])
        }).pipe(Effect.scoped))

      it.effect("follow ends cleanly when interrupted", () =>
        Effect.gen(function*() {
          const { log } = yield* openStack((yield* sharedStore())({}))
          const follower = yield* Effect.forkChild(Stream.runCollect(log.follow({ afterId: 0 })), { startImmediately: true })
          yield* log.append({ source: "s", type: "t" })
          yield* TestClock.adjust("5 seconds")
          yield* Fiber.interrupt(follower)
          const exit = yield* Fiber.await(follower)
          assert.isTrue(Exit.hasInterrupts(exit))
          // The store is still usable.
          yield* log.append({ source: "s", type: "after" })
        }).pipe(Effect.scoped))

      it.effect("appendThreadMessage writes rows that threadMessages and threadRounds read back", () =>
        Effect.gen(function*() {
          const { log } = yield* openStack((yield* sharedStore())({}))
          yield* TestClock.setTime(5_000)
          yield* log.transition({ source: WORKFLOW_SOURCE, type: RUN_STARTED_TYPE, payload: JSON.stringify({ prompt: "p", maxRounds: 2 }) }, {
            runId: "r",
            workflow: "w",
            status: "started"
          })
          const row = yield* log.appendThreadMessage("r", { role: "user", content: "hi" })
          yield* log.appendThreadMessage("r", { role: "assistant", content: "hello", meta: { model: "m" } })
          assert.deepStrictEqual([row.source, row.type, row.refId], [WORKFLOW_SOURCE, THREAD_MESSAGE_TYPE, "r"])
          assert.deepStrictEqual(yield* log.threadMessages("r"), [
            { role: "user", content: "hi", timestamp: 5_000 },
            { role: "assistant", content: "hello", meta: { model: "m" }, timestamp: 5_000 }
          ])
          assert.deepStrictEqual((yield* log.threadRounds("r")).map((r) => [r.round, r.message.role]), [[2, "assistant"], [1, "user"]])
          assert.strictEqual(yield* log.threadRoundCount("r"), 2)
          assert.strictEqual(THREAD_EVENT_TYPE, "thread_command_event")
          const bad = yield* Effect.flip(log.appendThreadMessage("r", { role: "", content: "x" }))
          assert.strictEqual(bad._tag === "InvalidInput" && bad.field, "message.role")
          const retried = yield* log.appendThreadMessage("r", { role: "user", content: "once" }, { idempotencyKey: "m3" })
          assert.deepStrictEqual(yield* log.appendThreadMessage("r", { role: "user", content: "once" }, { idempotencyKey: "m3" }), retried)
          assert.strictEqual(yield* log.threadRoundCount("r"), 3)
        }).pipe(Effect.scoped))

      it.effect("threadRounds without params returns the newest page of 50", () =>
        Effect.gen(function*() {
          const { log } = yield* openStack((yield* sharedStore())({}))
          // Issue 16: a thread message needs its run (RunNotFound otherwise).
          yield* log.transition({ source: WORKFLOW_SOURCE, type: RUN_STARTED_TYPE }, { runId: "r", workflow: "w", status: "started" })
          yield* log.transaction(Effect.forEach(Array.from({ length: 60 }, (_, i) => i), (i) =>
            log.appendThreadMessage("r", { role: "user", content: `m${i + 1}` }), { discard: true }))
          const page = yield* log.threadRounds("r")
          assert.strictEqual(page.length, 50)
          assert.deepStrictEqual([page[0]!.round, page[49]!.round], [60, 11])
        }).pipe(Effect.scoped))
    })
  })
