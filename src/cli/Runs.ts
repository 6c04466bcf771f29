/**
 * `nerve-store runs list|show|recover`: the runs table, one run in full (row, lease, history,
 * trigger, last rounds), and orphan recovery.
 *
 * @since 0.6.0
 */
import { Clock, Effect, Option, Schema, Stream } from "effect"
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
 * Runs newest first in any of `statuses`: one `runs` query per page, the cursor continuing after
 * the last run of the previous one, so a `--limit` above one page's cap still works.
 */
const runsIn = (workflow: Option.Option<string>, statuses: ReadonlyArray<WorkflowRunStatus>, limit: number) =>
  LogStore.use((log) =>
    log.streamRuns({
      limit,
      ...Option.match(workflow, { onNone: () => ({}), onSome: (w) => ({ workflow: w }) }),
      ...(statuses.length === 0 ? {} : { status: [...new Set(statuses)] })
    }).pipe(Stream.runCollect)
  )

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

/** The `source` of the log rows `runs recover` writes. */
const CLI_SOURCE = "nerve-store-cli"

/** How many of the last rounds `runs show` prints. */
const SHOWN_ROUNDS = 5

/** Who holds a run (a stored lease, expired or not). */
const leaseOf = (runId: string, now: number) =>
  LogStore.use((log) => log.getLease(runId)).pipe(
    Effect.map(Option.match({
      onNone: () => null,
      onSome: (lease): CliOutput.RunLease => ({ owner: lease.owner, boot: lease.boot, expiresAt: lease.expiresAt, expired: lease.expiresAt <= now })
    }))
  )

/** The owner line of `runs show`. */
const formatLease = (lease: CliOutput.RunLease | null, now: number): string =>
  lease === null
    ? "- (no lease)"
    : `${lease.owner} (boot ${lease.boot}), lease ${lease.expired ? "expired" : "ends"} ${humanTime(lease.expiresAt)} (${humanAgo(lease.expiresAt, now)})`

/** `runs show` for people. */
export const formatRunShow = (shown: CliOutput.RunShow, now: number): string => {
  const { run } = shown
  const header = fields([
    ["run", run.runId],
    ["workflow", run.workflow],
    ["status", run.status],
    ["exit code", orDash(run.exitCode)],
    ["updated", `${humanTime(run.timestamp)} (${humanAgo(run.timestamp, now)})`],
    ["owner", formatLease(shown.lease, now)],
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
    const now = yield* Clock.currentTimeMillis
    const shown: CliOutput.RunShow = {
      run: run.value,
      lease: yield* leaseOf(runId, now),
      history: yield* log.runHistory(runId),
      trigger: Option.getOrNull(yield* log.triggerPayload(runId)),
      roundCount: yield* log.threadRoundCount(runId),
      lastRounds: yield* log.threadRounds(runId, { before: 0, limit: SHOWN_ROUNDS })
    }
    yield* json ? Print.json(CliOutput.RunShow, shown) : Print.line(formatRunShow(shown, now))
  }).pipe(Effect.provide(DataDir.reading(dataDir)))
})).pipe(Command.withDescription("One run: its row, owner and lease, transitions, trigger payload and last rounds"))

const recover = Command.make("recover", {
  includeQueued: Flag.Boolean("include-queued").pipe(
    Flag.withDescription("also move orphaned queued runs to interrupted"),
    Flag.withDefault(false)
  )
}, Effect.fn("cli.runs.recover")(function*({ includeQueued }) {
  const { dataDir, json } = yield* Root
  yield* Effect.gen(function*() {
    const log = yield* LogStore
    // The CLI is an owner of its own (host:pid:boot), so it takes only runs whose owner is gone:
    // no lease, or an expired one. Runs a live daemon holds are left alone.
    const recovered = yield* log.recoverOrphans({ source: CLI_SOURCE, includeQueued })
    yield* json
      ? Print.json(CliOutput.RunsRecover, { recovered })
      : Print.line(recovered.length === 0 ? "no orphaned runs" : `recovered ${recovered.length} orphaned run(s):\n${formatRuns(recovered, yield* Clock.currentTimeMillis)}`)
  }).pipe(Effect.provide(DataDir.updating(dataDir)))
})).pipe(Command.withDescription("Marks orphaned runs (no live owner: lease expired or none) crashed, or interrupted when queued with --include-queued, and lists them"))

/** `nerve-store runs`. */
export const command = Command.make("runs").pipe(
  Command.withDescription("Workflow runs"),
  Command.withSubcommands([list, show, recover])
)
