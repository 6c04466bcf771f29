// Claimer processes started at once on one store (test/fixtures/claim-loop.ts), for the tests that
// check every queued run is claimed exactly once across processes: on SQLite
// (test/logstore/lease-processes.test.ts) and on PostgreSQL (test/pg/claim-processes.test.ts).
import { Duration, Effect, type Scope } from "effect"
import { writeFileSync } from "node:fs"
import { join } from "node:path"
import { spawnFixture, waitForExit, waitForLine } from "./child.ts"

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
    const deadline = Date.now() + options.limitMs
    while (!children.every((c) => c.output().includes("{"))) {
      if (Date.now() > deadline) return yield* Effect.die(new Error("gave up waiting for every claimer's report"))
      yield* Effect.sleep(Duration.millis(50))
    }
    return children.map((c) =>
      (JSON.parse(c.output().split("\n").find((line) => line.startsWith("{")) ?? "") as { claimed: Array<string> }).claimed
    )
  })
