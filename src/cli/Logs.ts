/**
 * `nerve-store logs query|tail`: log rows as lines for people, JSON Lines of `LogEntry` for
 * scripts. Both take the same filters; `tail --follow` keeps printing matching rows other
 * processes append until Ctrl-C. `query` says when it cut the list and how to page on.
 *
 * @since 0.6.0
 */
import { Duration, Effect, Option, Stream } from "effect"
import { Command, Flag } from "effect/cli"
import { LogEntry, type LogQuery, LogStore } from "../index.ts"
import * as DataDir from "./DataDir.ts"
import { UsageError } from "./Errors.ts"
import { formatter } from "./LogLine.ts"
import { atLeast, oneOf, TIME_HELP, timeRange } from "./Parse.ts"
import * as Print from "./Print.ts"
import { Root } from "./Root.ts"
import * as View from "./View.ts"

/** Prints one row: a JSON line, or a line for people. */
export const rowPrinter = Effect.gen(function*() {
  const { json } = yield* Root
  const format = formatter(yield* View.current)
  return (row: LogEntry) => (json ? Print.json(LogEntry, row) : Print.line(format(row)))
})

/** The filters `query` and `tail` share. */
const filterFlags = {
  source: Flag.String("source").pipe(Flag.withDescription("only rows of this source"), Flag.optional),
  type: Flag.String("type").pipe(Flag.withDescription("only rows of this type"), Flag.optional),
  ref: Flag.String("ref").pipe(Flag.withDescription("only rows with this ref id (e.g. a run id)"), Flag.optional),
  since: Flag.String("since").pipe(Flag.withDescription(`from this time, inclusive: ${TIME_HELP}`), Flag.optional),
  until: Flag.String("until").pipe(Flag.withDescription("up to this time, inclusive (same forms as --since)"), Flag.optional)
}

type Filters = { readonly [K in keyof typeof filterFlags]: Option.Option<string> }

/** The filters as a `LogQuery` (times read and checked). */
const readFilters = Effect.fnUntraced(function*(flags: Filters) {
  const times = yield* timeRange(flags.since, flags.until)
  return {
    ...Option.match(flags.source, { onNone: () => ({}), onSome: (source) => ({ source }) }),
    ...Option.match(flags.type, { onNone: () => ({}), onSome: (type) => ({ type }) }),
    ...Option.match(flags.ref, { onNone: () => ({}), onSome: (refId) => ({ refId }) }),
    ...times
  } satisfies LogQuery
})

const readOrder = oneOf("order", ["asc", "desc"] as const)

const query = Command.make("query", {
  ...filterFlags,
  afterId: Flag.Int("after-id").pipe(Flag.withDescription("only ids after this one (before it with --order desc)"), Flag.optional),
  cursor: Flag.Int("cursor").pipe(Flag.withDescription("continue a listing that was cut: the id it printed"), Flag.optional),
  limit: Flag.Int("limit").pipe(Flag.withDescription("at most this many rows (default 100)"), Flag.withDefault(100)),
  order: Flag.String("order").pipe(
    Flag.withDescription("asc (oldest first) or desc (newest first); default: oldest first with a filter, else the newest rows"),
    Flag.optional
  )
}, Effect.fn("cli.logs.query")(function*(flags) {
  const { dataDir, databaseUrl, json } = yield* Root
  const order = yield* Option.match(flags.order, { onNone: () => Effect.succeed(undefined), onSome: readOrder })
  yield* atLeast("limit", flags.limit, 1)
  if (Option.isSome(flags.afterId) && Option.isSome(flags.cursor)) {
    return yield* new UsageError({ field: "--cursor", reason: "give --cursor or --after-id, not both" })
  }
  const filters = yield* readFilters(flags)
  const filtered = Object.keys(filters).length > 0 || Option.isSome(flags.afterId)
  // A bare `logs query` shows the newest rows (printed oldest first, as `tail`); with a filter
  // the oldest matching rows come first, so a listing reads forward from where it starts.
  const mode = order ?? (filtered ? "asc" : "newest")
  const after = Option.orElse(flags.cursor, () => flags.afterId)
  const print = yield* rowPrinter
  yield* Effect.gen(function*() {
    const log = yield* LogStore
    // One row more than the limit tells whether the list was cut. Streamed page by page: a
    // large --limit never holds all its rows (except the newest mode, which reverses a page).
    const rows = log.stream({
      ...filters,
      ...Option.match(after, { onNone: () => ({}), onSome: (afterId) => ({ afterId }) }),
      order: mode === "asc" ? "asc" : "desc",
      limit: flags.limit + 1
    })
    let shown = 0
    let last: number | undefined
    let cut = false
    if (mode === "newest") {
      const newest = yield* Stream.runCollect(rows)
      cut = newest.length > flags.limit
      const page = newest.slice(0, flags.limit).reverse()
      yield* Effect.forEach(page, print, { discard: true })
      shown = page.length
      last = page[0]?.id
    } else {
      yield* rows.pipe(
        Stream.take(flags.limit + 1),
        Stream.runForEach((row) => {
          if (shown === flags.limit) {
            cut = true
            return Effect.void
          }
          shown++
          last = row.id
          return print(row)
        })
      )
    }
    // People are told on stderr; a script reads JSON Lines and asks for one row more itself.
    if (cut && last !== undefined && !json) {
      const direction = mode === "asc" ? "newer" : "older"
      yield* Print.note(`${shown.toLocaleString("en-US")} rows shown, ${direction} rows match; --limit or --cursor ${last} for more`)
    }
  }).pipe(Effect.provide(DataDir.reading(dataDir, databaseUrl)))
})).pipe(
  Command.withDescription("Log rows matching filters. Bare: the newest rows; with a filter: the oldest matching first"),
  Command.withExamples([
    { command: "nerve-store logs query", description: "the newest 100 rows" },
    { command: "nerve-store logs query --ref run-42 --since 2h", description: "one run's rows of the last two hours" },
    { command: "nerve-store logs query --since 2026-12-05T03:35:00Z --until 2026-12-05T04:00:00Z --json", description: "a time window (UTC) as JSON Lines" }
  ])
)

/** How often `tail --follow` looks for rows another process (the daemon) appended. */
const FOLLOW_POLL = Duration.millis(250)

const tail = Command.make("tail", {
  ...filterFlags,
  lines: Flag.Int("lines").pipe(Flag.withAlias("n"), Flag.withDescription("how many of the last rows to print first (default 20)"), Flag.withDefault(20)),
  follow: Flag.Boolean("follow").pipe(Flag.withAlias("f"), Flag.withDescription("keep printing new matching rows until Ctrl-C"), Flag.withDefault(false))
}, Effect.fn("cli.logs.tail")(function*(flags) {
  const { dataDir, databaseUrl } = yield* Root
  yield* atLeast("lines", flags.lines, 0)
  if (flags.follow && Option.isSome(flags.until)) {
    return yield* new UsageError({ field: "--until", reason: "cannot be used with --follow (new rows are always later)" })
  }
  const filters = yield* readFilters(flags)
  const print = yield* rowPrinter
  yield* Effect.gen(function*() {
    const log = yield* LogStore
    const latest = flags.lines === 0 ? [] : yield* log.query({ ...filters, order: "desc", limit: Math.min(flags.lines, 100_000) })
    yield* Effect.forEach([...latest].reverse(), print, { discard: true })
    if (!flags.follow) return
    // Follow from the newest row of the whole log (not only of the matching ones): what was
    // written before the command started is not "new".
    const newest = (yield* log.query({ order: "desc", limit: 1 }))[0]?.id ?? 0
    const { since: _since, until: _until, ...followFilters } = filters
    yield* Stream.runForEach(log.follow({ ...followFilters, afterId: newest }, { pollInterval: FOLLOW_POLL }), print)
  }).pipe(Effect.provide(DataDir.reading(dataDir, databaseUrl)))
})).pipe(
  Command.withDescription("The last rows; with --follow, then every new matching row as it is written"),
  Command.withExamples([
    { command: "nerve-store logs tail -n 50", description: "the last 50 rows" },
    { command: "nerve-store logs tail -f --source workflow --type started", description: "every run start as it happens" }
  ])
)

/** `nerve-store logs`. */
export const command = Command.make("logs").pipe(
  Command.withDescription("Query and follow the log"),
  Command.withExamples([{ command: "nerve-store logs tail -f", description: "follow the log" }]),
  Command.withSubcommands([query, tail])
)
