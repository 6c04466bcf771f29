/**
 * UTC calendar days as `YYYY-MM-DD` strings: the arithmetic the log archive is built on.
 *
 * Every function except {@link parseUtcDay} / {@link assertValidUtcDay} is pure and expects a
 * valid day; validate a day that comes from outside (a CLI argument, a file name) first.
 *
 * @since 0.6.0
 */
import { Effect } from "effect"
import { InvalidUtcDay } from "../../schema/Errors.ts"
import { isUtcDay, type UtcDay } from "../../schema/UtcDay.ts"

/** The day schema and its checks (defined in `schema/`, where the archive's data uses them). */
export { isUtcDay, isValidUtcDay, UtcDay } from "../../schema/UtcDay.ts"

/** The `meta` key holding the last archived UTC day (nerve-store 0.5 compatible). */
export const LOG_ARCHIVE_META_KEY = "archived_up_to"

/** One UTC day in milliseconds. */
export const UTC_DAY_MS = 86_400_000

/** How long log rows stay in SQLite before `LogArchive.archive` moves them out: 30 days. */
export const DEFAULT_LOG_RETENTION_MS = 30 * UTC_DAY_MS

/**
 * The UTC day containing epoch millisecond `ms`.
 *
 * @example
 * ```ts
 * utcDateStringFromMs(Date.UTC(2024, 0, 31, 23, 59)) // "2024-01-31"
 * ```
 */
export const utcDateStringFromMs = (ms: number): string => new Date(ms).toISOString().slice(0, 10)

/** The first millisecond of `day`. */
export const utcDayStartMs = (day: string): number => Date.parse(`${day}T00:00:00.000Z`)

/** The first millisecond after `day` (the start of the next day). */
export const utcDayEndExclusiveMs = (day: string): number => utcDayStartMs(day) + UTC_DAY_MS

/** The day before `day`. */
export const prevUtcDay = (day: string): string => utcDateStringFromMs(utcDayStartMs(day) - UTC_DAY_MS)

/** The day after `day`. */
export const nextUtcDay = (day: string): string => utcDateStringFromMs(utcDayEndExclusiveMs(day))

/** The first millisecond of the first and of the last day a `YYYY-MM-DD` string can name. */
const FIRST_NAMED_DAY_START_MS = Date.parse("0000-01-01T00:00:00.000Z")
const LAST_NAMED_DAY_START_MS = Date.parse("9999-12-31T00:00:00.000Z")

/**
 * The newest day that may be archived at `nowMs`: the day before the one containing
 * `nowMs - retentionMs`, so that only whole days older than the retention leave SQLite.
 * Any finite inputs give a valid day: the result is clamped to `0000-01-01 .. 9999-12-31`, the
 * days a `YYYY-MM-DD` string can name (a `Date` itself reaches year 275760).
 *
 * @example
 * ```ts
 * lastArchivableUtcDay(Date.UTC(2024, 2, 31, 12), 30 * 86_400_000) // "2024-02-29"
 * ```
 */
export const lastArchivableUtcDay = (nowMs: number, retentionMs: number = DEFAULT_LOG_RETENTION_MS): string => {
  const cutoffDayStart = Math.floor((nowMs - retentionMs) / UTC_DAY_MS) * UTC_DAY_MS
  const lastStart = Math.min(Math.max(cutoffDayStart - UTC_DAY_MS, FIRST_NAMED_DAY_START_MS), LAST_NAMED_DAY_START_MS)
  return utcDateStringFromMs(lastStart)
}

/** Orders two days: negative when `a` is earlier, 0 when equal, positive when later. */
export const compareIsoDays = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0)

/**
 * Checks a day string from outside, failing with `InvalidUtcDay` unless it is a real
 * `YYYY-MM-DD` calendar day.
 *
 * @example
 * ```ts
 * parseUtcDay("2024-02-30") // fails with InvalidUtcDay { input: "2024-02-30" }
 * ```
 */
export const parseUtcDay = (input: string): Effect.Effect<UtcDay, InvalidUtcDay> =>
  isUtcDay(input) ? Effect.succeed(input) : Effect.fail(new InvalidUtcDay({ input }))

/** {@link parseUtcDay} under the name nerve-store 0.5 used (it threw; this fails typed). */
export const assertValidUtcDay: (input: string) => Effect.Effect<UtcDay, InvalidUtcDay> = parseUtcDay
