/**
 * Child processes of `bench/pg.ts` (not a benchmark itself: names starting with `_` are skipped).
 *
 *   _pg-child.ts claim <url> <owner> <limit>   prints `ready`, waits for a `go` line on stdin, claims
 *                                              queued runs of workflow `claim` until none is left, prints `{ claimed }`
 *                                              and holds them until killed
 *   _pg-child.ts follow <url> <source>         follows rows of `source`; for each, prints
 *                                              `{ latencyMs }` (now − the row's `sentAt` payload)
 */
import { NodeRuntime } from "@effect/platform-node"
import { Effect, Stream } from "effect"
import { createInterface } from "node:readline"
import { LogStorePg } from "../layers/index.ts"
import { LogStore } from "../src/LogStore.ts"

const [mode = "", url = "", name = "", limit = "10"] = process.argv.slice(2)
const now = () => performance.timeOrigin + performance.now()
const print = (value: unknown) => Effect.sync(() => process.stdout.write(`${typeof value === "string" ? value : JSON.stringify(value)}\n`))

const go = Effect.promise(() =>
  new Promise<void>((resolve) => {
    createInterface({ input: process.stdin }).on("line", (line) => line === "go" && resolve())
  })
)

const claim = Effect.gen(function*() {
  const log = yield* LogStore
  yield* print("ready")
  yield* go
  const claimed: Array<string> = []
  // A claim can come back empty while runs are left (its locked rows were leased by a claimer
  // that committed first): stop only after three empty claims in a row.
  for (let empty = 0; empty < 3;) {
    const runs = yield* log.claimQueued({ workflow: "claim", limit: Number(limit) })
    if (runs.length === 0) {
      empty++
      yield* Effect.sleep("5 millis")
    } else empty = 0
    claimed.push(...runs.map((run) => run.runId))
  }
  yield* print({ claimed })
  // Hold the leases until killed: a stack that stops releases them, and a claimer still claiming
  // would take those runs again (a second claim, but not of a run anyone holds).
  return yield* Effect.never
}).pipe(Effect.provide(LogStorePg({ url, owner: name, maxConnections: 2 })))

const follow = Effect.gen(function*() {
  const log = yield* LogStore
  yield* log.follow({ source: name }, { pollInterval: "1 second" }).pipe(
    Stream.runForEach((row) => print({ latencyMs: now() - Number(JSON.parse(row.payload ?? "{}").sentAt) }))
  )
}).pipe(Effect.provide(LogStorePg({ url, maxConnections: 2 })))

NodeRuntime.runMain(mode === "claim" ? claim : follow)
