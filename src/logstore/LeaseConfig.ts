/**
 * The lease settings of one LogStore stack, resolved from the layer options: the owner name, a
 * random boot id, the lease time-to-live and the renewal interval.
 *
 * @since 0.7.0
 */
import { Duration, Effect, Option } from "effect"
import { randomBytes } from "node:crypto"
import { hostname } from "node:os"
import { InvalidInput } from "../../schema/Errors.ts"
import { NonEmptyText } from "../../schema/Primitives.ts"
import type { Owner } from "../domain/Lease.ts"
import { inputDecoder } from "../domain/Validate.ts"
import type { LogStoreOptions } from "../LogStore.ts"

/** How long a lease lasts unless renewed, by default. */
export const DEFAULT_LEASE_TTL: Duration.Duration = Duration.seconds(30)

/** The lease settings of one stack, validated. */
export interface LeaseConfig {
  readonly owner: Owner
  readonly ttlMs: number
  readonly renewalMs: number
}

const decodeOwnerName = inputDecoder(NonEmptyText, "owner")

/** A duration option in whole milliseconds (at least 1), or `InvalidInput` naming the option. */
export const durationMillis = (
  input: Duration.Input | undefined,
  fallback: Duration.Duration,
  field: string
): Effect.Effect<number, InvalidInput> => {
  if (input === undefined) return Effect.succeed(Duration.toMillis(fallback))
  const duration = Duration.fromInput(input)
  if (Option.isNone(duration)) return Effect.fail(new InvalidInput({ field, reason: "is not a duration" }))
  const millis = Duration.toMillis(duration.value)
  return Number.isFinite(millis) && millis >= 1
    ? Effect.succeed(Math.ceil(millis))
    : Effect.fail(new InvalidInput({ field, reason: "must be a finite duration of at least 1 millisecond" }))
}

/** The default settings: a fresh boot id, the owner `host:pid:boot`, a 30 s lease renewed every 10 s. */
export const defaultLeaseConfig: Effect.Effect<LeaseConfig> = Effect.sync(() => {
  const boot = randomBytes(8).toString("hex")
  const ttlMs = Duration.toMillis(DEFAULT_LEASE_TTL)
  return { owner: { name: `${hostname()}:${process.pid}:${boot}`, boot }, ttlMs, renewalMs: Math.floor(ttlMs / 3) }
})

/**
 * Resolves the layer options: `owner` (default `host:pid:boot`), `leaseTtl` (default 30 s) and
 * `leaseRenewal` (default a third of the time-to-live, and it must be shorter than it).
 */
export const leaseConfig = Effect.fnUntraced(function*(options: LogStoreOptions = {}) {
  const defaults = yield* defaultLeaseConfig
  const name = options.owner === undefined ? defaults.owner.name : yield* decodeOwnerName(options.owner)
  const ttlMs = yield* durationMillis(options.leaseTtl, DEFAULT_LEASE_TTL, "leaseTtl")
  const renewalMs = yield* durationMillis(options.leaseRenewal, Duration.millis(Math.max(1, Math.floor(ttlMs / 3))), "leaseRenewal")
  if (renewalMs >= ttlMs) {
    return yield* new InvalidInput({ field: "leaseRenewal", reason: `must be shorter than leaseTtl (${ttlMs} ms)` })
  }
  return { owner: { name, boot: defaults.owner.boot }, ttlMs, renewalMs } satisfies LeaseConfig
})
