/**
 * `nerve-store logs query|tail`: log rows as a table for people, JSON Lines of `LogEntry` for
 * scripts. `tail --follow` keeps printing rows other processes append until Ctrl-C.
 *
 * @since 0.6.0
 */
import { Duration, Effect, Option, Stream } from "effect"
import { Command, Flag } from "effect/cli"
import { LogEntry, LogOrder, type LogQuery } from "../../schema/LogEntry.ts"
import { inputDecoder } from "../domain/Validate.ts"
import { LogStore } from "../LogStore.ts"
import * as DataDir from "./DataDir.ts"
import { humanTime, truncate } from "./Format.ts"
import { atLeast, parseTime } from "./Parse.ts"
import * as Print from "./Print.ts"
import { Root } from "./Root.ts"

/** One row for people: id, time, source/type, ref, payload (cut to fit a line). */
export const formatRow = (row: LogEntry): string =>
  `${String(row.id).padStart(6)}  ${humanTime(row.timestamp)}  ${row.source}/${row.type}${row.refId === null ? "" : `  ${row.refId}`}${
    row.payload === null ? "" : `  ${truncate(row.payload, 100)}`
  }`

/** Prints rows as JSON Lines or as lines for people. */
export const printRows = (json: boolean) => (rows: ReadonlyArray<LogEntry>) =>
  Effect.forEach(rows, (row) => json ? Print.json(LogEntry, row) : Print.line(formatRow(row)), { discard: true })

const optionalTime = (flag: string, value: Option.Option<string>) =>
  Option.match(value, { onNone: () => Effect.succeed(undefined), onSome: (text) => parseTime(flag, text) })

const decodeOrder = inputDecoder(LogOrder, "--order")

const query = Command.make("query", {
  source: Flag.String("source").pipe(Flag.withDescription("only rows of this source"), Flag.optional),
  type: Flag.String("type").pipe(Flag.withDescription("only rows of this type"), Flag.optional),
  ref: Flag.String("ref").pipe(Flag.withDescription("only rows with this ref id (e.g. a run id)"), Flag.optional),
  since: Flag.String("since").pipe(Flag.withDescription("from this time (epoch ms or ISO-8601), inclusive"), Flag.optional),
  until: Flag.String("until").pipe(Flag.withDescription("up to this time (epoch ms or ISO-8601), inclusive"), Flag.optional),
  afterId: Flag.Int("after-id").pipe(Flag.withDescription("only ids after this one (before it with --order desc)"), Flag.optional),
  limit: Flag.Int("limit").pipe(Flag.withDescription("at most this many rows (default 100)"), Flag.withDefault(100)),
  order: Flag.String("order").pipe(Flag.withDescription("asc (oldest first, default) or desc"), Flag.withDefault("asc"))
}, Effect.fn("cli.logs.query")(function*(flags) {
  const { dataDir, json } = yield* Root
  const order = yield* decodeOrder(flags.order)
  yield* atLeast("limit", flags.limit, 1)
  const since = yield* optionalTime("since", flags.since)
  const until = yield* optionalTime("until", flags.until)
  const filters: LogQuery = {
    ...Option.match(flags.source, { onNone: () => ({}), onSome: (source) => ({ source }) }),
    ...Option.match(flags.type, { onNone: () => ({}), onSome: (type) => ({ type }) }),
    ...Option.match(flags.ref, { onNone: () => ({}), onSome: (refId) => ({ refId }) }),
    ...Option.match(flags.afterId, { onNone: () => ({}), onSome: (afterId) => ({ afterId }) }),
    ...(since === undefined ? {} : { since }),
    ...(until === undefined ? {} : { until }),
    order
  }
  yield* Effect.gen(function*() {
    const log = yield* LogStore
    // Streamed page by page: a large --limit never holds all its rows.
    yield* log.stream({ ...filters, limit: flags.limit }).pipe(
      Stream.runForEach((row) => json ? Print.json(LogEntry, row) : Print.line(formatRow(row)))
    )
  }).pipe(Effect.provide(DataDir.reading(dataDir)))
})).pipe(Command.withDescription("Log rows matching filters, by id"))

/** How often `tail --follow` looks for rows another process (the daemon) appended. */
const FOLLOW_POLL = Duration.millis(250)

const tail = Command.make("tail", {
  lines: Flag.Int("lines").pipe(Flag.withAlias("n"), Flag.withDescription("how many of the last rows to print first (default 20)"), Flag.withDefault(20)),
  follow: Flag.Boolean("follow").pipe(Flag.withAlias("f"), Flag.withDescription("keep printing new rows until Ctrl-C"), Flag.withDefault(false))
}, Effect.fn("cli.logs.tail")(function*(flags) {
  const { dataDir, json } = yield* Root
  yield* atLeast("lines", flags.lines, 0)
  yield* Effect.gen(function*() {
    const log = yield* LogStore
    const latest = flags.lines === 0 ? [] : yield* log.query({ order: "desc", limit: Math.min(flags.lines, 100_000) })
    const rows = [...latest].reverse()
    yield* printRows(json)(rows)
    if (!flags.follow) return
    const newest = latest[0]?.id ?? (yield* log.query({ order: "desc", limit: 1 }))[0]?.id ?? 0
    yield* Stream.runForEach(log.follow({ afterId: newest }, { pollInterval: FOLLOW_POLL }), (row) => json ? Print.json(LogEntry, row) : Print.line(formatRow(row)))
  }).pipe(Effect.provide(DataDir.reading(dataDir)))
})).pipe(Command.withDescription("The last rows; with --follow, then every new row as it is written"))

/** `nerve-store logs`. */
export const command = Command.make("logs").pipe(
  Command.withDescription("Query and follow the log"),
  Command.withSubcommands([query, tail])
)
