/**
 * `nerve-store runs list|show|cancel|retry|recover`: the runs table (with owner and lease, paged
 * with `--cursor`), one run in full (row, lease, history, trigger, last rounds), the operator's
 * two moves through the state machine, and orphan recovery.
 *
 * @since 0.6.0
 */
import { Clock, Effect, Option, Stream } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import { LogStore, RunNotFound, type RunsCursor, type WorkflowRun, type WorkflowRunStatus } from "../index.ts"
import * as DataDir from "./DataDir.ts"
import { UsageError } from "./Errors.ts"
import { fields, type Fit, fitLine, humanAgo, orDash, table } from "./Format.ts"
import * as CliOutput from "./Output.ts"
import { atLeast, oneOf } from "./Parse.ts"
import * as Print from "./Print.ts"
import { Root } from "./Root.ts"
import { cell } from "./Text.ts"
import * as View from "./View.ts"

const STATUSES: ReadonlyArray<WorkflowRunStatus> = ["queued", "started", "completed", "failed", "crashed", "interrupted", "dropped", "killed"]

/** The lease column: who holds the run and until when, from `now`. */
const leaseCell = (lease: CliOutput.RunLease | null, now: number): readonly [string, string] =>
  lease === null ? ["-", "-"] : [lease.owner, lease.expired ? "expired" : `ends ${humanAgo(lease.expiresAt, now)}`]

/** The runs table for people: fits `view.width` by cutting the run id, workflow and owner. */
export const formatRuns = (
  runs: ReadonlyArray<WorkflowRun>,
  now: number,
  view: Pick<View.View, "width" | "full" | "time"> = { width: undefined, full: false, time: (ms) => View.utc(ms) },
  leases?: ReadonlyMap<string, CliOutput.RunLease | null>
): string =>
  table(
    [
      { header: "RUN", shrink: true },
      { header: "WORKFLOW", shrink: true },
      { header: "STATUS" },
      { header: "EXIT", align: "right" },
      { header: "UPDATED" },
      { header: "" },
      ...(leases === undefined ? [] : [{ header: "OWNER", shrink: true }, { header: "LEASE" }])
    ],
    runs.map((run) => [
      run.runId,
      run.workflow,
      run.status,
      orDash(run.exitCode),
      view.time(run.timestamp),
      humanAgo(run.timestamp, now),
      ...(leases === undefined ? [] : leaseCell(leases.get(run.runId) ?? null, now))
    ]),
    view
  )

const readStatus = oneOf("status", STATUSES)

/** `--cursor` is `<timestamp>:<runId>` of the last run of the previous page (what the cut note prints). */
const readCursor = (text: string): Effect.Effect<RunsCursor, UsageError> => {
  const at = text.indexOf(":")
  const timestamp = Number(text.slice(0, at))
  return at > 0 && Number.isSafeInteger(timestamp) && timestamp >= 0 && at < text.length - 1
    ? Effect.succeed({ timestamp, runId: text.slice(at + 1) })
    : Effect.fail(new UsageError({ field: "--cursor", reason: `${JSON.stringify(text)} is not a cursor printed by runs list (<time>:<run id>)` }))
}

const cursorOf = (run: WorkflowRun) => `${run.timestamp}:${run.runId}`

/** Who holds a run (a stored lease, expired or not). */
const leaseOf = (runId: string, now: number) =>
  LogStore.use((log) => log.getLease(runId)).pipe(
    Effect.map(Option.match({
      onNone: () => null,
      onSome: (lease): CliOutput.RunLease => ({ owner: lease.owner, boot: lease.boot, expiresAt: lease.expiresAt, expired: lease.expiresAt <= now })
    }))
  )

const list = Command.make("list", {
  active: Flag.Boolean("active").pipe(Flag.withDescription("only queued and started runs (oldest first)"), Flag.withDefault(false)),
  workflow: Flag.String("workflow").pipe(Flag.withDescription("only runs of this workflow"), Flag.optional),
  status: Flag.String("status").pipe(Flag.withDescription(`only runs in this status (repeat for several): ${STATUSES.join(", ")}`), Flag.atLeast(0)),
  limit: Flag.Int("limit").pipe(Flag.withDescription("at most this many runs (default 50)"), Flag.withDefault(50)),
  cursor: Flag.String("cursor").pipe(Flag.withDescription("continue after the last run of a page (printed when a list is cut)"), Flag.optional)
}, Effect.fn("cli.runs.list")(function*(flags) {
  const { dataDir, databaseUrl, json } = yield* Root
  const statuses = [...new Set(yield* Effect.forEach(flags.status, readStatus))]
  yield* atLeast("limit", flags.limit, 1)
  const cursor = yield* Option.match(flags.cursor, { onNone: () => Effect.succeed(undefined), onSome: readCursor })
  if (flags.active && cursor !== undefined) return yield* new UsageError({ field: "--cursor", reason: "cannot be used with --active (it lists every active run)" })
  const view = yield* View.current
  yield* Effect.gen(function*() {
    const log = yield* LogStore
    const filters = {
      ...Option.match(flags.workflow, { onNone: () => ({}), onSome: (w) => ({ workflow: w }) }),
      ...(statuses.length === 0 ? {} : { status: statuses })
    }
    let runs: ReadonlyArray<WorkflowRun>
    let total: number | null = null
    let nextCursor: string | null = null
    if (flags.active) {
      const active = (yield* log.activeRuns(Option.getOrUndefined(flags.workflow))).filter((run) => statuses.length === 0 || statuses.includes(run.status))
      runs = active.slice(0, flags.limit)
      total = active.length
    } else {
      // One more than the limit says whether there is a next page; the count covers every match.
      const page = yield* Stream.runCollect(log.streamRuns({ ...filters, ...(cursor === undefined ? {} : { cursor }), limit: flags.limit + 1 }))
      runs = page.slice(0, flags.limit)
      const last = runs[runs.length - 1]
      nextCursor = page.length > flags.limit && last !== undefined ? cursorOf(last) : null
      total = yield* Stream.runCount(log.streamRuns(filters))
    }
    const now = yield* Clock.currentTimeMillis
    const leases = new Map(yield* Effect.forEach(runs, (run) => Effect.map(leaseOf(run.runId, now), (lease) => [run.runId, lease] as const)))
    if (json) {
      return yield* Print.json(CliOutput.RunsList, { runs, leases: [...leases].map(([runId, lease]) => ({ runId, lease })), total, nextCursor })
    }
    yield* Print.line(runs.length === 0 ? "no runs" : formatRuns(runs, now, view, leases))
    if (total !== null && (runs.length < total || nextCursor !== null)) {
      const more = nextCursor === null ? "--limit for more" : `--limit or --cursor ${nextCursor} for more`
      yield* Print.note(`${runs.length.toLocaleString("en-US")} of ${total.toLocaleString("en-US")} runs${cursor === undefined ? "" : " (from the cursor on)"}; ${more}`)
    }
  }).pipe(Effect.provide(DataDir.reading(dataDir, databaseUrl)))
})).pipe(
  Command.withDescription("Runs, newest first, with owner and lease (--active: queued and started, oldest first)"),
  Command.withExamples([
    { command: "nerve-store runs list --status failed --status crashed", description: "the runs that went wrong" },
    { command: "nerve-store runs list --limit 20 --cursor 1764905700000:run-42", description: "the next page after a cut list" }
  ])
)

/** The `source` of the log rows the CLI writes (`runs recover|cancel|retry`). */
const CLI_SOURCE = "nerve-store-cli"

/** How many of the last rounds `runs show` prints. */
const SHOWN_ROUNDS = 5

/** The owner line of `runs show`. */
const formatLease = (lease: CliOutput.RunLease | null, now: number, time: (ms: number) => string): string =>
  lease === null
    ? "- (no lease)"
    : `${lease.owner} (boot ${lease.boot}), lease ${lease.expired ? "expired" : "ends"} ${time(lease.expiresAt)} (${humanAgo(lease.expiresAt, now)})`

/**
 * The trigger block: the trigger by the SPEC's rule, else why there is none and what the started
 * row holds (on one line, made safe). Each line fits `fit` as the key/value block does.
 */
const formatTrigger = (shown: CliOutput.RunShow, fit: Fit): string => {
  if (shown.trigger !== null) return JSON.stringify(shown.trigger, null, 2).split("\n").map((line) => fitLine(line, fit)).join("\n")
  if (shown.startedPayload === null) return "none (no started row with a payload)"
  return [
    fitLine("none: the started row's payload has no prompt and maxRounds (SPEC §Log conventions)", fit),
    fitLine(`  payload: ${cell(shown.startedPayload)}`, fit)
  ].join("\n")
}

/** `runs show` for people: every line fits `view.width` (long values cut with `…`), whole with `view.full`. */
export const formatRunShow = (shown: CliOutput.RunShow, now: number, view: Pick<View.View, "width" | "full" | "time"> = { width: undefined, full: false, time: (ms) => View.utc(ms) }): string => {
  const { run } = shown
  const header = fields([
    ["run", run.runId],
    ["workflow", run.workflow],
    ["status", run.status],
    ["exit code", orDash(run.exitCode)],
    ["updated", `${view.time(run.timestamp)} (${humanAgo(run.timestamp, now)})`],
    ["owner", formatLease(shown.lease, now, view.time)],
    ["rounds", String(shown.roundCount)]
  ], view)
  const history = table(
    [{ header: "FROM" }, { header: "TO" }, { header: "AT" }, { header: "EXIT", align: "right" }, { header: "LOG", align: "right" }],
    shown.history.map((t) => [orDash(t.from), t.to, view.time(t.timestamp), orDash(t.exitCode), String(t.logId)])
  )
  const rounds = shown.lastRounds.length === 0 ? "none" : table(
    [{ header: "ROUND", align: "right" }, { header: "ROLE", shrink: true }, { header: "CONTENT", shrink: true }],
    shown.lastRounds.map((r) => [String(r.round), r.message.role, r.message.content]),
    view
  )
  return [header, "", "History:", history, "", "Trigger:", formatTrigger(shown, view), "", `Last rounds (newest first):`, rounds].join("\n")
}

const runIdArgument = Argument.String("runId").pipe(Argument.withDescription("the run's id"))

/** The run, or `RunNotFound` (exit 1). */
export const requireRun = (runId: string) =>
  LogStore.use((log) => log.getRun(runId)).pipe(
    Effect.flatMap(Option.match({ onNone: () => Effect.fail(new RunNotFound({ runId })), onSome: Effect.succeed }))
  )

const show = Command.make("show", { runId: runIdArgument }, Effect.fn("cli.runs.show")(function*({ runId }) {
  const { dataDir, databaseUrl, json } = yield* Root
  const view = yield* View.current
  yield* Effect.gen(function*() {
    const log = yield* LogStore
    const run = yield* requireRun(runId)
    const now = yield* Clock.currentTimeMillis
    const started = yield* log.query({ source: "workflow", type: "started", refId: runId, order: "asc", limit: 1 })
    const shown: CliOutput.RunShow = {
      run,
      lease: yield* leaseOf(runId, now),
      history: yield* log.runHistory(runId),
      trigger: Option.getOrNull(yield* log.triggerPayload(runId)),
      startedPayload: started[0]?.payload ?? null,
      roundCount: yield* log.threadRoundCount(runId),
      lastRounds: yield* log.threadRounds(runId, { before: 0, limit: SHOWN_ROUNDS })
    }
    yield* json ? Print.json(CliOutput.RunShow, shown) : Print.line(formatRunShow(shown, now, view))
  }).pipe(Effect.provide(DataDir.reading(dataDir, databaseUrl)))
})).pipe(
  Command.withDescription("One run: its row, owner and lease, transitions, trigger payload and last rounds"),
  Command.withExamples([{ command: "nerve-store runs show run-42 --full", description: "one run, its values and last rounds uncut" }])
)

/** Moves a run to `to` through the state machine (`IllegalTransition` names a wrong move). */
const move = (name: "cancel" | "retry", to: "killed" | "queued", description: string, example: string) =>
  Command.make(name, { runId: runIdArgument }, Effect.fn(`cli.runs.${name}`)(function*({ runId }) {
    const { dataDir, databaseUrl, json } = yield* Root
    const view = yield* View.current
    yield* Effect.gen(function*() {
      const log = yield* LogStore
      const before = yield* requireRun(runId)
      if (to === "queued" && before.status !== "crashed" && before.status !== "interrupted") {
        return yield* new UsageError({ field: "runId", reason: `run ${runId} is ${before.status}: only crashed or interrupted runs can be retried` })
      }
      const { run } = yield* log.transition({ source: CLI_SOURCE, type: to }, { runId, workflow: before.workflow, status: to })
      const now = yield* Clock.currentTimeMillis
      yield* json
        ? Print.json(CliOutput.RunMoved, { run, from: before.status })
        : Print.line(`run ${runId}: ${before.status} -> ${run.status}\n${formatRuns([run], now, view)}`)
    }).pipe(Effect.provide(DataDir.updating(dataDir, databaseUrl)))
  })).pipe(Command.withDescription(description), Command.withExamples([{ command: example, description }]))

const cancel = move("cancel", "killed", "Cancels a run: it becomes killed (refused for a finished run, or one a live daemon holds)", "nerve-store runs cancel run-42")
const retry = move("retry", "queued", "Queues a crashed or interrupted run again, for a daemon to pick up", "nerve-store runs retry run-42")

const recover = Command.make("recover", {
  includeQueued: Flag.Boolean("include-queued").pipe(
    Flag.withDescription("also move orphaned queued runs to interrupted"),
    Flag.withDefault(false)
  )
}, Effect.fn("cli.runs.recover")(function*({ includeQueued }) {
  const { dataDir, databaseUrl, json } = yield* Root
  const view = yield* View.current
  yield* Effect.gen(function*() {
    const log = yield* LogStore
    // The CLI is an owner of its own (host:pid:boot), so it takes only runs whose owner is gone:
    // no lease, or an expired one. Runs a live daemon holds are left alone.
    const recovered = yield* log.recoverOrphans({ source: CLI_SOURCE, includeQueued })
    yield* json
      ? Print.json(CliOutput.RunsRecover, { recovered })
      : Print.line(recovered.length === 0 ? "no orphaned runs" : `recovered ${recovered.length} orphaned run(s):\n${formatRuns(recovered, yield* Clock.currentTimeMillis, view)}`)
  }).pipe(Effect.provide(DataDir.updating(dataDir, databaseUrl)))
})).pipe(
  Command.withDescription("Marks orphaned runs (no live owner: lease expired or none) crashed, or interrupted when queued with --include-queued, and lists them"),
  Command.withExamples([{ command: "nerve-store runs recover --include-queued", description: "after a daemon died for good" }])
)

/** `nerve-store runs`. */
export const command = Command.make("runs").pipe(
  Command.withDescription("Workflow runs"),
  Command.withExamples([{ command: "nerve-store runs list --active", description: "what is running now" }]),
  Command.withSubcommands([list, show, cancel, retry, recover])
)
