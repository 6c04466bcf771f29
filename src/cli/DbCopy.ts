/**
 * `nerve-store db copy --to <url>` / `--from <url>`: the data directory's `nerve.db` into a
 * PostgreSQL database, or back into an empty data directory, through the `DatabaseCopy` service
 * (`src/DatabaseCopy.ts`). A copy killed half-way continues when run again; a non-empty target is
 * refused; the end compares every table's count and digest and exits 1 on a difference.
 *
 * @since 0.8.0
 */
import { Effect, Option, Redacted } from "effect"
import { Command, Flag } from "effect/cli"
import { DatabaseCopyPg } from "../../layers/index.ts"
import { CopyMismatch, type CopyProgress, CopyReport, DatabaseCopy } from "../DatabaseCopy.ts"
import { UsageError } from "./Errors.ts"
import { bar, percent, table } from "./Format.ts"
import * as Print from "./Print.ts"
import { Root } from "./Root.ts"

/** `db copy` for people: one line per table. */
export const formatCopy = (r: CopyReport): string =>
  [
    `${r.resumed ? "resumed and finished" : "copied"} ${r.source} -> ${r.target} (${r.copiedRows} rows in this run)`,
    table(
      [{ header: "TABLE" }, { header: "SOURCE", align: "right" }, { header: "TARGET", align: "right" }, { header: "DIGEST" }],
      r.tables.map((t) => [t.table, String(t.sourceRows), String(t.targetRows), t.ok ? `ok ${t.sourceDigest.slice(0, 12)}` : "DIFFERS"])
    ),
    r.ok ? "every table's count and digest match" : "MISMATCH: the target differs from the source"
  ].join("\n")

/** Back to the start of the line and erase it (CR, then `ESC [2K`): the next text starts on a clean line. */
export const CLEAR_LINE = "\r\x1b[2K"

const BAR_WIDTH = 20

/**
 * The in-place progress line of a table being copied (stdout on a terminal only): it clears the
 * line first, so each redraw replaces the last, and ends without a newline.
 *
 * @example
 * ```ts
 * progressLine({ table: "logs", copied: 500, total: 2000 })
 * // "\r\x1b[2Klogs [#####---------------]  25% 500/2000 rows"
 * ```
 */
export const progressLine = (p: CopyProgress): string =>
  `${CLEAR_LINE}${p.table} ${bar(p.copied, p.total, BAR_WIDTH)} ${percent(p.copied, p.total)} ${p.copied}/${p.total} rows`

const urlFlag = (name: string, description: string) => Flag.Redacted(name).pipe(Flag.withDescription(description), Flag.optional)

export const copy = Command.make("copy", {
  to: urlFlag("to", "copy the data directory's nerve.db into this PostgreSQL database (empty, or a copy of the same source to resume)"),
  from: urlFlag("from", "copy this PostgreSQL database into the data directory's nerve.db (new or empty, or a copy to resume)"),
  batchSize: Flag.Int("batch-size").pipe(Flag.withDescription("rows per batch (one transaction each)"), Flag.withDefault(1000))
}, Effect.fn("cli.db.copy")(function*({ to, from, batchSize }) {
  const { dataDir, json } = yield* Root
  if (Option.isSome(to) === Option.isSome(from)) {
    return yield* new UsageError({ field: "--to/--from", reason: "give exactly one of --to <url> (into PostgreSQL) or --from <url> (into SQLite)" })
  }
  if (batchSize < 1) return yield* new UsageError({ field: "--batch-size", reason: "must be a positive integer" })
  const url = Option.isSome(to) ? to.value : Option.getOrElse(from, () => Redacted.make(""))
  const terminal = !json && (yield* Print.stdoutIsTerminal)
  const onProgress = (p: CopyProgress) => (terminal ? Print.raw(progressLine(p)) : Effect.void)
  const report = yield* DatabaseCopy.use((c) => Option.isSome(to) ? c.toPg({ batchSize, onProgress }) : c.fromPg({ batchSize, onProgress })).pipe(
    Effect.provide(DatabaseCopyPg({ url, dataDir }))
  )
  if (terminal) yield* Print.raw(CLEAR_LINE)
  yield* json ? Print.json(CopyReport, report) : Print.line(formatCopy(report))
  if (!report.ok) return yield* new CopyMismatch({ tables: report.tables.filter((t) => !t.ok).map((t) => t.table) })
})).pipe(
  Command.withDescription(
    "Copies the database between the data directory's SQLite file and PostgreSQL (--to/--from): resumable, refuses a non-empty target, " +
      "checks every table's count and digest at the end (leases are dropped; day files and blobs stay in the data directory)"
  ),
  Command.withExamples([
    { command: "nerve-store --data-dir /var/lib/nerve db copy --to postgres://nerve@db/nerve", description: "move a store to PostgreSQL" },
    { command: "nerve-store --data-dir ./debug db copy --from postgres://nerve@db/nerve", description: "a local SQLite copy for debugging" }
  ])
)
