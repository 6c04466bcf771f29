/**
 * The archive's progress for people: on a terminal, one bar per day redrawn in place; when
 * stdout is not a terminal (a pipe, a log file), one plain line when a day starts and one when it
 * ends, so logs stay readable.
 *
 * @since 0.6.0
 */
import { Effect } from "effect"
import type { ArchiveProgress } from "../../schema/Archive.ts"
import type { ArchiveProgressListener } from "../index.ts"
import { bar, humanBytes, percent } from "./Format.ts"
import * as Print from "./Print.ts"

const BAR_WIDTH = 30

/** The in-place line of a day being exported. */
export const barLine = (day: string, done: number, total: number): string =>
  `${day} ${bar(done, total, BAR_WIDTH)} ${percent(done, total)} ${done}/${total} rows`

/** The plain line of an event (null for events a plain log leaves out). */
export const plainLine = (event: ArchiveProgress): string | null => {
  switch (event._tag) {
    case "DayStarted":
      return `${event.day}: archiving ${event.totalRows} rows (day ${event.dayIndex + 1} of ${event.dayCount})`
    case "DayProgress":
      return null
    case "DayFinished":
      return `${event.day}: archived ${event.result.rowCount} rows -> ${event.result.file} (${humanBytes(event.result.bytes)})`
    case "DaySkipped":
      return `${event.day}: skipped (${event.reason})`
    case "DayFailed":
      return `${event.day}: FAILED (${event.message})`
  }
}

/** The listener that draws `archive`'s progress: bars when `terminal`, plain lines otherwise. */
export const listener = (terminal: boolean): ArchiveProgressListener => {
  if (!terminal) {
    return (event) => {
      const text = plainLine(event)
      return text === null ? Effect.void : Print.line(text)
    }
  }
  return (event) => {
    switch (event._tag) {
      case "DayStarted":
        return Print.raw(`\r${barLine(event.day, 0, event.totalRows)}`)
      case "DayProgress":
        return Print.raw(`\r${barLine(event.day, event.rowsWritten, event.totalRows)}`)
      case "DayFinished":
        return Print.raw(`\r${barLine(event.day, event.result.rowCount, event.result.rowCount)} -> ${humanBytes(event.result.bytes)}\n`)
      case "DaySkipped":
        return Print.raw(`\r\x1b[2K${event.day}: skipped (${event.reason})\n`)
      case "DayFailed":
        return Print.raw(`\r\x1b[2K${event.day}: FAILED (${event.message})\n`)
    }
  }
}
