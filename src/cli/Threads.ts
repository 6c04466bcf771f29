/**
 * `nerve-store threads rounds|messages`: a run's thread as role rounds (paged, newest first) or
 * as its messages (oldest first).
 *
 * @since 0.6.0
 */
import { Effect } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import type { ThreadMessage, ThreadRoundRow } from "../../schema/Thread.ts"
import { LogStore } from "../LogStore.ts"
import * as DataDir from "./DataDir.ts"
import { humanTime, table, truncate } from "./Format.ts"
import * as CliOutput from "./Output.ts"
import { atLeast } from "./Parse.ts"
import * as Print from "./Print.ts"
import { Root } from "./Root.ts"

const runIdArgument = Argument.String("runId").pipe(Argument.withDescription("the run's id"))

/** A payload timestamp for people (0 means the message had none). */
const when = (timestamp: number) => (timestamp > 0 ? humanTime(timestamp) : "-")

/** Rounds for people. */
export const formatRounds = (rounds: ReadonlyArray<ThreadRoundRow>): string =>
  table(
    [{ header: "ROUND", align: "right" }, { header: "LOG", align: "right" }, { header: "AT" }, { header: "ROLE" }, { header: "CONTENT" }],
    rounds.map((r) => [String(r.round), String(r.logId), when(r.timestamp), r.message.role, truncate(r.message.content, 80)])
  )

/** Messages for people. */
export const formatMessages = (messages: ReadonlyArray<ThreadMessage>): string =>
  table(
    [{ header: "#", align: "right" }, { header: "AT" }, { header: "ROLE" }, { header: "CONTENT" }],
    messages.map((m, i) => [String(i + 1), when(m.timestamp), m.role, truncate(m.content, 100)])
  )

const rounds = Command.make("rounds", {
  runId: runIdArgument,
  before: Flag.Int("before").pipe(Flag.withDescription("only rounds numbered below this (0 = no bound)"), Flag.withDefault(0)),
  limit: Flag.Int("limit").pipe(Flag.withDescription("at most this many rounds (default 20)"), Flag.withDefault(20))
}, Effect.fn("cli.threads.rounds")(function*({ runId, before, limit }) {
  const { dataDir, json } = yield* Root
  yield* atLeast("before", before, 0)
  yield* atLeast("limit", limit, 1)
  yield* Effect.gen(function*() {
    const log = yield* LogStore
    const page = yield* log.threadRounds(runId, { before, limit })
    const roundCount = yield* log.threadRoundCount(runId)
    yield* json
      ? Print.json(CliOutput.ThreadRounds, { runId, roundCount, rounds: page })
      : Print.line(page.length === 0 ? `no rounds (run ${runId} has ${roundCount})` : `${formatRounds(page)}\n(${page.length} of ${roundCount} rounds)`)
  }).pipe(Effect.provide(DataDir.reading(dataDir)))
})).pipe(Command.withDescription("A run's role rounds, newest first (page with --before)"))

const messages = Command.make("messages", { runId: runIdArgument }, Effect.fn("cli.threads.messages")(function*({ runId }) {
  const { dataDir, json } = yield* Root
  yield* Effect.gen(function*() {
    const log = yield* LogStore
    const found = yield* log.threadMessages(runId)
    yield* json
      ? Print.json(CliOutput.ThreadMessages, { runId, messages: found })
      : Print.line(found.length === 0 ? `no messages for run ${runId}` : formatMessages(found))
  }).pipe(Effect.provide(DataDir.reading(dataDir)))
})).pipe(Command.withDescription("A run's thread messages, oldest first"))

/** `nerve-store threads`. */
export const command = Command.make("threads").pipe(
  Command.withDescription("The thread of a run: messages and role rounds"),
  Command.withSubcommands([rounds, messages])
)
