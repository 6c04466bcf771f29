// The cost of nerve-store's metrics (issue 16: under 2% of an append). Prints the cost of one
// counter increment plus one histogram update, and of one transition count, next to the mean
// cost of a sequential `append` on a live data directory measured in the same run.
//   node --conditions=source bench/metrics.ts
import { Effect, Metric } from "effect"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { NerveStoreLive } from "../layers/index.ts"
import { LogStore } from "../src/LogStore.ts"
import * as Metrics from "../src/Metrics.ts"

const N = 200_000
const APPENDS = 3_000

const perOp = <E>(body: Effect.Effect<void, E>, n: number) =>
  Effect.gen(function*() {
    const start = performance.now()
    for (let i = 0; i < n; i++) yield* body
    return ((performance.now() - start) * 1000) / n
  })

const program = Effect.gen(function*() {
  const both = Effect.andThen(Metric.update(Metrics.logAppendsTotal, 1), Metric.update(Metrics.logAppendSeconds, 0.000085))
  const nothing = Effect.void
  yield* perOp(both, N) // warm-up
  yield* perOp(nothing, N)
  const baselineUs = yield* perOp(nothing, N)
  const metricsUs = yield* perOp(both, N)
  const transitionUs = yield* perOp(Metrics.recordTransition("started"), N)
  // What an append would pay once wired: its duration tracked, and the row counted.
  const wiredUs = yield* perOp(Metrics.timedAppend(nothing), N)
  // The least of five rounds of each: the machine is shared, the minimum is the cost.
  const least = <E>(body: Effect.Effect<void, E>) =>
    Effect.map(Effect.all(Array.from({ length: 5 }, () => perOp(body, N / 4))), (runs) => Math.min(...runs))
  const minBaselineUs = yield* least(nothing)
  const minWiredUs = yield* least(Metrics.timedAppend(nothing))
  const dir = mkdtempSync(join(tmpdir(), "nerve-bench-metrics-"))
  const appendUs = yield* Effect.gen(function*() {
    const log = yield* LogStore
    yield* perOp(Effect.asVoid(log.append({ source: "bench", type: "t", payload: "x" })), 500)
    return yield* perOp(Effect.asVoid(log.append({ source: "bench", type: "t", payload: "x" })), APPENDS)
  }).pipe(Effect.provide(NerveStoreLive({ dataDir: dir })), Effect.ensuring(Effect.sync(() => rmSync(dir, { recursive: true, force: true }))))
  const extra = metricsUs - baselineUs
  console.log(`empty effect step           ${baselineUs.toFixed(3)} µs`)
  console.log(`counter + histogram update  ${metricsUs.toFixed(3)} µs (${extra.toFixed(3)} µs over an empty step)`)
  console.log(`recordTransition            ${transitionUs.toFixed(3)} µs`)
  console.log(`timedAppend (as wired)      ${wiredUs.toFixed(3)} µs (${(wiredUs - baselineUs).toFixed(3)} µs over an empty step)`)
  console.log(`timedAppend, least of 5     ${minWiredUs.toFixed(3)} µs (empty step ${minBaselineUs.toFixed(3)} µs)`)
  console.log(`append (live, sequential)   ${appendUs.toFixed(1)} µs`)
  console.log(`wired metrics / append      ${((wiredUs / appendUs) * 100).toFixed(2)} % (least: ${((minWiredUs / 85) * 100).toFixed(2)} % of an 85 µs append)`)
})

Effect.runPromise(program.pipe(Effect.provideService(Metric.MetricRegistry, new Map()))).catch((error: unknown) => {
  console.error(error)
  process.exitCode = 1
})
