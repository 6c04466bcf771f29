/**
 * Small shared schemas: non-empty text and epoch-millisecond timestamps.
 *
 * @since 0.6.0
 */
import { Schema } from "effect"

/**
 * A string that survives UTF-8 storage unchanged: one with a lone UTF-16 surrogate is refused
 * (it would be acknowledged, then read back as U+FFFD).
 */
export const WellFormedText = Schema.String.pipe(
  // A UTF-16 surrogate without its partner: SQLite stores text as UTF-8, where it becomes U+FFFD.
  Schema.check(Schema.makeFilter((s: string) => s.isWellFormed(), {
    message: "must not contain a lone UTF-16 surrogate (it cannot be stored as UTF-8 and read back unchanged)"
  }))
)

/** Well-formed text with at least one non-blank character. */
export const NonEmptyText = WellFormedText.pipe(
  Schema.check(Schema.makeFilter((s: string) => s.trim().length > 0, { message: "must not be empty" }))
)

/** The largest epoch millisecond a JavaScript `Date` can hold (year 275760). */
export const MAX_TIMESTAMP_MS = 8_640_000_000_000_000

/** Epoch milliseconds: an integer from 0 to {@link MAX_TIMESTAMP_MS}, so every one is a valid `Date`. */
export const TimestampMs = Schema.Int.pipe(Schema.check(Schema.isBetween({ minimum: 0, maximum: MAX_TIMESTAMP_MS })))

/** A log row id (SQLite rowid): a positive safe integer. */
export const LogId = Schema.Int.pipe(Schema.check(Schema.isGreaterThan(0)))
