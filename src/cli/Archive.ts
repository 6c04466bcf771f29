/**
 * `nerve-store archive [days|read|restore]`: move old days out of SQLite (with a progress
 * display and a summary table), list the archived days, print one back, restore one.
 *
 * @since 0.6.0
 */
import { Clock, Effect, Option, Ref, Stream } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import { type ArchivedDay, type ArchivePlan, type DaySkipped, RestoreResult } from "../../schema/Archive.ts"
import { LogEntry } from "../../schema/LogEntry.ts"
import { parseUtcDay } from "../domain/UtcDay.ts"
import { LogArchive } from "../LogArchive.ts"
import * as DataDir from "./DataDir.ts"
import { humanBytes, humanTime, orDash, table } from "./Format.ts"
import { formatRow } from "./Logs.ts"
import * as CliOutput from "./Output.ts"
import { atLeast, parseDuration } from "./Parse.ts"
import * as Print from "./Print.ts"
import * as Progress from "./Progress.ts"
import { Root } from "./Root.ts"

/** The plan for people (`--dry-run`). */
export const formatPlan = (plan: ArchivePlan): string =>
  plan.days.length === 0
    ? `nothing to archive (days up to ${plan.lastEligibleDay} are eligible; archived up to ${plan.watermark ?? "never"})`
    : `${table(
      [{ header: "DAY" }, { header: "ROWS", align: "right" }, { header: "MIN ID", align: "right" }, { header: "MAX ID", align: "right" }],
      plan.days.map((d) => [d.day, String(d.rowCount), String(d.minId), String(d.maxId)])
    )}\n(dry run: ${plan.days.length} day(s) would be archived; nothing was written)`

/** The summary after an archive run. */
export const formatSummary = (run: CliOutput.ArchiveRun): string => {
  const days = run.result?.days ?? []
  const lines = days.length === 0 ? ["nothing archived"] : [table(
    [{ header: "DAY" }, { header: "ROWS", align: "right" }, { header: "LINES", align: "right" }, { header: "SIZE", align: "right" }, { header: "FILE" }],
    days.map((d) => [d.day, String(d.rowCount), String(d.lineCount), humanBytes(d.bytes), d.file])
  )]
  for (const skipped of run.skipped) lines.push(`skipped ${skipped.day}: ${skipped.reason}`)
  const rows = days.reduce((sum, d) => sum + d.rowCount, 0)
  lines.push(`${days.length} day(s), ${rows} rows archived${run.result?.vacuumed === true ? ", database vacuumed" : ""}`)
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
  dryRun: Flag.Boolean("dry-run").pipe(Flag.withDescription("show what would be archived; write nothing"), Flag.withDefault(false)),
  maxDays: Flag.Int("max-days").pipe(Flag.withDescription("archive at most this many days"), Flag.optional),
  retention: Flag.String("retention").pipe(Flag.withDescription("keep this much in SQLite (default 30d; e.g. 7d, 12h)"), Flag.withDefault("30d")),
  vacuum: Flag.Boolean("vacuum").pipe(Flag.withDescription("VACUUM the database afterwards"), Flag.withDefault(false)),
  gzip: Flag.Boolean("gzip").pipe(Flag.withDescription("write .jsonl.gz files"), Flag.withDefault(false))
}, Effect.fn("cli.archive")(function*(flags) {
  const { dataDir, json } = yield* Root
  const retentionMs = yield* parseDuration("retention", flags.retention)
  const maxDays = yield* Option.match(flags.maxDays, {
    onNone: () => Effect.succeed({}),
    onSome: (n) => Effect.map(atLeast("max-days", n, 1), (maxDays) => ({ maxDays }))
  })
  const options = { retentionMs, ...maxDays, vacuum: flags.vacuum, compress: flags.gzip ? "gzip" as const : "none" as const }
  yield* Effect.gen(function*() {
    const archiver = yield* LogArchive
    const now = yield* Clock.currentTimeMillis
    const plan = yield* archiver.plan({ ...options, now })
    if (flags.dryRun) {
      const run = { dryRun: true, plan, result: null, skipped: [] }
      return yield* json ? Print.json(CliOutput.ArchiveRun, run) : Print.line(formatPlan(plan))
    }
    const skipped = yield* Ref.make<ReadonlyArray<DaySkipped>>([])
    const draw = json ? undefined : Progress.listener(yield* Print.stdoutIsTerminal)
    const result = yield* archiver.archive({ ...options, now }, (event) =>
      Effect.andThen(
        event._tag === "DaySkipped" ? Ref.update(skipped, (days) => [...days, event]) : Effect.void,
        draw === undefined ? Effect.void : draw(event)
      ))
    const run: CliOutput.ArchiveRun = { dryRun: false, plan, result, skipped: yield* Ref.get(skipped) }
    yield* json ? Print.json(CliOutput.ArchiveRun, run) : Print.line(formatSummary(run))
  }).pipe(Effect.provide(DataDir.updating(dataDir)))
})).pipe(Command.withDescription("Moves whole UTC days older than --retention out of SQLite into archive/logs/"))

const dayArgument = Argument.String("day").pipe(Argument.withDescription("a UTC day, YYYY-MM-DD"))

const days = Command.make("days", {}, Effect.fn("cli.archive.days")(function*() {
  const { dataDir, json } = yield* Root
  yield* Effect.gen(function*() {
    const found = yield* (yield* LogArchive).days()
    yield* json ? Print.json(CliOutput.ArchiveDays, { days: found }) : Print.line(found.length === 0 ? "no archived days" : formatDays(found))
  }).pipe(Effect.provide(DataDir.reading(dataDir)))
})).pipe(Command.withDescription("The archived days on disk, oldest first"))

const read = Command.make("read", { day: dayArgument }, Effect.fn("cli.archive.read")(function*({ day }) {
  const { dataDir, json } = yield* Root
  const valid = yield* parseUtcDay(day)
  yield* Effect.gen(function*() {
    yield* (yield* LogArchive).readDay(valid).pipe(
      Stream.runForEach((row) => json ? Print.json(LogEntry, row) : Print.line(formatRow(row)))
    )
  }).pipe(Effect.provide(DataDir.reading(dataDir)))
})).pipe(Command.withDescription("The rows of an archived day (checked against the manifest)"))

const restore = Command.make("restore", { day: dayArgument }, Effect.fn("cli.archive.restore")(function*({ day }) {
  const { dataDir, json } = yield* Root
  const valid = yield* parseUtcDay(day)
  yield* Effect.gen(function*() {
    const result = yield* (yield* LogArchive).restore(valid)
    yield* json
      ? Print.json(RestoreResult, result)
      : Print.line(`${result.day}: restored ${result.restored} rows from ${result.file} (${result.skipped} already present)`)
  }).pipe(Effect.provide(DataDir.updating(dataDir)))
})).pipe(Command.withDescription("Puts an archived day's rows back into SQLite (ids already present are skipped)"))

/** `nerve-store archive`. */
export const command = archive.pipe(Command.withSubcommands([days, read, restore]))
