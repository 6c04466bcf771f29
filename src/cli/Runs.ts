/**
 * `nerve-store runs list|show|recover`: the runs table, one run in full (row, lease, history,
 * trigger, last rounds), and orphan recovery.
 *
 * @since 0.6.0
 */
import { Clock, Effect, Option, Schema } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import { RunNotFound } from "../../schema/Errors.ts"
import { type WorkflowRun, WorkflowRunStatus } from "../../schema/WorkflowRun.ts"
import { inputDecoder } from "../domain/Validate.ts"
import { LogStore } from "../LogStore.ts"
import * as DataDir from "./DataDir.ts"
import { fields, humanAgo, humanTime, orDash, table, truncate } from "./Format.ts"
import * as CliOutput from "./Output.ts"
import { atLeast } from "./Parse.ts"
import * as Print from "./Print.ts"
import { Root } from "./Root.ts"

/** The runs table for people. */
export const formatRuns = (runs: ReadonlyArray<WorkflowRun>, now: number): string =>
  table(
    [{ header: "RUN" }, { header: "WORKFLOW" }, { header: "STATUS" }, { header: "EXIT", align: "right" }, { header: "UPDATED" }, { header: "" }],
    runs.map((run) => [run.runId, run.workflow, run.status, orDash(run.exitCode), humanTime(run.timestamp), humanAgo(run.timestamp, now)])
  )

const decodeStatuses = inputDecoder(Schema.Array(WorkflowRunStatus), "--status")

/**
 * Runs newest first in any of `statuses`. Stand-in: one `runs` query per status, merged, until
 * `runs({ status: [...] })` lands.
 */
const runsIn = Effect.fnUntraced(function*(workflow: Option.Option<string>, statuses: ReadonlyArray<WorkflowRunStatus>, limit: number) {
  const log = yield* LogStore
  const base = { limit, ...Option.match(workflow, { onNone: () => ({}), onSome: (w) => ({ workflow: w }) }) }
  if (statuses.length === 0) return yield* log.runs(base)
  const pages = yield* Effect.forEach([...new Set(statuses)], (status) => log.runs({ ...base, status }))
  return pages.flat().sort((a, b) => b.timestamp - a.timestamp || (a.runId < b.runId ? -1 : 1)).slice(0, limit)
})

const list = Command.make("list", {
  active: Flag.Boolean("active").pipe(Flag.withDescription("only queued and started runs (oldest first)"), Flag.withDefault(false)),
  workflow: Flag.String("workflow").pipe(Flag.withDescription("only runs of this workflow"), Flag.optional),
  status: Flag.String("status").pipe(Flag.withDescription("only runs in this status (repeat for several)"), Flag.atLeast(0)),
  limit: Flag.Int("limit").pipe(Flag.withDescription("at most this many runs (default 50)"), Flag.withDefault(50))
}, Effect.fn("cli.runs.list")(function*(flags) {
  const { dataDir, json } = yield* Root
  const statuses = yield* decodeStatuses(flags.status)
  yield* atLeast("limit", flags.limit, 1)
  yield* Effect.gen(function*() {
    const log = yield* LogStore
    const runs = flags.active
      ? (yield* log.activeRuns(Option.getOrUndefined(flags.workflow))).filter((run) => statuses.length === 0 || statuses.includes(run.status)).slice(0, flags.limit)
      : yield* runsIn(flags.workflow, statuses, flags.limit)
    const now = yield* Clock.currentTimeMillis
    yield* json ? Print.json(CliOutput.RunsList, { runs }) : Print.line(runs.length === 0 ? "no runs" : formatRuns(runs, now))
  }).pipe(Effect.provide(DataDir.reading(dataDir)))
})).pipe(Command.withDescription("Runs, newest first (--active: queued and started, oldest first)"))

/** How many of the last rounds `runs show` prints. */
const SHOWN_ROUNDS = 5

/**
 * Who holds a run. Stand-in: none until leases land in the LogStore (then: the lease row of the
 * run when it has not expired).
 */
const leaseOf = (_runId: string): Effect.Effect<CliOutput.RunLease | null> => Effect.succeed(null)

/** `runs show` for people. */
export const formatRunShow = (shown: CliOutput.RunShow, now: number): string => {
  const { run } = shown
  const header = fields([
    ["run", run.runId],
    ["workflow", run.workflow],
    ["status", run.status],
    ["exit code", orDash(run.exitCode)],
    ["updated", `${humanTime(run.timestamp)} (${humanAgo(run.timestamp, now)})`],
    ["owner", shown.lease === null ? "-" : `${shown.lease.owner}, lease ${humanAgo(shown.lease.expiresAt, now).replace(/^in /, "ends in ")}`],
    ["rounds", String(shown.roundCount)]
  ])
  const history = table(
    [{ header: "FROM" }, { header: "TO" }, { header: "AT" }, { header: "EXIT", align: "right" }, { header: "LOG", align: "right" }],
    shown.history.map((t) => [orDash(t.from), t.to, humanTime(t.timestamp), orDash(t.exitCode), String(t.logId)])
  )
  const trigger = shown.trigger === null ? "none" : JSON.stringify(shown.trigger, null, 2)
  const rounds = shown.lastRounds.length === 0 ? "none" : table(
    [{ header: "ROUND", align: "right" }, { header: "ROLE" }, { header: "CONTENT" }],
    shown.lastRounds.map((r) => [String(r.round), r.message.role, truncate(r.message.content, 80)])
  )
  return [header, "", "History:", history, "", "Trigger:", trigger, "", `Last rounds (newest first):`, rounds].join("\n")
}

const show = Command.make("show", {
  runId: Argument.String("runId").pipe(Argument.withDescription("the run's id"))
}, Effect.fn("cli.runs.show")(function*({ runId }) {
  const { dataDir, json } = yield* Root
  yield* Effect.gen(function*() {
    const log = yield* LogStore
    const run = yield* log.getRun(runId)
    if (Option.isNone(run)) return yield* new RunNotFound({ runId })
    const shown: CliOutput.RunShow = {
      run: run.value,
      lease: yield* leaseOf(runId),
      history: yield* log.runHistory(runId),
      trigger: Option.getOrNull(yield* log.triggerPayload(runId)),
      roundCount: yield* log.threadRoundCount(runId),
      lastRounds: yield* log.threadRounds(runId, { before: 0, limit: SHOWN_ROUNDS })
    }
    yield* json ? Print.json(CliOutput.RunShow, shown) : Print.line(formatRunShow(shown, yield* Clock.currentTimeMillis))
  }).pipe(Effect.provide(DataDir.reading(dataDir)))
})).pipe(Command.withDescription("One run: its row, owner and lease, transitions, trigger payload and last rounds"))

const recover = Command.make("recover", {}, Effect.fn("cli.runs.recover")(function*() {
  const { dataDir, json } = yield* Root
  yield* Effect.gen(function*() {
    const log = yield* LogStore
    // Stand-in for `recoverOrphans()`: until leases land this takes every `started` run.
    const recovered = yield* log.markOrphansCrashed({ source: "nerve-store-cli" })
    yield* json
      ? Print.json(CliOutput.RunsRecover, { recovered })
      : Print.line(recovered.length === 0 ? "no orphaned runs" : `marked ${recovered.length} orphaned run(s) crashed:\n${formatRuns(recovered, yield* Clock.currentTimeMillis)}`)
  }).pipe(Effect.provide(DataDir.updating(dataDir)))
})).pipe(Command.withDescription("Marks orphaned started runs crashed and lists them (until leases land: every started run, so not while a daemon runs)"))

/** `nerve-store runs`. */
export const command = Command.make("runs").pipe(
  Command.withDescription("Workflow runs"),
  Command.withSubcommands([list, show, recover])
)
