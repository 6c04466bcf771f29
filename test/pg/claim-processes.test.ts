// Issue 16 on PostgreSQL across real processes: four daemons claiming queued runs at once on one
// database each get their own runs (FOR UPDATE SKIP LOCKED, then a re-read in a new snapshot).
// No timed assertions: the reports are polled within a generous limit.
import { assert, describe, it } from "@effect/vitest"
import { Effect, Redacted } from "effect"
import { LogStorePg } from "../../layers/index.ts"
import { LogStore } from "../../src/LogStore.ts"
import { claimAtOnce, queuedIds, queueRuns } from "../support/claimers.ts"
import { freshPgDatabase } from "../support/pgDatabase.ts"
import { makeTempDir } from "../support/tempDir.ts"

const database = freshPgDatabase()
const LIMIT_MS = 90_000

describe("claims across processes on PostgreSQL", () => {
  it.live("four processes claiming at once on one database: every queued run is claimed exactly once", () => {
    const goDir = makeTempDir()
    const ids = queuedIds(120)
    return Effect.gen(function*() {
      // Queue the runs, then hand them back (a graceful stop releases the producer's leases).
      yield* Effect.provide(queueRuns(ids), LogStorePg({ url: database.url(), owner: "producer", maxConnections: 2 }))
      const claimed = yield* claimAtOnce({
        goDir,
        owners: ["c1", "c2", "c3", "c4"],
        limit: 3,
        limitMs: LIMIT_MS,
        env: { NERVE_TEST_CLAIM_URL: Redacted.value(database.url()) }
      })
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
