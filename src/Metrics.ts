/**
 * The metrics of nerve-store (SPEC §Daemon features, second round), as effect `Metric`s with the
 * SPEC's fixed names. They live in the `MetricRegistry` of the running program, so any exporter of
 * effect metrics (the OTLP layer, `Metric.snapshot`) sees them; nothing is recorded until an
 * operation updates them.
 *
 * Durations are in seconds; byte and row totals are plain counters. Each metric is updated with
 * `Metric.update(metric, value)` (an `Effect<void>`), or with the helpers below.
 *
 * @example
 * ```ts
 * import { Effect, Metric } from "effect"
 * import { Metrics } from "@uncaged/nerve-store"
 *
 * const appends = Effect.map(Metric.value(Metrics.logAppendsTotal), (state) => state.count)
 * ```
 *
 * @since 0.8.0
 */
import { type Context, Effect, Metric } from "effect"
import type { DatabaseError } from "../schema/Errors.ts"
import type { WorkflowRunStatus } from "../schema/WorkflowRun.ts"

/** Bucket bounds in seconds for operations of the write path: 50 µs to 10 s. */
export const OPERATION_SECONDS_BOUNDARIES: ReadonlyArray<number> = [
  0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10
]

/** Bucket bounds in seconds for waits on another connection's write lock: 1 ms to 60 s. */
export const LOCK_WAIT_SECONDS_BOUNDARIES: ReadonlyArray<number> = [
  0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60
]

/** Bucket bounds for group-commit batch sizes (rows): powers of two up to 4,096. */
export const GROUP_COMMIT_ROWS_BOUNDARIES: ReadonlyArray<number> = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096]

/** `nerve_log_appends_total`: log rows appended (`append`, `appendMany`, and the rows of transitions and thread messages). */
export const logAppendsTotal = Metric.counter("nerve_log_appends_total", {
  description: "Log rows appended",
  incremental: true
})

/** `nerve_log_append_seconds`: how long one `append` took, from the call to its commit (histogram, seconds). */
export const logAppendSeconds = Metric.histogram("nerve_log_append_seconds", {
  description: "Duration of LogStore.append, call to commit, in seconds",
  boundaries: OPERATION_SECONDS_BOUNDARIES
})

/** `nerve_group_commit_rows`: rows per group-commit transaction (histogram of batch sizes). */
export const groupCommitRows = Metric.histogram("nerve_group_commit_rows", {
  description: "Rows committed together by one group commit",
  boundaries: GROUP_COMMIT_ROWS_BOUNDARIES
})

/** `nerve_run_transitions_total`: accepted run transitions, with the attribute `to` (the new status). */
export const runTransitionsTotal = Metric.counter("nerve_run_transitions_total", {
  description: "Accepted run transitions, by the status moved to (attribute `to`)",
  incremental: true
})

/** `nerve_lock_wait_seconds`: time spent waiting for another connection's write lock (histogram, seconds). */
export const lockWaitSeconds = Metric.histogram("nerve_lock_wait_seconds", {
  description: "Time waited for the SQLite write lock, in seconds",
  boundaries: LOCK_WAIT_SECONDS_BOUNDARIES
})

/** `nerve_busy_failures_total`: operations that failed `busy` (the lock was held past the busy timeout). */
export const busyFailuresTotal = Metric.counter("nerve_busy_failures_total", {
  description: "Operations failed with DatabaseError reason busy",
  incremental: true
})

/** `nerve_lease_renewals_total`: lease renewals written by this process. */
export const leaseRenewalsTotal = Metric.counter("nerve_lease_renewals_total", {
  description: "Lease renewals written",
  incremental: true
})

/** `nerve_leases_lost_total`: leases this process held and lost (each also published on `LogStore.leaseLost`). */
export const leasesLostTotal = Metric.counter("nerve_leases_lost_total", {
  description: "Run leases lost by this process",
  incremental: true
})

/** `nerve_archive_rows_total`: log rows moved from SQLite into day files by `LogArchive.archive`. */
export const archiveRowsTotal = Metric.counter("nerve_archive_rows_total", {
  description: "Log rows archived into day files",
  incremental: true
})

/** `nerve_blob_bytes_written_total`: bytes of blob content written (new or repaired blobs). */
export const blobBytesWrittenTotal = Metric.counter("nerve_blob_bytes_written_total", {
  description: "Blob bytes written",
  incremental: true
})

/** `nerve_blob_bytes_read_total`: bytes of blob content read (`read`, `stream`). */
export const blobBytesReadTotal = Metric.counter("nerve_blob_bytes_read_total", {
  description: "Blob bytes read",
  incremental: true
})

/** `nerve_digest_mismatches_total`: blobs found not to match their digest (each one quarantined). */
export const digestMismatchesTotal = Metric.counter("nerve_digest_mismatches_total", {
  description: "Blobs whose content did not match their digest",
  incremental: true
})

/** Every metric above, by its SPEC name. */
export const all = {
  nerve_log_appends_total: logAppendsTotal,
  nerve_log_append_seconds: logAppendSeconds,
  nerve_group_commit_rows: groupCommitRows,
  nerve_run_transitions_total: runTransitionsTotal,
  nerve_lock_wait_seconds: lockWaitSeconds,
  nerve_busy_failures_total: busyFailuresTotal,
  nerve_lease_renewals_total: leaseRenewalsTotal,
  nerve_leases_lost_total: leasesLostTotal,
  nerve_archive_rows_total: archiveRowsTotal,
  nerve_blob_bytes_written_total: blobBytesWrittenTotal,
  nerve_blob_bytes_read_total: blobBytesReadTotal,
  nerve_digest_mismatches_total: digestMismatchesTotal
} as const

// One counter per status, made once: `withAttributes` on every transition would build a new
// metric each time.
const transitionsTo = new Map<WorkflowRunStatus, Metric.Metric<number, Metric.CounterState<number>>>()

/** `nerve_run_transitions_total` with `to` set to `status`. */
export const runTransitionsTo = (status: WorkflowRunStatus): Metric.Metric<number, Metric.CounterState<number>> => {
  let metric = transitionsTo.get(status)
  if (metric === undefined) {
    metric = Metric.withAttributes(runTransitionsTotal, { to: status })
    transitionsTo.set(status, metric)
  }
  return metric
}

/** Counts one accepted transition to `status`. */
export const recordTransition = (status: WorkflowRunStatus): Effect.Effect<void> => Metric.update(runTransitionsTo(status), 1)

/** Counts `rows` appended rows and, when given, the duration of the append in seconds. */
export const recordAppend = (rows: number, seconds?: number): Effect.Effect<void> =>
  Effect.contextWith((context) =>
    Effect.sync(() => {
      logAppendsTotal.updateUnsafe(rows, context)
      if (seconds !== undefined) logAppendSeconds.updateUnsafe(seconds, context)
    })
  )

/**
 * Wraps one `append`: when it succeeds, counts its row and records its duration (wall-clock
 * seconds, call to commit) in one step; a failed append is not counted.
 *
 * @example
 * ```ts
 * append: Effect.fn("LogStore.append")(function*(input) { ... }, Metrics.timedAppend)
 * ```
 */
export const timedAppend = <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Effect.contextWith((context: Context.Context<never>) => {
    const started = performance.now()
    return Effect.map(self, (value) => {
      logAppendsTotal.updateUnsafe(1, context)
      logAppendSeconds.updateUnsafe((performance.now() - started) / 1000, context)
      return value
    })
  })

/**
 * Records how long `self` runs, in wall-clock seconds, into `histogram` (success or failure).
 * Real time, not the `Clock`: a lock wait under `TestClock` still takes the time it takes.
 *
 * @example
 * ```ts
 * waitForLocks(once, budgetMs).pipe(Metrics.trackSeconds(Metrics.lockWaitSeconds))
 * ```
 */
export const trackSeconds = (histogram: Metric.Metric<number, Metric.HistogramState>) =>
<A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Effect.suspend(() => {
    const started = performance.now()
    return Effect.onExit(self, () => Metric.update(histogram, (performance.now() - started) / 1000))
  })

/**
 * Counts a failure in `nerve_busy_failures_total` when it is a `DatabaseError` with reason
 * `busy` (for `Effect.tapError`).
 */
export const countBusy = (error: unknown): Effect.Effect<void> =>
  typeof error === "object" && error !== null && (error as Partial<DatabaseError>)._tag === "DatabaseError" &&
    (error as DatabaseError).reason === "busy"
    ? Metric.update(busyFailuresTotal, 1)
    : Effect.void

/** Counts `rows` log rows moved into day files (`nerve_archive_rows_total`). */
export const recordArchivedRows = (rows: number): Effect.Effect<void> => Metric.update(archiveRowsTotal, rows)

/** Counts `bytes` of blob content written (`nerve_blob_bytes_written_total`). */
export const recordBlobWritten = (bytes: number): Effect.Effect<void> => Metric.update(blobBytesWrittenTotal, bytes)

/** Counts `bytes` of blob content read (`nerve_blob_bytes_read_total`). */
export const recordBlobRead = (bytes: number): Effect.Effect<void> => Metric.update(blobBytesReadTotal, bytes)

/** Counts one blob found not to match its digest (`nerve_digest_mismatches_total`). */
export const recordDigestMismatch: Effect.Effect<void> = Metric.update(digestMismatchesTotal, 1)
