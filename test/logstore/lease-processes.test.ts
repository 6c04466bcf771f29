// Lease safety of issue 16 across real processes on one data directory: a daemon whose renewals
// were held up by another process's write lock keeps its run; one stopped with SIGSTOP past its
// time-to-live is told it lost its runs (leaseLost, then LeaseLost / RunLeased on its writes);
// an owner name a live boot renews cannot be booted twice; concurrent claimers each get their
// own runs. No timed assertions: conditions polled within generous limits.
import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, Layer, Option } from "effect"
import { type ChildProcess, spawn } from "node:child_process"
import { join } from "node:path"
import { NerveStoreLive } from "../../layers/index.ts"
import { LogStore } from "../../src/LogStore.ts"
import { spawnFixture, waitForExit, waitForLine, watchSpawn } from "../support/child.ts"
import { claimAtOnce, queuedIds, queueRuns } from "../support/claimers.ts"
import { pollFor } from "../support/poll.ts"
import { makeTempDir } from "../support/tempDir.ts"

const LIMIT_MS = 60_000

/** A child daemon (test/fixtures/lease-daemon.ts) with a pipe to its stdin and its JSON lines. */
interface Daemon {
  readonly child: ChildProcess
  readonly exited: Promise<{ readonly code: number | null; readonly stderr: string }>
  readonly lines: Array<Record<string, unknown>>
}

const startDaemon = (dataDir: string, owner: string, ttlMs: number, renewalMs: number, runs: ReadonlyArray<string>) =>
  Effect.acquireRelease(
    Effect.sync((): Daemon => {
      const child = watchSpawn(spawn(
        process.execPath,
        ["--conditions=source", join(import.meta.dirname, "..", "fixtures", "lease-daemon.ts"), dataDir, owner, String(ttlMs), String(renewalMs), ...runs],
        { stdio: ["pipe", "pipe", "pipe"] }
      ))
      const lines: Array<Record<string, unknown>> = []
      let buffer = ""
      child.stdout?.on("data", (chunk: Buffer) => {
        buffer += chunk.toString()
        const parts = buffer.split("\n")
        buffer = parts.pop() ?? ""
        for (const part of parts) if (part.startsWith("{")) lines.push(JSON.parse(part) as Record<string, unknown>)
      })
      return { child, exited: waitForExit(child), lines }
    }),
    (daemon) =>
      Effect.promise(() => {
        if (daemon.child.exitCode === null && daemon.child.signalCode === null) {
          daemon.child.kill("SIGCONT")
          daemon.child.kill("SIGKILL")
        }
        return daemon.exited.catch(() => undefined)
      })
  )

/** Polls `check` until it returns a value, within {@link LIMIT_MS}. */
const waitFor = <A, E, R>(what: string, check: Effect.Effect<A | undefined, E, R>): Effect.Effect<A, E, R> => pollFor(what, LIMIT_MS, check)

const lineWhere = (daemon: Daemon, what: string, match: (line: Record<string, unknown>) => boolean) =>
  waitFor(what, Effect.suspend(() => {
    if (daemon.child.exitCode !== null) return Effect.die(new Error(`daemon exited before ${what}`))
    return Effect.succeed(daemon.lines.find(match))
  }))

const ready = (daemon: Daemon) =>
  Effect.andThen(Effect.promise(() => waitForLine(daemon.child, "ready")), lineWhere(daemon, "its boot", (l) => "boot" in l))

const tell = (daemon: Daemon, to: string, runId: string) =>
  Effect.andThen(
    Effect.sync(() => daemon.child.stdin?.write(`${to} ${runId}\n`)),
    lineWhere(daemon, `${to} ${runId}`, (l) => l.runId === runId && l.to === to)
  )

describe("lease safety across processes (issue 16)", () => {
  it.live("a daemon whose renewals a lock held up past its TTL keeps its run: recovery elsewhere leaves it, its completed succeeds", () => {
    const dataDir = makeTempDir()
    return Effect.gen(function*() {
      const log = yield* LogStore
      const x = yield* startDaemon(dataDir, "daemon-x", 1000, 250, ["long-1:started"])
      yield* ready(x)
      assert.deepStrictEqual(yield* log.recoverOrphans(), [])

      const lock = spawnFixture("sqlite-hold-lock.ts", [join(dataDir, "nerve.db")])
      const lockExited = waitForExit(lock)
      yield* Effect.addFinalizer(() =>
        Effect.promise(() => {
          lock.kill("SIGKILL")
          return lockExited.catch(() => undefined)
        })
      )
      yield* Effect.promise(() => waitForLine(lock, "locked"))
      // Reads go on under the lock: wait until X's lease is well past its expiry.
      const lease = Option.getOrThrow(yield* log.getLease("long-1"))
      yield* waitFor("the lease to be long expired", Effect.sync(() => Date.now() > lease.expiresAt + 3_000 ? true : undefined))
      assert.strictEqual(Option.getOrThrow(yield* log.getLease("long-1")).expiresAt, lease.expiresAt, "no renewal got through the lock")
      lock.kill("SIGKILL")
      yield* Effect.promise(() => lockExited)
      const freedAt = Date.now()

      // At once after the lock frees (as the issue saw, 44 ms later): the run stays X's.
      const recovered = yield* log.recoverOrphans({ includeQueued: true })
      assert.deepStrictEqual(recovered.map((r) => r.runId), [])
      // X's renewal goes through, and from then on its lease is alive.
      yield* waitFor("X's renewal", Effect.map(log.getLease("long-1"), (l) => Option.isSome(l) && l.value.expiresAt > freedAt ? true : undefined))
      assert.deepStrictEqual(yield* log.recoverOrphans({ includeQueued: true }), [])
      assert.strictEqual(Option.getOrThrow(yield* log.getRun("long-1")).status, "started")
      const done = yield* tell(x, "completed", "long-1")
      assert.strictEqual(done.result, "ok")
      assert.isFalse(x.lines.some((l) => "lost" in l))
    }).pipe(Effect.scoped, Effect.provide(NerveStoreLive({ dataDir, owner: "daemon-y", leaseTtl: 2000, leaseRenewal: 500 })))
  }, 120_000)

  it.live("a daemon stopped (SIGSTOP) past its TTL is told on resume: leaseLost, then LeaseLost / RunLeased naming the new holder", () => {
    const dataDir = makeTempDir()
    return Effect.gen(function*() {
      const log = yield* LogStore
      const x = yield* startDaemon(dataDir, "daemon-x", 1000, 250, ["run-s:started", "run-q:queued"])
      yield* ready(x)
      assert.deepStrictEqual(yield* log.recoverOrphans(), [])
      x.child.kill("SIGSTOP")
      // Y, writing all along, recovers the started run and claims the queued one once X's leases are dead.
      yield* waitFor("recovery of run-s", Effect.map(log.recoverOrphans(), (runs) => runs.some((r) => r.runId === "run-s") ? true : undefined))
      yield* waitFor("a claim of run-q", Effect.map(log.claimQueued({ limit: 5 }), (runs) => runs.some((r) => r.runId === "run-q") ? true : undefined))
      x.child.kill("SIGCONT")

      const lostS = yield* lineWhere(x, "leaseLost run-s", (l) => l.lost === "run-s")
      const lostQ = yield* lineWhere(x, "leaseLost run-q", (l) => l.lost === "run-q")
      assert.deepStrictEqual([lostS.owner, lostS.newOwner, lostQ.owner, lostQ.newOwner], ["daemon-x", null, "daemon-x", "daemon-y"])
      assert.isAtLeast(Math.max(Number(lostS.lostTotal), Number(lostQ.lostTotal)), 2, "nerve_leases_lost_total counts them")

      const completed = yield* tell(x, "completed", "run-s")
      assert.strictEqual(completed.result, "LeaseLost")
      const started = yield* tell(x, "started", "run-q")
      assert.deepStrictEqual([started.result, started.holder], ["RunLeased", "daemon-y"])
      assert.strictEqual(Option.getOrThrow(yield* log.getRun("run-s")).status, "crashed")
      yield* log.transition({ source: "workflow", type: "started" }, { runId: "run-q", workflow: "w", status: "started" })
    }).pipe(Effect.scoped, Effect.provide(NerveStoreLive({ dataDir, owner: "daemon-y", leaseTtl: 2000, leaseRenewal: 500 })))
  }, 120_000)

  it.live("an owner name a live boot renews cannot be booted again (OwnerInUse), its run untouched; once killed, the name boots at once", () => {
    const dataDir = makeTempDir()
    return Effect.gen(function*() {
      const x = yield* startDaemon(dataDir, "nerve", 60_000, 15_000, ["r:started"])
      const boot = String((yield* ready(x)).boot)
      const built = yield* Effect.exit(Layer.build(NerveStoreLive({ dataDir, owner: "nerve" })).pipe(Effect.scoped))
      assert.isTrue(Exit.isFailure(built))
      const error = Exit.isFailure(built) ? built.cause.reasons.find((r) => r._tag === "Fail") : undefined
      const failure = error?._tag === "Fail" ? error.error : undefined
      assert.deepStrictEqual(failure?._tag === "OwnerInUse" ? [failure.owner, failure.boot] : failure, ["nerve", boot])

      const other = yield* Effect.provide(
        Effect.gen(function*() {
          const log = yield* LogStore
          return {
            recovered: yield* log.recoverOrphans({ includeQueued: true }),
            lease: Option.getOrThrow(yield* log.getLease("r"))
          }
        }),
        NerveStoreLive({ dataDir, owner: "someone-else" })
      )
      assert.deepStrictEqual([other.recovered, other.lease.owner, other.lease.boot], [[], "nerve", boot])
      assert.strictEqual((yield* tell(x, "completed", "r")).result, "ok")
      yield* tell(x, "started", "r2")

      // Killed (-9), it stops renewing: on this host its process is gone, so the name's next boot
      // is built at once and recovers the run at once (its lease still has a minute to run).
      x.child.kill("SIGKILL")
      yield* Effect.promise(() => x.exited)
      const next = yield* Effect.provide(
        Effect.gen(function*() {
          const log = yield* LogStore
          return (yield* log.recoverOrphans()).map((r) => [r.runId, r.status])
        }),
        NerveStoreLive({ dataDir, owner: "nerve" })
      )
      assert.deepStrictEqual(next, [["r2", "crashed"]])
    }).pipe(Effect.scoped)
  }, 120_000)

  it.live("four processes claiming at once on one file: every queued run is claimed exactly once", () => {
    const dataDir = makeTempDir()
    const ids = queuedIds(120)
    return Effect.gen(function*() {
      // Queue the runs, then hand them back (a graceful stop releases the producer's leases).
      yield* Effect.provide(queueRuns(ids), NerveStoreLive({ dataDir, owner: "producer" }))
      const claimed = yield* claimAtOnce({ goDir: dataDir, owners: ["c1", "c2", "c3", "c4"], limit: 3, limitMs: LIMIT_MS })
      const all = claimed.flat()
      assert.strictEqual(all.length, ids.length, "no run claimed twice")
      assert.deepStrictEqual([...all].sort(), ids)
    }).pipe(Effect.scoped)
  }, 120_000)
})
