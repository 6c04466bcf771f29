// Transitions on PostgreSQL from several stacks (separate pools and owners, as separate daemons
// would be): the run row is locked, so the state machine and the leases hold under contention.
import { assert, describe, it } from "@effect/vitest"
import { Context, Effect, Layer, Option } from "effect"
import { LogStorePg } from "../../layers/index.ts"
import { LogStore } from "../../src/LogStore.ts"
import { freshPgDatabase } from "../support/pgDatabase.ts"

const database = freshPgDatabase()

const stack = (owner: string) => Layer.build(LogStorePg({ url: database.url(), owner, maxConnections: 4 }))

describe("transitions on PostgreSQL under contention", () => {
  it.live("four owners creating the same runs at once: each run is created once and leased to its creator", () =>
    Effect.gen(function*() {
      const stacks = yield* Effect.all(["a", "b", "c", "d"].map(stack))
      const runIds = Array.from({ length: 10 }, (_, i) => `run-${i}`)
      const attempts = stacks.flatMap((context, s) =>
        runIds.map((runId) =>
          LogStore.use((log) =>
            log.transition({ source: "workflow", type: "queued" }, { runId, workflow: "w", status: "queued" })
          ).pipe(
            Effect.map(() => `owner-${s}`),
            Effect.catchTag("RunLeased", () => Effect.succeed("refused")),
            Effect.provide(context)
          )
        )
      )
      const outcomes = yield* Effect.all(attempts, { concurrency: "unbounded" })
      assert.strictEqual(outcomes.filter((outcome) => outcome !== "refused").length, runIds.length)
      const log = Context.get(stacks[0]!, LogStore)
      for (const runId of runIds) {
        const history = yield* log.runHistory(runId)
        assert.deepStrictEqual(history.map((step) => [step.from, step.to]), [[null, "queued"]], runId)
        const lease = Option.getOrThrow(yield* log.getLease(runId))
        const winner = outcomes.findIndex((outcome, i) => outcome !== "refused" && i % runIds.length === runIds.indexOf(runId))
        assert.strictEqual(lease.owner, ["a", "b", "c", "d"][Math.floor(winner / runIds.length)], runId)
      }
      assert.strictEqual((yield* log.query({ type: "queued" })).length, runIds.length)
    }))

  it.live("one owner moving a run through its states from many fibers never writes an illegal step", () =>
    Effect.gen(function*() {
      const context = yield* stack("solo")
      const log = Context.get(context, LogStore)
      yield* log.transition({ source: "workflow", type: "queued" }, { runId: "r", workflow: "w", status: "queued" })
      // 20 fibers race to start the run and 20 to complete it: whatever the order, the history is legal.
      const start = log.transition({ source: "workflow", type: "started" }, { runId: "r", workflow: "w", status: "started" })
      const complete = log.transition({ source: "workflow", type: "completed" }, { runId: "r", workflow: "w", status: "completed", exitCode: 0 })
      yield* Effect.all(
        Array.from({ length: 40 }, (_, i) => Effect.exit(i % 2 === 0 ? start : complete)),
        { concurrency: "unbounded" }
      )
      const history = yield* log.runHistory("r")
      const legal = new Set(["null>queued", "queued>started", "started>started", "queued>completed", "started>completed", "completed>completed"])
      for (const step of history) assert.isTrue(legal.has(`${step.from}>${step.to}`), `${step.from}>${step.to}`)
      for (let i = 1; i < history.length; i++) assert.strictEqual(history[i]!.from, history[i - 1]!.to)
      assert.strictEqual(Option.getOrThrow(yield* log.getRun("r")).status, history[history.length - 1]!.to)
    }))
})
