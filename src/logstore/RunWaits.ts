/**
 * `countRuns`, `waitForRun` and `health` on any backend's repository (SPEC §Daemon features,
 * second round). `waitForRun` shares `follow`'s wake-up signal: this stack's commits wake it at
 * once, other processes' writes are found by polling.
 *
 * @since 0.9.0
 */
import { Deferred, Duration, Effect, Option } from "effect"
import { NonEmptyText } from "../../schema/Primitives.ts"
import { CountRunsQuery, type RunCounts, TERMINAL_STATUSES, WaitForRunOptions } from "../../schema/StoreHealth.ts"
import type { WorkflowRunStatus } from "../../schema/WorkflowRun.ts"
import { inputDecoder } from "../domain/Validate.ts"
import type { LogStoreShape } from "../LogStore.ts"
import type { LogRepositoryShape } from "../seam/LogRepository.ts"
import * as Followers from "./Followers.ts"
import { durationMillis } from "./LeaseConfig.ts"
import type { LeaseKeeper } from "./LeaseKeeper.ts"

const decodeCountQuery = inputDecoder(CountRunsQuery, "query")
const decodeWaitOptions = inputDecoder(WaitForRunOptions, "options")
const decodeRunId = inputDecoder(NonEmptyText, "runId")

/** Every status at 0. */
const NO_RUNS: RunCounts = { queued: 0, started: 0, completed: 0, failed: 0, crashed: 0, interrupted: 0, dropped: 0, killed: 0 }

/** The three operations, as members of the LogStore. */
export const make = (
  repository: LogRepositoryShape,
  followers: Followers.Followers,
  leases: LeaseKeeper
): Pick<LogStoreShape, "countRuns" | "waitForRun" | "health"> => ({
  countRuns: Effect.fn("LogStore.countRuns")(function*(input) {
    const query = yield* decodeCountQuery(input ?? {})
    const counts = yield* repository.countRuns("LogStore.countRuns", query)
    return { ...NO_RUNS, ...counts }
  }),

  waitForRun: Effect.fn("LogStore.waitForRun")(function*(runIdInput, options) {
    const runId = yield* decodeRunId(runIdInput)
    const { statuses } = yield* decodeWaitOptions(options?.statuses === undefined ? {} : { statuses: options.statuses })
    const pollMs = yield* durationMillis(options?.pollInterval, Followers.DEFAULT_FOLLOW_POLL_INTERVAL, "options.pollInterval")
    const wanted: ReadonlySet<WorkflowRunStatus> = new Set(statuses ?? TERMINAL_STATUSES)
    yield* Effect.annotateCurrentSpan({ "nerve.run.id": runId })
    while (true) {
      // Take the signal before reading, so a commit between the read and the wait still wakes us.
      const woken = followers.next()
      const run = yield* repository.getRun("LogStore.waitForRun", runId)
      if (Option.isSome(run) && wanted.has(run.value.status)) return run.value
      yield* Effect.raceFirst(Deferred.await(woken), Effect.sleep(Duration.millis(pollMs)))
    }
  }),

  health: Effect.fn("LogStore.health")(function*() {
    const backend = yield* repository.health("LogStore.health")
    const renewedAt = leases.lastRenewedAt()
    return renewedAt === undefined ? backend : { ...backend, lastLeaseRenewalAt: renewedAt }
  })
})
