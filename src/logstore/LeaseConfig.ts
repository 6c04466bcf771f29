/**
 * The lease settings of one LogStore stack, resolved from the layer options: the owner name, a
 * random boot id, the lease time-to-live and the renewal interval.
 *
 * @since 0.7.0
 */
import { Config, ConfigProvider, Duration, Effect, Option } from "effect"
import { randomBytes } from "node:crypto"
import { hostname } from "node:os"
import { InvalidInput } from "../../schema/Errors.ts"
import { NonEmptyText } from "../../schema/Primitives.ts"
import type { Owner } from "../domain/Lease.ts"
import { inputDecoder } from "../domain/Validate.ts"
import type { LogStoreOptions } from "../LogStore.ts"

/** How long a lease lasts unless renewed, by default. */
export const DEFAULT_LEASE_TTL: Duration.Duration = Duration.seconds(30)

/**
 * The longest lease: 365 days. A lease's expiry (`now + leaseTtl`) is stored as epoch ms and read
 * back as a `TimestampMs` (at most `MAX_TIMESTAMP_MS`, year 275760); a year keeps it valid for any
 * clock before year 275759 and is far beyond any daemon's renewal cadence.
 */
export const MAX_LEASE_TTL: Duration.Duration = Duration.days(365)

/** The lease settings of one stack, validated. */
export interface LeaseConfig {
  readonly owner: Owner
  readonly ttlMs: number
  readonly renewalMs: number
}

const decodeOwnerName = inputDecoder(NonEmptyText, "owner")

/**
 * A duration option in whole milliseconds (at least 1, at most `max` when given), or
 * `InvalidInput` naming the option (and the bound it broke).
 */
export const durationMillis = (
  input: Duration.Input | undefined,
  fallback: Duration.Duration,
  field: string,
  max?: Duration.Duration
): Effect.Effect<number, InvalidInput> => {
  if (input === undefined) return Effect.succeed(Duration.toMillis(fallback))
  const duration = Duration.fromInput(input)
  if (Option.isNone(duration)) return Effect.fail(new InvalidInput({ field, reason: "is not a duration" }))
  const millis = Duration.toMillis(duration.value)
  if (!Number.isFinite(millis) || millis < 1) {
    return Effect.fail(new InvalidInput({ field, reason: "must be a finite duration of at least 1 millisecond" }))
  }
  const maxMs = max === undefined ? Number.MAX_SAFE_INTEGER : Duration.toMillis(max)
  return Math.ceil(millis) <= maxMs
    ? Effect.succeed(Math.ceil(millis))
    : Effect.fail(new InvalidInput({
      field,
      reason: `must be at most ${Duration.format(max ?? Duration.millis(maxMs))} (${maxMs} ms); got ${millis} ms`
    }))
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
  const ttlMs = yield* durationMillis(options.leaseTtl, DEFAULT_LEASE_TTL, "leaseTtl", MAX_LEASE_TTL)
  const renewalMs = yield* durationMillis(options.leaseRenewal, Duration.millis(Math.max(1, Math.floor(ttlMs / 3))), "leaseRenewal")
  if (renewalMs >= ttlMs) {
    return yield* new InvalidInput({ field: "leaseRenewal", reason: `must be shorter than leaseTtl (${ttlMs} ms)` })
  }
  return { owner: { name, boot: defaults.owner.boot }, ttlMs, renewalMs } satisfies LeaseConfig
})

/**
 * `NERVE_OWNER` from the `ConfigProvider`: none when the variable is absent; a variable that is
 * set but empty is `InvalidInput` (an empty name is a mistake, never a silent fallback to the
 * default owner). Effect's providers report an empty value as missing, so "set" is read from
 * the keys the provider lists (`NERVE` → `OWNER` for the environment, `NERVE_OWNER` for a flat
 * record).
 */
export const ownerFromConfig: Effect.Effect<Option.Option<string>, InvalidInput | Config.ConfigError> = Effect.gen(function*() {
  const owner = yield* Config.option(Config.String("NERVE_OWNER"))
  if (Option.isSome(owner)) return owner
  const provider = yield* ConfigProvider.ConfigProvider
  const lists = (path: ReadonlyArray<string>, key: string) =>
    Effect.map(provider.load(path), (node) => node?._tag === "Record" && node.keys.has(key))
  const absent = (path: ReadonlyArray<string>) => Effect.map(provider.load(path), (node) => node === undefined)
  const setButEmpty = yield* Effect.orElseSucceed(
    Effect.map(
      Effect.all([lists(["NERVE"], "OWNER"), absent(["NERVE", "OWNER"]), lists([], "NERVE_OWNER"), absent(["NERVE_OWNER"])]),
      ([nested, nestedAbsent, flat, flatAbsent]) => (nested && nestedAbsent) || (flat && flatAbsent)
    ),
    () => false
  )
  return setButEmpty
    ? yield* new InvalidInput({ field: "NERVE_OWNER", reason: "is set but empty: name this daemon, or unset it for the default owner (host:pid:boot)" })
    : Option.none()
})
