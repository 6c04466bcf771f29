/**
 * Rebuilds a run's thread from its log rows: messages, role rounds and the trigger payload
 * (SPEC §Log conventions for workflow runs). Pure functions over rows already read.
 *
 * What is JSON here is what SQLite's `json_valid` says is JSON, so that these rules and the SQL
 * ones (`src/sqlite/ThreadRoundsSql.ts`, the round counts) agree on every row: JSON text that
 * nests objects or arrays deeper than {@link SQLITE_JSON_MAX_DEPTH} (1,000) is not JSON for
 * SQLite, so a payload that deep is no message, no event and no round, in both.
 *
 * @since 0.6.0
 */
import { Option, Predicate, Schema } from "effect"
import type { GetThreadRoundsParams, RunTrigger, ThreadEvent, ThreadMessage, ThreadRoundRow, TriggerPayload } from "../../schema/Thread.ts"

/** Log row types the thread helpers read. */
export const THREAD_MESSAGE_TYPE = "thread_workflow_message"
export const THREAD_EVENT_TYPE = "thread_command_event"
export const RUN_STARTED_TYPE = "started"
/** Rows of a run carry this source and the run id as `refId`. */
export const WORKFLOW_SOURCE = "workflow"

/** The part of a log row the thread helpers need. */
export interface ThreadRow {
  readonly id: number
  readonly type: string
  readonly payload: string | null
  readonly timestamp: number
}

type JsonObject = { readonly [key: string]: unknown }

const decodeJson = Schema.decodeUnknownOption(Schema.fromJsonString(Schema.Unknown))

/** How deep SQLite's JSON functions nest objects and arrays: `json_valid` is 0 past it. */
export const SQLITE_JSON_MAX_DEPTH = 1000

/** Whether `value` (parsed JSON) nests objects and arrays at most `max` deep. */
const nestsWithin = (value: unknown, max: number): boolean => {
  if (typeof value !== "object" || value === null) return true
  if (max === 0) return false
  for (const child of Array.isArray(value) ? value : Object.values(value)) {
    if (!nestsWithin(child, max - 1)) return false
  }
  return true
}

/**
 * The payload parsed as JSON, or none for NULL, invalid JSON, or JSON nested deeper than
 * {@link SQLITE_JSON_MAX_DEPTH} (which SQLite does not read as JSON). Text shorter than
 * 2 × 1,001 characters cannot nest that deep, so only longer payloads are walked.
 */
export const parsePayload = (payload: string | null): Option.Option<unknown> => {
  if (payload === null) return Option.none()
  const parsed = decodeJson(payload)
  if (payload.length < 2 * (SQLITE_JSON_MAX_DEPTH + 1) || Option.isNone(parsed)) return parsed
  return nestsWithin(parsed.value, SQLITE_JSON_MAX_DEPTH) ? parsed : Option.none()
}

const isObject = (value: unknown): value is JsonObject => Predicate.isObject(value) && !Array.isArray(value)

/** `{ role, content, meta?, timestamp }` when the value has string role and content. */
export const toThreadMessage = (value: unknown): Option.Option<ThreadMessage> => {
  if (!isObject(value) || typeof value.role !== "string" || typeof value.content !== "string") return Option.none()
  const timestamp = typeof value.timestamp === "number" ? value.timestamp : 0
  return Option.some("meta" in value
    ? { role: value.role, content: value.content, meta: value.meta, timestamp }
    : { role: value.role, content: value.content, timestamp })
}

/** The messages of `thread_workflow_message` rows, oldest first (rows must be in id order). */
export const threadMessages = (rows: ReadonlyArray<ThreadRow>): ReadonlyArray<ThreadMessage> =>
  rows.flatMap((row) =>
    row.type === THREAD_MESSAGE_TYPE
      ? Option.toArray(Option.flatMap(parsePayload(row.payload), toThreadMessage))
      : []
  )

/** The objects with a string `type` of `thread_command_event` rows; bad JSON is skipped. */
export const threadEvents = (rows: ReadonlyArray<ThreadRow>): ReadonlyArray<ThreadEvent> =>
  rows.flatMap((row) => {
    if (row.type !== THREAD_EVENT_TYPE) return []
    const value = Option.getOrUndefined(parsePayload(row.payload))
    return isObject(value) && typeof value.type === "string" ? [{ ...value, type: value.type }] : []
  })

/** One numbered round before it is turned into a row. */
export interface Round {
  readonly round: number
  readonly row: ThreadRow
  readonly value: unknown
}

const isStartMarker = (value: unknown): boolean =>
  isObject(value) && (value.type === "thread_start" || value.role === "__start__")

/** Numbers the valid-JSON thread rows 1, 2, 3… by id, leaving out the thread-start markers. */
export const numberRounds = (rows: ReadonlyArray<ThreadRow>): ReadonlyArray<Round> => {
  const rounds: Array<Round> = []
  for (const row of rows) {
    if (row.type !== THREAD_MESSAGE_TYPE && row.type !== THREAD_EVENT_TYPE) continue
    const parsed = parsePayload(row.payload)
    if (Option.isNone(parsed) || isStartMarker(parsed.value)) continue
    rounds.push({ round: rounds.length + 1, row, value: parsed.value })
  }
  return rounds
}

/** The message a round carries: a message as it is, an event mapped to one, else none. */
export const roundMessage = ({ row, value }: Round): Option.Option<ThreadMessage> => {
  const message = toThreadMessage(value)
  if (Option.isSome(message) || !isObject(value) || typeof value.type !== "string") return message
  return Option.some({
    role: typeof value.role === "string" ? value.role : value.type,
    content: typeof value.content === "string" ? value.content : JSON.stringify(value),
    meta: value,
    timestamp: row.timestamp
  })
}

/**
 * Rounds newest first, only those `< before` (0 = no bound), at most `limit` rows. Rounds whose
 * JSON is neither a message nor an event keep their number but yield no row (and do not count
 * against `limit`).
 */
export const threadRounds = (
  rows: ReadonlyArray<ThreadRow>,
  { before, limit }: GetThreadRoundsParams
): ReadonlyArray<ThreadRoundRow> => {
  if (limit < 1) return []
  const rounds = numberRounds(rows)
  const result: Array<ThreadRoundRow> = []
  for (let i = rounds.length - 1; i >= 0 && result.length < limit; i--) {
    const round = rounds[i]!
    if (before > 0 && round.round >= before) continue
    const message = roundMessage(round)
    if (Option.isSome(message)) {
      result.push({ round: round.round, logId: round.row.id, timestamp: round.row.timestamp, message: message.value })
    }
  }
  return result
}

const asRunTrigger = (value: JsonObject): Option.Option<RunTrigger> =>
  typeof value.prompt === "string" && typeof value.maxRounds === "number"
    ? Option.some({ prompt: value.prompt, maxRounds: value.maxRounds, dryRun: value.dryRun === true })
    : Option.none()

/**
 * The trigger of a run from its first `started` payload: `{ prompt, maxRounds, dryRun }` when the
 * object has that shape; else, for an object with an object `triggerPayload`, the same rule on
 * that inner object, returning the inner object as it is when the rule does not match.
 */
export const triggerPayload = (payload: string | null): Option.Option<TriggerPayload> =>
  Option.flatMap(parsePayload(payload), (value): Option.Option<TriggerPayload> => {
    if (!isObject(value)) return Option.none()
    const direct = asRunTrigger(value)
    if (Option.isSome(direct)) return direct
    const inner = value.triggerPayload
    if (!isObject(inner)) return Option.none()
    return Option.orElse(asRunTrigger(inner), () => Option.some<TriggerPayload>(inner))
  })
