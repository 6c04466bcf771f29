// Leases, follow and safe retries across real processes on one data directory: a child daemon
// (test/fixtures/lease-holder.ts) is killed with SIGKILL or stopped with SIGTERM.
import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber, Option, Stream } from "effect"
import { TestClock } from "effect/testing"
import type { ChildProcess } from "node:child_process"
import { join } from "node:path"
import { NerveStoreLive } from "../../layers/index.ts"
import { LogStore } from "../../src/LogStore.ts"
import { spawnFixture, waitForExit, waitForLine } from "../support/child.ts"
import { makeTempDir } from "../support/tempDir.ts"

interface ChildReport {
  readonly boot: string
  readonly other: string
  readonly recovered: ReadonlyArray<string>
}

/** Starts a child daemon holding `runId`; resolves with its report once it is ready. */
const startHolder = (dataDir: string, owner: string, runId: string, otherRunId: string) =>
  Effect.promise(async () => {
    const child = spawnFixture("lease-holder.ts", [dataDir, owner, "60000", runId, otherRunId])
    const exited = waitForExit(child)
    let output = ""
    child.stdout?.on("data", (chunk: Buffer) => {
      output += chunk.toString()
    })
    await waitForLine(child, "ready").catch(async (error: unknown) => {
      throw new Error(`${String(error)}: ${(await exited).stderr}`)
    })
    const report = JSON.parse(output.split("\n")[0] ?? "") as ChildReport
    return { child, exited, report }
  })

const stop = (child: ChildProcess, exited: Promise<unknown>, signal: NodeJS.Signals) =>
  Effect.promise(() => {
    child.kill(signal)
    return exited
  })

const started = (runId: string) =>
  [{ source: "workflow", type: "started" }, { runId, workflow: "w", status: "started" as const }] as const

describe("two daemons in two processes on one data directory", () => {
  it.effect("neither can move or recover the other's live run; after a SIGKILL the run is recovered only once its lease expired", () => {
    const dataDir = makeTempDir()
    return Effect.gen(function*() {
      yield* TestClock.setTime(Date.now())
      const log = yield* LogStore
      yield* log.transition(...started("parent-run"))

      const { child, exited, report } = yield* startHolder(dataDir, "child", "child-run", "parent-run")
      assert.deepStrictEqual([report.other, report.recovered], ["RunLeased", []])

      const refused = yield* Effect.flip(log.transition({ source: "workflow", type: "completed" }, { runId: "child-run", workflow: "w", status: "completed" }))
      assert.deepStrictEqual(refused._tag === "RunLeased" ? [refused.owner, refused.boot] : refused, ["child", report.boot])
      assert.deepStrictEqual(yield* log.recoverOrphans(), [])

      yield* stop(child, exited, "SIGKILL")
      // The child is dead, but its lease stands until it expires.
      const lease = Option.getOrThrow(yield* log.getLease("child-run"))
      assert.deepStrictEqual(yield* log.recoverOrphans(), [])
      assert.strictEqual(Option.getOrThrow(yield* log.getRun("child-run")).status, "started")

      // Past its expiry by the grace (one renewal interval of this stack, 10 s, in which it could write: issue 16).
      yield* TestClock.setTime(lease.expiresAt + 9_999)
      assert.deepStrictEqual(yield* log.recoverOrphans(), [])
      yield* TestClock.setTime(lease.expiresAt + 10_000)
      const recovered = yield* log.recoverOrphans()
      assert.deepStrictEqual(recovered.map((r) => [r.runId, r.status]), [["child-run", "crashed"]])
      assert.strictEqual(Option.getOrThrow(yield* log.getRun("parent-run")).status, "started")
    }).pipe(Effect.provide(NerveStoreLive({ dataDir, owner: "parent" })))
  })

  it.effect("a graceful stop (SIGTERM) releases the child's leases at once", () => {
    const dataDir = makeTempDir()
    return Effect.gen(function*() {
      yield* TestClock.setTime(Date.now())
      const log = yield* LogStore
      const { child, exited } = yield* startHolder(dataDir, "child", "child-run", "")
      assert.isTrue(Option.isSome(yield* log.getLease("child-run")))
      yield* stop(child, exited, "SIGTERM")
      assert.isTrue(Option.isNone(yield* log.getLease("child-run")))
      const recovered = yield* log.recoverOrphans()
      assert.deepStrictEqual(recovered.map((r) => [r.runId, r.status]), [["child-run", "crashed"]])
    }).pipe(Effect.provide(NerveStoreLive({ dataDir, owner: "parent" })))
  })

  it.live("follow sees the rows another process appends", () => {
    const dataDir = makeTempDir()
    return Effect.gen(function*() {
      const log = yield* LogStore
      const follower = yield* Effect.forkChild(
        Stream.runCollect(log.follow({ source: "child", afterId: 0 }, { pollInterval: "20 millis" }).pipe(Stream.take(300)))
      )
      const child = spawnFixture("append-loop.ts", [join(dataDir, "nerve.db"), "300", "child"])
      const { code, stderr } = yield* Effect.promise(() => waitForExit(child))
      assert.deepStrictEqual([code, stderr], [0, ""])
      const rows = yield* Fiber.join(follower)
      assert.deepStrictEqual(rows.map((r) => r.payload), Array.from({ length: 300 }, (_, i) => `child:${i}`))
    }).pipe(Effect.provide(NerveStoreLive({ dataDir })))
  })
})

describe("restarts", () => {
  it.effect("an idempotency key is remembered across a restart: the repeat writes nothing and returns the first result", () =>
    Effect.gen(function*() {
      const dataDir = makeTempDir()
      const done = [{ source: "workflow", type: "completed" }, { runId: "r", workflow: "w", status: "completed" as const, exitCode: 0 }] as const
      const first = yield* Effect.gen(function*() {
        const log = yield* LogStore
        yield* log.transition(...started("r"))
        return yield* log.transition(...done, { idempotencyKey: "r:completed" })
      }).pipe(Effect.provide(NerveStoreLive({ dataDir, owner: "nerve" })))
      yield* Effect.gen(function*() {
        const log = yield* LogStore
        const rows = yield* Stream.runCount(log.stream())
        assert.deepStrictEqual(yield* log.transition(...done, { idempotencyKey: "r:completed" }), first)
        assert.strictEqual(yield* Stream.runCount(log.stream()), rows)
        assert.deepStrictEqual((yield* log.runHistory("r")).map((h) => h.to), ["started", "completed"])
      }).pipe(Effect.provide(NerveStoreLive({ dataDir, owner: "nerve" })))
    }))
})
