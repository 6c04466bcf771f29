/**
 * `nerve-store threads rounds|messages`: a run's thread as role rounds (paged, newest first) or
 * as its messages (oldest first).
 *
 * @since 0.6.0
 */
import { Effect } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import { LogStore, type ThreadMessage, type ThreadRoundRow } from "../index.ts"
import * as DataDir from "./DataDir.ts"
import { type Fit, table } from "./Format.ts"
import * as CliOutput from "./Output.ts"
import { atLeast } from "./Parse.ts"
import * as Print from "./Print.ts"
import { Root } from "./Root.ts"
import { requireRun } from "./Runs.ts"
import * as View from "./View.ts"

const runIdArgument = Argument.String("runId").pipe(Argument.withDescription("the run's id"))

type Shown = Fit & { readonly time: (ms: number) => string }

const utcView: Shown = { time: View.utc }

/** A payload timestamp for people (0 means the message had none). */
const when = (timestamp: number, time: (ms: number) => string) => (timestamp > 0 ? time(timestamp) : "-")

/** Rounds for people: the content is cut to the terminal's width (`--full`: whole), escaped. */
export const formatRounds = (rounds: ReadonlyArray<ThreadRoundRow>, view: Shown = utcView): string =>
  table(
    [{ header: "ROUND", align: "right" }, { header: "LOG", align: "right" }, { header: "AT" }, { header: "ROLE", shrink: true }, { header: "CONTENT", shrink: true }],
    rounds.map((r) => [String(r.round), String(r.logId), when(r.timestamp, view.time), r.message.role, r.message.content]),
    view
  )

/** Messages for people, as {@link formatRounds}. */
export const formatMessages = (messages: ReadonlyArray<ThreadMessage>, view: Shown = utcView): string =>
  table(
    [{ header: "#", align: "right" }, { header: "AT" }, { header: "ROLE", shrink: true }, { header: "CONTENT", shrink: true }],
    messages.map((m, i) => [String(i + 1), when(m.timestamp, view.time), m.role, m.content]),
    view
  )

const rounds = Command.make("rounds", {
  runId: runIdArgument,
  before: Flag.Int("before").pipe(Flag.withDescription("only rounds numbered below this (0 = no bound)"), Flag.withDefault(0)),
  limit: Flag.Int("limit").pipe(Flag.withDescription("at most this many rounds (default 20)"), Flag.withDefault(20))
}, Effect.fn("cli.threads.rounds")(function*({ runId, before, limit }) {
  const { dataDir, databaseUrl, json } = yield* Root
  yield* atLeast("before", before, 0)
  yield* atLeast("limit", limit, 1)
  const view = yield* View.current
  yield* Effect.gen(function*() {
    const log = yield* LogStore
    yield* requireRun(runId)
    const page = yield* log.threadRounds(runId, { before, limit })
    const roundCount = yield* log.threadRoundCount(runId)
    yield* json
      ? Print.json(CliOutput.ThreadRounds, { runId, roundCount, rounds: page })
      : Print.line(page.length === 0 ? `no rounds (run ${runId} has ${roundCount})` : `${formatRounds(page, view)}\n(${page.length} of ${roundCount} rounds)`)
  }).pipe(Effect.provide(DataDir.reading(dataDir, databaseUrl)))
})).pipe(
  Command.withDescription("A run's role rounds, newest first (page with --before)"),
  Command.withExamples([{ command: "nerve-store threads rounds run-42 --before 21 --limit 20", description: "rounds 1 to 20 of a run" }])
)

const messages = Command.make("messages", { runId: runIdArgument }, Effect.fn("cli.threads.messages")(function*({ runId }) {
  const { dataDir, databaseUrl, json } = yield* Root
  const view = yield* View.current
  yield* Effect.gen(function*() {
    const log = yield* LogStore
    yield* requireRun(runId)
    const found = yield* log.threadMessages(runId)
    yield* json
      ? Print.json(CliOutput.ThreadMessages, { runId, messages: found })
      : Print.line(found.length === 0 ? `no messages for run ${runId}` : formatMessages(found, view))
  }).pipe(Effect.provide(DataDir.reading(dataDir, databaseUrl)))
})).pipe(
  Command.withDescription("A run's thread messages, oldest first"),
  Command.withExamples([{ command: "nerve-store threads messages run-42 --full", description: "every message, uncut" }])
)

/** `nerve-store threads`. */
export const command = Command.make("threads").pipe(
  Command.withDescription("The thread of a run: messages and role rounds"),
  Command.withExamples([{ command: "nerve-store threads messages run-42", description: "a run's conversation" }]),
  Command.withSubcommands([rounds, messages])
)
