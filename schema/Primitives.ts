/**
 * Small shared schemas: non-empty text and epoch-millisecond timestamps.
 *
 * @since 0.6.0
 */
import { Schema } from "effect"

/** A string with at least one non-blank character. */
export const NonEmptyText = Schema.String.pipe(
  Schema.check(Schema.makeFilter((s: string) => s.trim().length > 0, { message: "must not be empty" }))
)

/** The largest epoch millisecond a JavaScript `Date` can hold (year 275760). */
export const MAX_TIMESTAMP_MS = 8_640_000_000_000_000

/** Epoch milliseconds: an integer from 0 to {@link MAX_TIMESTAMP_MS}, so every one is a valid `Date`. */
export const TimestampMs = Schema.Int.pipe(Schema.check(Schema.isBetween({ minimum: 0, maximum: MAX_TIMESTAMP_MS })))

/** A log row id (SQLite rowid): a positive safe integer. */
export const LogId = Schema.Int.pipe(Schema.check(Schema.isGreaterThan(0)))
