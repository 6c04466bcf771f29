// Claimer processes started at once on one store (test/fixtures/claim-loop.ts), for the tests that
// check every queued run is claimed exactly once across processes: on SQLite
// (test/logstore/lease-processes.test.ts) and on PostgreSQL (test/pg/claim-processes.test.ts).
import { Effect, type Scope } from "effect"
import { writeFileSync } from "node:fs"
import { join } from "node:path"
import { LogStore } from "../../src/LogStore.ts"
import { spawnFixture, waitForExit, waitForLine } from "./child.ts"
import { pollFor } from "./poll.ts"

/** The ids of `count` runs to queue: `q000`, `q001`, … (sorted as strings). */
export const queuedIds = (count: number): ReadonlyArray<string> => Array.from({ length: count }, (_, i) => `q${String(i).padStart(3, "0")}`)

/**
 * Queues each run of `ids` (workflow `w`). Provide it with a layer of its own: the graceful stop
 * when that layer closes hands the runs back (releases the producer's leases).
 */
export const queueRuns = (ids: ReadonlyArray<string>) =>
  LogStore.use((log) =>
    Effect.forEach(ids, (runId) => log.transition({ source: "workflow", type: "queued" }, { runId, workflow: "w", status: "queued" }), { discard: true })
  )

/**
 * Spawns test/fixtures/claim-loop.ts once per owner (claiming `limit` runs at a time) on the SQLite
 * data directory `goDir`, or on the PostgreSQL database at `env.NERVE_TEST_CLAIM_URL` when that is
 * set. Once every claimer is built and waiting, `<goDir>/go` starts them all at once. Returns the
 * run ids each one claimed, in the order of `owners`; the claimers hold their runs until the scope
 * closes, which kills them. The reports are polled within `limitMs` (no timing is asserted).
 */
export const claimAtOnce = (options: {
  readonly goDir: string
  readonly owners: ReadonlyArray<string>
  readonly limit: number
  readonly limitMs: number
  readonly env?: NodeJS.ProcessEnv
}): Effect.Effect<ReadonlyArray<ReadonlyArray<string>>, never, Scope.Scope> =>
  Effect.gen(function*() {
    const children = options.owners.map((owner) => {
      const child = spawnFixture("claim-loop.ts", [options.goDir, owner, String(options.limit)], options.env)
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
    writeFileSync(join(options.goDir, "go"), "")
    yield* pollFor("every claimer's report", options.limitMs, Effect.sync(() => children.every((c) => c.output().includes("{")) ? true : undefined))
    return children.map((c) =>
      (JSON.parse(c.output().split("\n").find((line) => line.startsWith("{")) ?? "") as { claimed: Array<string> }).claimed
    )
  })
