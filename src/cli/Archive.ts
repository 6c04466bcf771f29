/**
 * `nerve-store archive [days|read|restore]`: move old days out of SQLite (with a progress
 * display and a summary table), list the archived days, print one back, restore one.
 *
 * @since 0.6.0
 */
import { Clock, Effect, Option, Ref, Result, Stream } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import {
  type ArchivedDay,
  type ArchiveDayResult,
  type ArchivePlan,
  type ArchiveProgress,
  DEFAULT_KEEP_RESTORED_MS,
  type DayFailed,
  type DaySkipped,
  LogArchive,
  parseUtcDay,
  RestoreResult
} from "../index.ts"
import * as DataDir from "./DataDir.ts"
import { CheckFailed } from "./Errors.ts"
import { humanBytes, humanTime, orDash, table, truncate } from "./Format.ts"
import { rowPrinter } from "./Logs.ts"
import * as CliOutput from "./Output.ts"
import { atLeast, parseDuration } from "./Parse.ts"
import * as Print from "./Print.ts"
import * as Progress from "./Progress.ts"
import { Root } from "./Root.ts"

/** How long `archive` leaves a restored day in SQLite, in days (the archive's default). */
const KEEP_RESTORED_DAYS = DEFAULT_KEEP_RESTORED_MS / 86_400_000

/** The plan for people (`--dry-run`). */
export const formatPlan = (plan: ArchivePlan, bare = false): string =>
  plan.days.length === 0
    ? `nothing to archive (days up to ${plan.lastEligibleDay} are eligible; archived up to ${plan.watermark ?? "never"})`
    : `${table(
      [{ header: "DAY" }, { header: "ROWS", align: "right" }, { header: "MIN ID", align: "right" }, { header: "MAX ID", align: "right" }],
      plan.days.map((d) => [d.day, String(d.rowCount), String(d.minId), String(d.maxId)])
    )}\n(${bare ? "preview" : "dry run"}: ${plan.days.length} day(s) would be archived; nothing was written${bare ? "; add --yes to archive them" : ""})`

/** The summary after an archive run. */
export const formatSummary = (run: CliOutput.ArchiveRun): string => {
  const days = run.result?.days ?? run.archived
  const lines = days.length === 0 ? ["nothing archived"] : [table(
    [{ header: "DAY" }, { header: "ROWS", align: "right" }, { header: "LINES", align: "right" }, { header: "SIZE", align: "right" }, { header: "FILE" }],
    days.map((d) => [d.day, String(d.rowCount), String(d.lineCount), humanBytes(d.bytes), d.file])
  )]
  for (const skipped of run.skipped) lines.push(`skipped ${skipped.day}: ${skipped.reason}`)
  if (run.failed.length > 0) {
    lines.push(table(
      [{ header: "FAILED DAY" }, { header: "ERROR" }, { header: "MESSAGE" }],
      run.failed.map((f) => [f.day, f.error, truncate(f.message, 120)])
    ))
  }
  const rows = days.reduce((sum, d) => sum + d.rowCount, 0)
  lines.push(
    `${days.length} day(s), ${rows} rows archived${run.result?.vacuumed === true ? ", database vacuumed" : ""}` +
      (run.failed.length === 0 ? "" : `; ${run.failed.length} day(s) FAILED (their rows stay in SQLite)`)
  )
  return lines.join("\n")
}

/** The archived days for people. */
export const formatDays = (days: ReadonlyArray<ArchivedDay>): string =>
  table(
    [{ header: "DAY" }, { header: "STATUS" }, { header: "LINES", align: "right" }, { header: "SIZE", align: "right" }, { header: "GZIP" }, { header: "SHA256" }, { header: "ARCHIVED" }],
    days.map((d) => [
      d.day,
      d.status,
      orDash(d.lineCount),
      d.bytes === null ? "-" : humanBytes(d.bytes),
      d.compressed ? "yes" : "no",
      d.sha256 === null ? "- (0.5 file)" : d.sha256.slice(0, 12),
      d.archivedAt === null ? "-" : humanTime(d.archivedAt)
    ])
  )

const archive = Command.make("archive", {
  dryRun: Flag.Boolean("dry-run").pipe(Flag.withDescription("show what would be archived; write nothing (what a bare archive does)"), Flag.withDefault(false)),
  yes: Flag.Boolean("yes").pipe(Flag.withDescription("archive: without it, archive only previews what it would do"), Flag.withDefault(false)),
  maxDays: Flag.Int("max-days").pipe(Flag.withDescription("archive at most this many days"), Flag.optional),
  retention: Flag.String("retention").pipe(Flag.withDescription("keep this much in SQLite (default 30d; e.g. 7d, 12h)"), Flag.withDefault("30d")),
  vacuum: Flag.Boolean("vacuum").pipe(Flag.withDescription("VACUUM the database afterwards"), Flag.withDefault(false)),
  gzip: Flag.Boolean("gzip").pipe(Flag.withDescription("write .jsonl.gz files"), Flag.withDefault(false)),
  includeRestored: Flag.Boolean("include-restored").pipe(
    Flag.withDescription(`also archive days restored less than ${KEEP_RESTORED_DAYS} days ago (held back by default)`),
    Flag.withDefault(false)
  )
}, Effect.fn("cli.archive")(function*(flags) {
  const { dataDir, databaseUrl, json } = yield* Root
  const retentionMs = yield* parseDuration("retention", flags.retention)
  const maxDays = yield* Option.match(flags.maxDays, {
    onNone: () => Effect.succeed({}),
    onSome: (n) => Effect.map(atLeast("max-days", n, 1), (maxDays) => ({ maxDays }))
  })
  const options = {
    retentionMs,
    ...maxDays,
    vacuum: flags.vacuum,
    compress: flags.gzip ? "gzip" as const : "none" as const,
    includeRestored: flags.includeRestored
  }
  yield* Effect.gen(function*() {
    const archiver = yield* LogArchive
    const now = yield* Clock.currentTimeMillis
    const plan = yield* archiver.plan({ ...options, now })
    // Nothing destructive without a preview: a bare `archive` (or --dry-run) only shows the plan.
    if (flags.dryRun || !flags.yes) {
      const run = { dryRun: true, plan, result: null, archived: [], skipped: [], failed: [] }
      return yield* json ? Print.json(CliOutput.ArchiveRun, run) : Print.line(formatPlan(plan, !flags.dryRun))
    }
    const events = yield* Ref.make<Outcomes>({ archived: [], skipped: [], failed: [] })
    const draw = json ? undefined : Progress.listener(yield* Print.stdoutIsTerminal)
    // A failing day does not stop the run: `archive` reports it (DayFailed), goes on with the next
    // day and fails at the end with the first error. The events say what happened to every day,
    // so the summary is printed either way and the error only sets the exit code.
    const terminal = draw !== undefined && (yield* Print.stdoutIsTerminal)
    // Ctrl-C: the day in progress is rolled back by the archive; what was done is printed.
    const partial = Effect.gen(function*() {
      const seen = yield* Ref.get(events)
      const run: CliOutput.ArchiveRun = { dryRun: false, plan, result: null, ...seen }
      if (terminal) yield* Print.raw("\r\x1b[2K")
      yield* json ? Print.json(CliOutput.ArchiveRun, run) : Print.line(`${formatSummary(run)}\ninterrupted: the day in progress stays in SQLite`)
    })
    const outcome = yield* Effect.result(archiver.archive({ ...options, now }, (event) =>
      Effect.andThen(Ref.update(events, (o) => record(o, event)), draw === undefined ? Effect.void : draw(event)))).pipe(
        Effect.onInterrupt(() => partial)
      )
    const seen = yield* Ref.get(events)
    const run: CliOutput.ArchiveRun = {
      dryRun: false,
      plan,
      result: Result.isSuccess(outcome) ? outcome.success : null,
      ...seen
    }
    yield* json ? Print.json(CliOutput.ArchiveRun, run) : Print.line(formatSummary(run))
    if (Result.isFailure(outcome)) {
      if (seen.failed.length === 0) return yield* outcome.failure
      return yield* new CheckFailed({
        summary: `${seen.failed.length} day(s) failed to archive (${seen.failed.map((f) => f.day).join(", ")}); first: ${outcome.failure.message}`
      })
    }
  }).pipe(Effect.provide(DataDir.updating(dataDir, databaseUrl)))
})).pipe(
  Command.withDescription("Previews, and with --yes moves, whole UTC days older than --retention out of SQLite into archive/logs/"),
  Command.withExamples([
    { command: "nerve-store archive", description: "what would be archived (writes nothing)" },
    { command: "nerve-store archive --yes --gzip --max-days 7", description: "archive up to 7 days, compressed" }
  ])
)

/** What an archive run did to each day, from its progress events. */
interface Outcomes {
  readonly archived: ReadonlyArray<ArchiveDayResult>
  readonly skipped: ReadonlyArray<DaySkipped>
  readonly failed: ReadonlyArray<DayFailed>
}

const record = (o: Outcomes, event: ArchiveProgress): Outcomes => {
  switch (event._tag) {
    case "DayFinished":
      return { ...o, archived: [...o.archived, event.result] }
    case "DaySkipped":
      return { ...o, skipped: [...o.skipped, event] }
    case "DayFailed":
      return { ...o, failed: [...o.failed, event] }
    default:
      return o
  }
}

const dayArgument = Argument.String("day").pipe(Argument.withDescription("a UTC day, YYYY-MM-DD"))

const days = Command.make("days", {}, Effect.fn("cli.archive.days")(function*() {
  const { dataDir, databaseUrl, json } = yield* Root
  yield* Effect.gen(function*() {
    const found = yield* (yield* LogArchive).days()
    yield* json ? Print.json(CliOutput.ArchiveDays, { days: found }) : Print.line(found.length === 0 ? "no archived days" : formatDays(found))
  }).pipe(Effect.provide(DataDir.reading(dataDir, databaseUrl)))
})).pipe(
  Command.withDescription("The archived days on disk, oldest first"),
  Command.withExamples([{ command: "nerve-store archive days", description: "every archived day and its status" }])
)

const read = Command.make("read", { day: dayArgument }, Effect.fn("cli.archive.read")(function*({ day }) {
  const { dataDir, databaseUrl } = yield* Root
  const valid = yield* parseUtcDay(day)
  const print = yield* rowPrinter
  yield* Effect.gen(function*() {
    yield* (yield* LogArchive).readDay(valid).pipe(Stream.runForEach(print))
  }).pipe(Effect.provide(DataDir.reading(dataDir, databaseUrl)))
})).pipe(
  Command.withDescription("The rows of an archived day (checked against the manifest)"),
  Command.withExamples([{ command: "nerve-store archive read 2026-11-01 | head", description: "the first rows of a day" }])
)

const restore = Command.make("restore", { day: dayArgument }, Effect.fn("cli.archive.restore")(function*({ day }) {
  const { dataDir, databaseUrl, json } = yield* Root
  const valid = yield* parseUtcDay(day)
  yield* Effect.gen(function*() {
    const result = yield* (yield* LogArchive).restore(valid)
    yield* json
      ? Print.json(RestoreResult, result)
      : Print.line(
        `${result.day}: restored ${result.restored} rows from ${result.file} (${result.skipped} already present); ` +
          `archive holds the day back for ${KEEP_RESTORED_DAYS} days (archive --include-restored takes it now)`
      )
  }).pipe(Effect.provide(DataDir.updating(dataDir, databaseUrl)))
})).pipe(
  Command.withDescription("Puts an archived day's rows back into SQLite (ids already present are skipped)"),
  Command.withExamples([{ command: "nerve-store archive restore 2026-11-01", description: "a day back into SQLite" }])
)

/** `nerve-store archive`. */
export const command = archive.pipe(Command.withSubcommands([days, read, restore]))
