/**
 * The CLI's readings of flag values that `effect/cli` leaves as strings: times (ISO-8601, epoch
 * ms, or relative to now), durations (`30d`, `1h`, `90 minutes`), numbers with a lower bound and
 * fixed choices. Each failure is a `UsageError` naming the flag: exit 2, one line.
 *
 * @since 0.6.0
 */
import { Clock, Duration, Effect, Option } from "effect"
import { MAX_TIMESTAMP_MS } from "../index.ts"
import { UsageError } from "./Errors.ts"

/** What `--since` / `--until` accept, for `--help`. */
export const TIME_HELP = "ISO-8601 (no zone = local time, e.g. 2026-12-05T03:35:00 or ...Z), epoch ms, or relative (30m, 1h, 2d ago)"

const shortUnits: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }

const ISO = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?)?(Z|[+-]\d{2}:?\d{2})?$/i

const daysIn = (year: number, month: number) => new Date(Date.UTC(year, month, 0)).getUTCDate()

/**
 * A strict ISO-8601 time: every field in range (`2024-02-30` and `2024-01-01junk` are refused,
 * where `Date.parse` would roll them over or guess). Without a zone it is local time.
 */
const parseIso = (text: string): number | undefined => {
  const m = ISO.exec(text)
  if (m === null) return undefined
  const [year, month, day, hour, minute, second] = [1, 2, 3, 4, 5, 6].map((i) => Number(m[i] ?? 0)) as [number, number, number, number, number, number]
  const millis = Number((m[7] ?? "0").padEnd(3, "0"))
  if (month < 1 || month > 12 || day < 1 || day > daysIn(year, month) || hour > 23 || minute > 59 || second > 59) return undefined
  const zone = m[8]
  if (zone === undefined) return new Date(year, month - 1, day, hour, minute, second, millis).getTime()
  const utc = Date.UTC(year, month - 1, day, hour, minute, second, millis)
  if (zone.toUpperCase() === "Z") return utc
  const z = /^([+-])(\d{2}):?(\d{2})$/.exec(zone)
  const offsetMin = Number(z?.[2]) * 60 + Number(z?.[3])
  if (z === null || Number(z[2]) > 23 || Number(z[3]) > 59) return undefined
  return utc - (z[1] === "-" ? -1 : 1) * offsetMin * 60_000
}

/**
 * A point in time: epoch milliseconds (`1732700000000`), ISO-8601 (`2026-11-27`,
 * `2026-11-27T10:00:00Z`; without a zone it is local time, as `date` and `journalctl` read it),
 * or relative to `now` (`30m`, `1h`, `2d`, `1h ago`).
 */
export const parseTime = (flag: string, input: string): Effect.Effect<number, UsageError> => Effect.flatMap(Clock.currentTimeMillis, (now) => {
  const text = input.trim()
  const relative = /^(\d+)\s*(ms|s|m|h|d|w)(?:\s+ago)?$/.exec(text)
  const ms = /^\d+$/.test(text)
    ? Number(text)
    : relative !== null
    ? now - Number(relative[1]) * (shortUnits[relative[2] ?? ""] ?? Number.NaN)
    : parseIso(text) ?? Number.NaN
  return Number.isSafeInteger(ms) && ms >= 0 && ms <= MAX_TIMESTAMP_MS
    ? Effect.succeed(ms)
    : Effect.fail(new UsageError({ field: `--${flag}`, reason: `${JSON.stringify(input)} is not epoch milliseconds or an ISO-8601 time (or relative: 30m, 1h, 2d; no zone = local time)` }))
})

/** `--since` and `--until` read together: each optional, and `since` not after `until`. */
export const timeRange = Effect.fnUntraced(function*(since: Option.Option<string>, until: Option.Option<string>) {
  const from = Option.isSome(since) ? yield* parseTime("since", since.value) : undefined
  const to = Option.isSome(until) ? yield* parseTime("until", until.value) : undefined
  if (from !== undefined && to !== undefined && from > to) {
    return yield* new UsageError({
      field: "--since",
      reason: `${since.pipe(Option.getOrElse(() => ""))} is after --until ${until.pipe(Option.getOrElse(() => ""))}: nothing can match (swap them?)`
    })
  }
  return { ...(from === undefined ? {} : { since: from }), ...(to === undefined ? {} : { until: to }) }
})

/** A duration as `30d`, `12h`, `90m`, `45s`, `500ms`, `2w`, or Effect's `"90 minutes"`; in milliseconds. */
export const parseDuration = (flag: string, input: string): Effect.Effect<number, UsageError> => {
  const text = input.trim()
  const short = /^(\d+)(ms|s|m|h|d|w)$/.exec(text)
  const ms = text === "0" ? 0 : short !== null
    ? Number(short[1]) * (shortUnits[short[2] ?? ""] ?? Number.NaN)
    : Option.match(/^\d+(\.\d+)?\s+[a-z]+$/.test(text) ? Duration.fromInput(text as Duration.Input) : Option.none(), {
      onNone: () => Number.NaN,
      onSome: Duration.toMillis
    })
  return Number.isSafeInteger(ms) && ms >= 0
    ? Effect.succeed(ms)
    : Effect.fail(new UsageError({ field: `--${flag}`, reason: `${JSON.stringify(input)} is not a duration (e.g. 30d, 12h, 90m)` }))
}

/** A number flag that must be at least `min`. */
export const atLeast = (flag: string, value: number, min: number): Effect.Effect<number, UsageError> =>
  value >= min ? Effect.succeed(value) : Effect.fail(new UsageError({ field: `--${flag}`, reason: `must be at least ${min} (got ${value})` }))

/** A flag value that must be one of `choices` (each value of a repeated flag is checked). */
export const oneOf = <A extends string>(flag: string, choices: ReadonlyArray<A>) => (value: string): Effect.Effect<A, UsageError> =>
  (choices as ReadonlyArray<string>).includes(value)
    ? Effect.succeed(value as A)
    : Effect.fail(new UsageError({ field: `--${flag}`, reason: `${JSON.stringify(value)} is not one of ${choices.join(", ")}` }))
