/**
 * The CLI's readings of flag values that `effect/cli` leaves as strings: times (epoch ms or
 * ISO-8601) and durations (`30d`, `1h`, `90 minutes`). Each failure is an `InvalidInput` naming the
 * flag, so the user sees one line that says which flag and why.
 *
 * @since 0.6.0
 */
import { Duration, Effect, Option } from "effect"
import { InvalidInput } from "../../schema/Errors.ts"
import { MAX_TIMESTAMP_MS } from "../../schema/Primitives.ts"

/**
 * A point in time given as epoch milliseconds (`1732700000000`) or ISO-8601 (`2026-11-27`,
 * `2026-11-27T10:00:00Z`; a date alone is midnight UTC).
 */
export const parseTime = (flag: string, input: string): Effect.Effect<number, InvalidInput> => {
  const text = input.trim()
  const ms = /^\d+$/.test(text) ? Number(text) : /^\d{4}-\d{2}-\d{2}/.test(text) ? Date.parse(text) : Number.NaN
  return Number.isSafeInteger(ms) && ms >= 0 && ms <= MAX_TIMESTAMP_MS
    ? Effect.succeed(ms)
    : Effect.fail(new InvalidInput({ field: `--${flag}`, reason: `${JSON.stringify(input)} is not epoch milliseconds or an ISO-8601 time` }))
}

const shortUnits: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }

/** A duration as `30d`, `12h`, `90m`, `45s`, `500ms`, `2w`, or Effect's `"90 minutes"`; in milliseconds. */
export const parseDuration = (flag: string, input: string): Effect.Effect<number, InvalidInput> => {
  const text = input.trim()
  const short = /^(\d+)(ms|s|m|h|d|w)$/.exec(text)
  const ms = short !== null
    ? Number(short[1]) * (shortUnits[short[2] ?? ""] ?? Number.NaN)
    : Option.match(/^\d+(\.\d+)?\s+[a-z]+$/.test(text) ? Duration.fromInput(text as Duration.Input) : Option.none(), {
      onNone: () => Number.NaN,
      onSome: Duration.toMillis
    })
  return Number.isSafeInteger(ms) && ms >= 0
    ? Effect.succeed(ms)
    : Effect.fail(new InvalidInput({ field: `--${flag}`, reason: `${JSON.stringify(input)} is not a duration (e.g. 30d, 12h, 90m)` }))
}

/** A number flag that must be at least `min`. */
export const atLeast = (flag: string, value: number, min: number): Effect.Effect<number, InvalidInput> =>
  value >= min ? Effect.succeed(value) : Effect.fail(new InvalidInput({ field: `--${flag}`, reason: `must be at least ${min}` }))
