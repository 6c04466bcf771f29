// Issue 16: the SPEC's metrics exist as effect Metrics with the fixed names, exported by the package.
import { assert, describe, it } from "@effect/vitest"
import { Effect, Metric } from "effect"
import { DatabaseError, InvalidInput, Metrics } from "../../src/index.ts"

const SPEC_NAMES = [
  "nerve_log_appends_total",
  "nerve_log_append_seconds",
  "nerve_group_commit_rows",
  "nerve_run_transitions_total",
  "nerve_lock_wait_seconds",
  "nerve_busy_failures_total",
  "nerve_lease_renewals_total",
  "nerve_leases_lost_total",
  "nerve_archive_rows_total",
  "nerve_blob_bytes_written_total",
  "nerve_blob_bytes_read_total",
  "nerve_digest_mismatches_total"
]

describe("the metrics of the SPEC", () => {
  it("every name is there, a histogram for durations and batch sizes and a counter for the rest", () => {
    assert.deepStrictEqual(Object.keys(Metrics.all).sort(), [...SPEC_NAMES].sort())
    for (const [name, metric] of Object.entries(Metrics.all)) {
      assert.strictEqual(metric.id, name)
      const histogram = name.endsWith("_seconds") || name === "nerve_group_commit_rows"
      assert.strictEqual(metric.type, histogram ? "Histogram" : "Counter", name)
      assert.isString(metric.description)
    }
  })

  it.effect("updates are read back from the registry: appends with their duration, transitions by `to`", () =>
    Effect.gen(function*() {
      yield* Metrics.recordAppend(1, 0.000085)
      yield* Metrics.recordAppend(3)
      yield* Metrics.recordTransition("started")
      yield* Metrics.recordTransition("started")
      yield* Metrics.recordTransition("completed")
      yield* Metrics.timedAppend(Effect.void)
      yield* Effect.flip(Metrics.timedAppend(Effect.fail("refused")))
      assert.strictEqual((yield* Metric.value(Metrics.logAppendsTotal)).count, 5, "a failed append is not counted")
      const seconds = yield* Metric.value(Metrics.logAppendSeconds)
      assert.deepStrictEqual([seconds.count, seconds.max], [2, Math.max(0.000085, seconds.max)])
      assert.isAtMost(seconds.min, 0.000085)
      assert.strictEqual((yield* Metric.value(Metrics.runTransitionsTo("started"))).count, 2)
      const snapshot = yield* Metric.snapshot
      const transitions = snapshot.filter((entry) => entry.id === "nerve_run_transitions_total")
      const byTo = Object.fromEntries(transitions.map((entry) => [String(entry.attributes?.to), (entry.state as { count: number }).count]))
      assert.deepStrictEqual(byTo, { started: 2, completed: 1 })
      assert.strictEqual(Metrics.runTransitionsTo("started"), Metrics.runTransitionsTo("started"), "one metric per status")
    }).pipe(Effect.provideService(Metric.MetricRegistry, new Map())))

  it.effect("trackSeconds times an effect whether it succeeds or fails; countBusy counts only busy DatabaseErrors", () =>
    Effect.gen(function*() {
      const waits = Metrics.trackSeconds(Metrics.lockWaitSeconds)
      yield* waits(Effect.void)
      yield* Effect.flip(waits(Effect.fail("x")))
      const state = yield* Metric.value(Metrics.lockWaitSeconds)
      assert.strictEqual(state.count, 2)
      assert.isAtLeast(state.min, 0)
      const busy = new DatabaseError({ operation: "LogStore.append", reason: "busy", code: 5, detail: "held" })
      const full = new DatabaseError({ operation: "LogStore.append", reason: "full", code: 13, detail: "disk" })
      for (const error of [busy, full, new InvalidInput({ field: "f", reason: "r" }), busy]) {
        yield* Effect.flip(Effect.fail(error).pipe(Effect.tapError(Metrics.countBusy)))
      }
      assert.strictEqual((yield* Metric.value(Metrics.busyFailuresTotal)).count, 2)
    }).pipe(Effect.provideService(Metric.MetricRegistry, new Map())))
})
