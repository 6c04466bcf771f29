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

const perOp = (body: Effect.Effect<void>, n: number) =>
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
  console.log(`append (live, sequential)   ${appendUs.toFixed(1)} µs`)
  console.log(`metrics / append            ${((metricsUs / appendUs) * 100).toFixed(2)} %`)
})

Effect.runPromise(program.pipe(Effect.provideService(Metric.MetricRegistry, new Map()))).catch((error: unknown) => {
  console.error(error)
  process.exitCode = 1
})
