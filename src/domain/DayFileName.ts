/**
 * The one module that names day files and reads their names (in `src/domain/` so that the CLI
 * may use it too, not only the archive): `YYYY-MM-DD.jsonl` (plain) and
 * `YYYY-MM-DD.jsonl.gz` (gzip), directly in the archive folder.
 *
 * @since 0.7.0
 */
import { Option } from "effect"
import { isUtcDay, type UtcDay } from "./UtcDay.ts"

/** A day file name's pattern: the day, and `.gz` when compressed. */
export const DAY_FILE_NAME = /^(\d{4}-\d{2}-\d{2})\.jsonl(\.gz)?$/

/**
 * The file name of `day`, plain or gzip.
 *
 * @example
 * ```ts
 * dayFileName("2024-01-05", true) // "2024-01-05.jsonl.gz"
 * ```
 */
export const dayFileName = (day: string, compressed: boolean): string => `${day}.jsonl${compressed ? ".gz" : ""}`

/**
 * The day and compression of a day file name, or none for any other name (a temp file, a
 * quarantined copy, an impossible date such as `2024-02-30`).
 *
 * @example
 * ```ts
 * parseDayFileName("2024-01-05.jsonl.gz") // Option.some({ day: "2024-01-05", compressed: true })
 * ```
 */
export const parseDayFileName = (name: string): Option.Option<{ readonly day: UtcDay; readonly compressed: boolean }> => {
  const match = DAY_FILE_NAME.exec(name)
  const day = match?.[1]
  return isUtcDay(day) ? Option.some({ day, compressed: match?.[2] !== undefined }) : Option.none()
}

/** Whether `name` is a day file name (see `parseDayFileName`). */
export const isDayFileName = (name: string): boolean => Option.isSome(parseDayFileName(name))
