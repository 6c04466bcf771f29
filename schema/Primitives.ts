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

/** Epoch milliseconds: a safe, non-negative integer. */
export const TimestampMs = Schema.Int.pipe(Schema.check(Schema.isGreaterThanOrEqualTo(0)))

/** A log row id (SQLite rowid): a positive safe integer. */
export const LogId = Schema.Int.pipe(Schema.check(Schema.isGreaterThan(0)))
