/**
 * Lease control of the LogStore (issue 16), on any backend: `leaseLost`, `leases`,
 * `releaseLease` and `claimQueued`. The rules are `domain/Lease.ts`; the backend's guarantees
 * are in the seam (`claimQueued`: each run to exactly one claimer).
 *
 * @since 0.8.0
 */
import { Clock, Effect, Option, Schema, Stream } from "effect"
import { RunLeased } from "../../schema/Errors.ts"
import { NonEmptyText } from "../../schema/Primitives.ts"
import * as Lease from "../domain/Lease.ts"
import { inputDecoder } from "../domain/Validate.ts"
import type { LogStoreShape } from "../LogStore.ts"
import type { LogRepositoryShape } from "../seam/LogRepository.ts"
import type { LeaseConfig } from "./LeaseConfig.ts"
import type { LeaseKeeper } from "./LeaseKeeper.ts"

/** The most runs one `claimQueued` takes. */
export const MAX_CLAIM_LIMIT = 10_000

/** `leases` input: every lease, or the leases of one owner name. */
export const LeasesQuery = Schema.Struct({ owner: Schema.optional(NonEmptyText) })
export type LeasesQuery = typeof LeasesQuery.Type

/** `claimQueued` input: how many queued runs at most, of one workflow or of any. */
export const ClaimQueuedInput = Schema.Struct({
  workflow: Schema.optional(NonEmptyText),
  limit: Schema.Int.pipe(Schema.check(Schema.isBetween({ minimum: 1, maximum: MAX_CLAIM_LIMIT })))
})
export type ClaimQueuedInput = typeof ClaimQueuedInput.Type

const decodeLeasesQuery = inputDecoder(LeasesQuery, "query")
const decodeClaim = inputDecoder(ClaimQueuedInput, "request")
const decodeRunId = inputDecoder(NonEmptyText, "runId")

/** The LogStore members of lease control. */
export type LeaseControl = Pick<LogStoreShape, "leaseLost" | "leases" | "releaseLease" | "claimQueued">

/** Lease control over `repository`, for the stack `config` names, with its keeper. */
export const make = (repository: LogRepositoryShape, config: LeaseConfig, keeper: LeaseKeeper): LeaseControl => {
  const me = config.owner
  return {
    leaseLost: Stream.fromPubSub(keeper.lost),

    leases: Effect.fn("LogStore.leases")(function*(input) {
      const query = yield* decodeLeasesQuery(input ?? {})
      return yield* repository.leases("LogStore.leases", query.owner)
    }),

    releaseLease: Effect.fn("LogStore.releaseLease")(function*(input) {
      const runId = yield* decodeRunId(input)
      yield* Effect.annotateCurrentSpan({ "nerve.run.id": runId })
      yield* repository.transaction(Effect.gen(function*() {
        const lease = yield* repository.getLease("LogStore.releaseLease", runId)
        if (Option.isNone(lease)) return
        const now = yield* Clock.currentTimeMillis
        if (Lease.standing(lease.value, me, now) === "held") {
          const { owner, boot, expiresAt } = lease.value
          return yield* new RunLeased({ runId, owner, boot, expiresAt })
        }
        if (lease.value.owner === me.name && lease.value.boot === me.boot) {
          yield* repository.deleteLease("LogStore.releaseLease", runId, me)
        }
      }))
      keeper.letGo(runId)
    }),

    claimQueued: Effect.fn("LogStore.claimQueued")(function*(input) {
      const request = yield* decodeClaim(input)
      const before = yield* Clock.currentTimeMillis
      const claimed = yield* repository.claimQueued("LogStore.claimQueued", {
        workflow: request.workflow,
        limit: request.limit,
        owner: me,
        terms: (now) => {
          keeper.window.wrote(now, now - before)
          return { expiresAt: Lease.expiryAt(now, config.ttlMs), deadBefore: Lease.deadBefore(now, keeper.window.writable()) }
        }
      }).pipe(Effect.tapError(() => Effect.sync(keeper.window.failed)))
      if (claimed.length > 0) {
        keeper.taken()
        if (!(yield* repository.inTransaction)) for (const run of claimed) keeper.hold(run.runId)
      }
      yield* Effect.annotateCurrentSpan({ "nerve.runs.claimed": claimed.length, "nerve.owner": me.name })
      return claimed
    })
  }
}
