/**
 * A UTC calendar day as a branded `YYYY-MM-DD` string: the schema the archive's data is keyed by.
 * The arithmetic on days lives in `src/domain/UtcDay.ts`, which re-exports these.
 *
 * @since 0.8.0
 */
import { Schema } from "effect"

const DAY_PATTERN = /^(\d{4})-(\d{2})-(\d{2})$/

/**
 * Whether `input` is a real calendar day written as `YYYY-MM-DD` (`2024-02-29` yes,
 * `2024-02-30`, `2024-2-1` and `../x` no).
 */
export const isValidUtcDay = (input: string): boolean => {
  const match = DAY_PATTERN.exec(input)
  if (match === null) return false
  const ms = Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3]))
  return Number.isFinite(ms) && new Date(ms).toISOString().slice(0, 10) === input
}

/** A `YYYY-MM-DD` string that names a real UTC calendar day (branded: only a check makes one). */
export const UtcDay = Schema.String.pipe(
  Schema.check(Schema.makeFilter(isValidUtcDay, { message: "expected a real calendar day as YYYY-MM-DD" })),
  Schema.brand("UtcDay")
)
export type UtcDay = typeof UtcDay.Type

/** Whether `input` is a {@link UtcDay} (a type guard: the checked string carries the brand). */
export const isUtcDay: (input: unknown) => input is UtcDay = Schema.is(UtcDay)
