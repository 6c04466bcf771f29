// Issue 16 on PostgreSQL across real processes: four daemons claiming queued runs at once on one
// database each get their own runs (FOR UPDATE SKIP LOCKED, then a re-read in a new snapshot).
// No timed assertions: the reports are polled within a generous limit.
import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect, Redacted } from "effect"
import { writeFileSync } from "node:fs"
import { join } from "node:path"
import { LogStorePg } from "../../layers/index.ts"
import { LogStore } from "../../src/LogStore.ts"
import { spawnFixture, waitForExit, waitForLine } from "../support/child.ts"
import { freshPgDatabase } from "../support/pgDatabase.ts"
import { makeTempDir } from "../support/tempDir.ts"

const database = freshPgDatabase()
const LIMIT_MS = 90_000

describe("claims across processes on PostgreSQL", () => {
  it.live("four processes claiming at once on one database: every queued run is claimed exactly once", () => {
    const goDir = makeTempDir()
    const ids = Array.from({ length: 120 }, (_, i) => `q${String(i).padStart(3, "0")}`)
    return Effect.gen(function*() {
      // Queue the runs, then hand them back (a graceful stop releases the producer's leases).
      yield* Effect.provide(
        Effect.gen(function*() {
          const log = yield* LogStore
          for (const runId of ids) yield* log.transition({ source: "workflow", type: "queued" }, { runId, workflow: "w", status: "queued" })
        }),
        LogStorePg({ url: database.url(), owner: "producer", maxConnections: 2 })
      )
      const env = { NERVE_TEST_CLAIM_URL: Redacted.value(database.url()) }
      const children = ["c1", "c2", "c3", "c4"].map((owner) => {
        const child = spawnFixture("pg-claim-loop.ts", [goDir, owner, "3"], env)
        let output = ""
        child.stdout?.on("data", (chunk: Buffer) => {
          output += chunk.toString()
        })
        return { child, exited: waitForExit(child), output: () => output }
      })
      yield* Effect.addFinalizer(() =>
        Effect.promise(() =>
          Promise.all(children.map((c) => {
            c.child.kill("SIGKILL")
            return c.exited.catch(() => undefined)
          }))
        )
      )
      // Every claimer is built and waiting: then they all start at once, and hold what they claimed.
      yield* Effect.promise(() => Promise.all(children.map((c) => waitForLine(c.child, "waiting"))))
      writeFileSync(join(goDir, "go"), "")
      const deadline = Date.now() + LIMIT_MS
      while (!children.every((c) => c.output().includes("{"))) {
        if (Date.now() > deadline) return yield* Effect.die(new Error("gave up waiting for every claimer's report"))
        yield* Effect.sleep(Duration.millis(50))
      }
      const claimed = children.map((c) =>
        (JSON.parse(c.output().split("\n").find((line) => line.startsWith("{")) ?? "") as { claimed: Array<string> }).claimed
      )
      const all = claimed.flat()
      assert.strictEqual(all.length, ids.length, "no run claimed twice")
      assert.deepStrictEqual([...all].sort(), ids)
      // Every lease is its claimer's: one row per run, of the process that reported it.
      const leases = yield* Effect.provide(
        LogStore.use((log) => log.leases()),
        LogStorePg({ url: database.url(), maxConnections: 1 })
      )
      const owners = new Map(leases.map((lease) => [lease.runId, lease.owner]))
      claimed.forEach((runs, i) => {
        for (const runId of runs) assert.strictEqual(owners.get(runId), `c${i + 1}`)
      })
    }).pipe(Effect.scoped)
  }, 180_000)
})
