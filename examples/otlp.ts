/**
 * Exporting nerve-store's metrics and spans with effect's OTLP layer (issue 16): provide
 * `Otlp.layer` beside the store, and every `nerve_*` metric (`Metrics` in the package) and every
 * `LogStore.*` / `LogArchive.*` / `BlobStore.*` span goes to the collector at `baseUrl` (its
 * `/v1/metrics` and `/v1/traces`). Type-checked by `npm run typecheck`; not run by the tests (it
 * needs a collector).
 *
 * Run it against a local collector:
 *   node --conditions=source examples/otlp.ts --data-dir ./data --otlp http://localhost:4318
 */
import { NodeRuntime } from "@effect/platform-node"
import { Effect, Layer } from "effect"
import { FetchHttpClient } from "effect/http"
import { Otlp, OtlpSerialization } from "effect/observability"
import { LogStore } from "@uncaged/nerve-store"
import { NerveStoreLive } from "@uncaged/nerve-store/layers"

/** The OTLP exporter: metrics every 10 seconds, spans in batches, over HTTP with JSON bodies. */
export const Telemetry = (baseUrl: string) =>
  Otlp.layer({
    baseUrl,
    resource: { serviceName: "nerve-daemon" },
    metricsExportInterval: "10 seconds"
  }).pipe(Layer.provide([FetchHttpClient.layer, OtlpSerialization.layerJson]))

/** A little work whose metrics (`nerve_log_appends_total`, `nerve_run_transitions_total`, …) and spans are exported. */
export const work = Effect.gen(function*() {
  const log = yield* LogStore
  yield* log.transition({ source: "workflow", type: "started" }, { runId: "otlp-demo", workflow: "demo", status: "started" })
  yield* log.append({ source: "demo", type: "hello", refId: "otlp-demo" })
  yield* log.transition({ source: "workflow", type: "completed" }, { runId: "otlp-demo", workflow: "demo", status: "completed", exitCode: 0 })
  return yield* log.countRuns()
})

/** The program: the store and the exporter side by side (the exporter flushes when the program ends). */
export const program = (dataDir: string, baseUrl: string) =>
  work.pipe(Effect.provide(Layer.mergeAll(NerveStoreLive({ dataDir }), Telemetry(baseUrl))))

const arg = (name: string): string | undefined => {
  const index = process.argv.indexOf(name)
  return index === -1 ? undefined : process.argv[index + 1]
}

if (import.meta.main) {
  const dataDir = arg("--data-dir") ?? "./data"
  const baseUrl = arg("--otlp") ?? "http://localhost:4318"
  NodeRuntime.runMain(program(dataDir, baseUrl).pipe(Effect.flatMap((counts) => Effect.log("runs by status", counts))))
}
