/**
 * Log rows, the input of `append`, and the filters of `query` / `stream`.
 *
 * @since 0.6.0
 */
import { Schema } from "effect"
import { LogId, NonEmptyText, TimestampMs, WellFormedText } from "./Primitives.ts"

/**
 * One row of the `logs` table. `payload` is opaque text (usually JSON) or null; `timestamp` is
 * epoch milliseconds; `refId` ties the row to something else, e.g. a run id.
 */
export const LogEntry = Schema.Struct({
  id: LogId,
  source: Schema.String,
  type: Schema.String,
  refId: Schema.NullOr(Schema.String),
  payload: Schema.NullOr(Schema.String),
  timestamp: TimestampMs
})
export type LogEntry = typeof LogEntry.Type

/**
 * What `append` takes. `timestamp` defaults to the Effect `Clock`, so `TestClock` drives it.
 *
 * @example
 * ```ts
 * store.append({ source: "workflow", type: "note", refId: "run-1", payload: JSON.stringify({ ok: true }) })
 * ```
 */
export const AppendInput = Schema.Struct({
  source: NonEmptyText,
  type: NonEmptyText,
  refId: Schema.optional(Schema.NullOr(WellFormedText)),
  payload: Schema.optional(Schema.NullOr(WellFormedText)),
  timestamp: Schema.optional(TimestampMs)
})
export type AppendInput = typeof AppendInput.Type

/** The most rows one `query` returns; use `stream` for more. */
export const MAX_QUERY_LIMIT = 100_000
/** Rows returned by `query` when no `limit` is given. */
export const DEFAULT_QUERY_LIMIT = 1_000

/** Sort by id: `asc` (the default, as in 0.5: a `limit` alone returns the oldest rows) or `desc`. */
export const LogOrder = Schema.Literals(["asc", "desc"])
export type LogOrder = typeof LogOrder.Type

/**
 * Filters of `query` and `stream`, all optional and combined with AND. `since` / `until` are
 * inclusive epoch ms; `afterId` is a cursor: with `asc` it keeps ids above it, with `desc` below it.
 */
export const LogQuery = Schema.Struct({
  source: Schema.optional(Schema.String),
  type: Schema.optional(Schema.String),
  refId: Schema.optional(Schema.String),
  since: Schema.optional(TimestampMs),
  until: Schema.optional(TimestampMs),
  afterId: Schema.optional(Schema.Int.pipe(Schema.check(Schema.isGreaterThanOrEqualTo(0)))),
  order: Schema.optional(LogOrder),
  limit: Schema.optional(Schema.Int.pipe(Schema.check(Schema.isBetween({ minimum: 1, maximum: MAX_QUERY_LIMIT }))))
})
export type LogQuery = typeof LogQuery.Type

/** The filters of `stream`: those of {@link LogQuery}, with a `limit` that may exceed a page. */
export const LogStreamQuery = Schema.Struct({
  ...LogQuery.fields,
  limit: Schema.optional(Schema.Int.pipe(Schema.check(Schema.isGreaterThanOrEqualTo(1))))
})
export type LogStreamQuery = typeof LogStreamQuery.Type

/**
 * What `follow` watches: rows matching the filters with an id above `afterId` (default: the last
 * row at the moment `follow` starts, so only rows appended from then on).
 */
export const FollowQuery = Schema.Struct({
  source: Schema.optional(Schema.String),
  type: Schema.optional(Schema.String),
  refId: Schema.optional(Schema.String),
  afterId: Schema.optional(Schema.Int.pipe(Schema.check(Schema.isGreaterThanOrEqualTo(0))))
})
export type FollowQuery = typeof FollowQuery.Type
