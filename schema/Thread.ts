/**
 * What the thread helpers rebuild from a run's log rows: messages, role rounds, the trigger.
 *
 * @since 0.6.0
 */
import { Effect, Schema } from "effect"
import { JsonData } from "./JsonData.ts"
import { NonEmptyText } from "./Primitives.ts"
import { MAX_ROW_TEXT_BYTES, tooBigReason, utf8SizeOver } from "./TextSize.ts"

/** A message of a workflow thread. `timestamp` is the payload's own (0 when it had none). */
export const ThreadMessage = Schema.Struct({
  role: Schema.String,
  content: Schema.String,
  meta: Schema.optional(Schema.Unknown),
  timestamp: Schema.Number
})
export type ThreadMessage = typeof ThreadMessage.Type

/** The deprecated event format of `thread_command_event` rows: any object with a string `type`. */
export const ThreadEvent = Schema.StructWithRest(Schema.Struct({ type: Schema.String }), [
  Schema.Record(Schema.String, Schema.Unknown)
])
export type ThreadEvent = typeof ThreadEvent.Type

/** One role round: its 1-based number, the log row it came from, and the message it carries. */
export const ThreadRoundRow = Schema.Struct({
  round: Schema.Int,
  logId: Schema.Int,
  timestamp: Schema.Number,
  message: ThreadMessage
})
export type ThreadRoundRow = typeof ThreadRoundRow.Type

/** Rows `threadRounds` returns when no `limit` is given. */
export const DEFAULT_THREAD_ROUNDS_LIMIT = 50

/**
 * Paging of `threadRounds`: only rounds `< before` (default 0 = no bound), at most `limit`
 * (default {@link DEFAULT_THREAD_ROUNDS_LIMIT}; < 1 → none). No params: the newest page.
 */
export const GetThreadRoundsParams = Schema.Struct({
  before: Schema.Int.pipe(
    Schema.check(Schema.isGreaterThanOrEqualTo(0)),
    Schema.withDecodingDefaultKey(Effect.succeed(0))
  ),
  limit: Schema.Int.pipe(Schema.withDecodingDefaultKey(Effect.succeed(DEFAULT_THREAD_ROUNDS_LIMIT)))
})
export type GetThreadRoundsParams = typeof GetThreadRoundsParams.Type
/** What a caller passes to `threadRounds`: both fields optional. */
export type GetThreadRoundsInput = typeof GetThreadRoundsParams.Encoded

/**
 * A message for `appendThreadMessage`: written as a `thread_workflow_message` row of the run that
 * `threadMessages` and `threadRounds` read back. `meta` must be plain JSON data (`JsonData`: no
 * cycle, BigInt, NaN, Date or class instance; at most 64 levels deep), else `InvalidInput` names
 * the path of the bad value (`message.meta.a.0`). Its role and content must fit in one SQLite row
 * (`MAX_ROW_TEXT_BYTES` of UTF-8), else `InvalidInput` on `message.content` naming the limit.
 */
export const ThreadMessageInput = Schema.Struct({
  role: NonEmptyText,
  content: Schema.String,
  meta: Schema.optional(JsonData)
}).pipe(Schema.check(Schema.makeFilter(({ content, role }: { readonly role: string; readonly content: string }) => {
  const bytes = utf8SizeOver([role, content], MAX_ROW_TEXT_BYTES)
  return bytes === undefined ? undefined : { path: ["content"], issue: tooBigReason(bytes, "the message's text") }
})))
export type ThreadMessageInput = typeof ThreadMessageInput.Type

/** The trigger a run was started with when it has the recognised shape. */
export const RunTrigger = Schema.Struct({
  prompt: Schema.String,
  maxRounds: Schema.Number,
  dryRun: Schema.Boolean
})
export type RunTrigger = typeof RunTrigger.Type

/**
 * `triggerPayload`'s answer: the recognised `{ prompt, maxRounds, dryRun }`, or, for a wrapper
 * whose inner `triggerPayload` is not of that shape, that inner object as it is.
 */
export const TriggerPayload = Schema.Union([RunTrigger, Schema.Record(Schema.String, Schema.Unknown)])
export type TriggerPayload = typeof TriggerPayload.Type
