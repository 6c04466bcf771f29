/**
 * Log rows, the input of `append`, and the filters of `query` / `stream`.
 *
 * @since 0.6.0
 */
import { Schema } from "effect"
import { LogId, NonEmptyText, TimestampMs, WellFormedText } from "./Primitives.ts"
import { MAX_ROW_TEXT_BYTES, tooBigReason, utf8SizeOver } from "./TextSize.ts"

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

const TEXT_FIELDS = ["source", "type", "refId", "payload"] as const

/**
 * Refuses a row whose text SQLite could not store (see `TextSize.ts`), naming its longest field:
 * checked when the input is decoded, so an oversized row fails alone, never its group commit.
 */
const rowFitsSqlite = Schema.makeFilter((input: {
  readonly source: string
  readonly type: string
  readonly refId?: string | null | undefined
  readonly payload?: string | null | undefined
}) => {
  // The hot path of every append: four lengths, no allocation (utf8SizeOver's own first test).
  const units = input.source.length + input.type.length + (input.refId?.length ?? 0) + (input.payload?.length ?? 0)
  if (units * 3 <= MAX_ROW_TEXT_BYTES) return undefined
  const bytes = utf8SizeOver(TEXT_FIELDS.map((field) => input[field]), MAX_ROW_TEXT_BYTES)
  if (bytes === undefined) return undefined
  const longest = TEXT_FIELDS.reduce((a, b) => ((input[b]?.length ?? 0) > (input[a]?.length ?? 0) ? b : a))
  return { path: [longest], issue: tooBigReason(bytes, "the row's text") }
})

/**
 * What `append` takes. `timestamp` defaults to the Effect `Clock`, so `TestClock` drives it.
 * Its text (source, type, refId and payload together) must fit in one SQLite row:
 * `MAX_ROW_TEXT_BYTES` of UTF-8, else `InvalidInput` naming the longest field and the limit.
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
}).pipe(Schema.check(rowFitsSqlite))
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
