/**
 * `nerve-store db check|stats|upgrade|init`: the database as it is on disk and the data directory
 * around it, through the maintenance service (`src/Maintenance.ts`) and nothing of a backend.
 * `check` and `stats` open read-only and never migrate (a 0.5 file is reported as such);
 * `upgrade` rolls back a hot journal, migrates the file and recounts drifted round counts; `init`
 * is the one command that creates a data directory.
 *
 * @since 0.6.0
 */
import { Clock, Effect, Option } from "effect"
import { Command } from "effect/cli"
import * as Maintenance from "../Maintenance.ts"
import * as DataDir from "./DataDir.ts"
import { copy } from "./DbCopy.ts"
import { CheckFailed } from "./Errors.ts"
import { fields, humanAgo, humanBytes, humanTime, table } from "./Format.ts"
import * as Print from "./Print.ts"
import { Root } from "./Root.ts"

const foundText = (e: Maintenance.LayoutEntry) =>
  e.found === "symlink" ? `symlink -> ${e.target ?? "?"}` : e.ownerOk === false ? `${e.found}, uid ${e.uid ?? "?"}` : e.found

/** `db check` for people. */
export const formatCheck = (c: Maintenance.CheckReport): string =>
  [
    fields([
      ["data directory", c.dataDir],
      ["integrity", c.integrity.join("; ")],
      ["schema version", `${c.schemaVersion} (this nerve-store writes ${c.latestSchemaVersion})`],
      ["0.5 file", c.legacy05 ? "yes, not yet upgraded (`nerve-store db upgrade`, or the daemon's next start, upgrades it in place)" : "no"],
      ["journal mode", c.journalMode],
      ...(c.hotJournal ? [["hot journal", "yes: `nerve-store db upgrade` rolls it back"] as const] : [])
    ]),
    "",
    table(
      [{ header: "PATH" }, { header: "KIND" }, { header: "FOUND" }, { header: "MODE" }, { header: "EXPECTED" }],
      c.layout.map((e) => [e.path, e.kind, foundText(e), e.mode ?? "-", e.expectedMode])
    ),
    "",
    c.archiveDays.length === 0 ? "archived days: all ok" : table(
      [{ header: "DAY" }, { header: "STATUS" }, { header: "FILE" }, { header: "WHAT TO DO" }],
      c.archiveDays.map((d) => [d.day, d.status, d.file, Maintenance.DAY_ADVICE[d.status]])
    ),
    "",
    c.roundCounts.length === 0 ? "round counts: all match their rows" : table(
      [{ header: "RUN" }, { header: "STORED", align: "right" }, { header: "ROUNDS IN ROWS", align: "right" }],
      c.roundCounts.map((r) => [r.runId, String(r.stored), String(r.actual)])
    ),
    "",
    c.quarantinedBlobs.length === 0 ? "quarantined blobs: none" : table(
      [{ header: "QUARANTINED BLOB" }, { header: "SIZE", align: "right" }, { header: "SINCE" }],
      c.quarantinedBlobs.map((b) => [b.file, humanBytes(b.bytes), b.quarantinedAt === null ? "-" : humanTime(b.quarantinedAt)])
    ),
    "",
    ...(c.warnings.length === 0 ? [] : [["warnings:", ...c.warnings.map((line) => `  ${line}`)].join("\n")]),
    c.ok ? "ok" : ["PROBLEMS FOUND:", ...c.problems.map((line) => `  ${line}`)].join("\n")
  ].join("\n")

const check = Command.make("check", {}, Effect.fn("cli.db.check")(function*() {
  const { dataDir, databaseUrl, json } = yield* Root
  const result = yield* Maintenance.Maintenance.use((m) => m.check()).pipe(Effect.provide(DataDir.maintenance(dataDir, databaseUrl)))
  yield* json ? Print.json(Maintenance.CheckReport, result) : Print.line(formatCheck(result))
  if (!result.ok) return yield* new CheckFailed({ summary: `database check found ${result.problems.length} problem(s) in ${result.dataDir}` })
})).pipe(
  Command.withDescription(
    "SQLite integrity check, schema version, 0.5 file or not, hot journal, data-directory layout (links, owners, modes), " +
      "archived days that are not ok, quarantined blobs, round counts that differ from their rows"
  ),
  Command.withExamples([
    { command: "nerve-store --data-dir /var/lib/nerve db check", description: "check a data directory (exit 1 when a problem is found)" },
    { command: "nerve-store --json db check | jq .problems", description: "the problems, for a script" }
  ])
)

/** What `archived` says: up to which day, and rows of archived days still in SQLite. */
const archivedText = (s: Maintenance.StatsReport): string => {
  const base = s.archivedUpTo === null ? `${s.archivedDays} day file(s)` : `up to ${s.archivedUpTo}, ${s.archivedDays} day file(s)`
  const behind = s.behindArchive
  if (behind === null) return base
  const days = behind.oldestDay === behind.newestDay ? behind.oldestDay : `${behind.oldestDay}..${behind.newestDay}`
  const why = behind.restoredDays.length === 0
    ? "late rows appended after their day was archived"
    : `restored day(s) ${behind.restoredDays.join(", ")}${behind.restoredDays.length > 0 ? ", and any late rows" : ""}`
  return `${base}; but ${behind.rows} row(s) from ${days} are still in SQLite (${why}); the next \`nerve-store archive\` moves them out`
}

/** `db stats` for people. */
export const formatStats = (s: Maintenance.StatsReport, now: number): string => {
  const statuses = Object.entries(s.runsByStatus).sort(([a], [b]) => (a < b ? -1 : 1))
  return [
    fields([
      ["data directory", s.dataDir],
      ["log rows", s.rows === 0 ? "0" : `${s.rows} (ids ${s.minId}..${s.maxId}, days ${s.oldestDay}..${s.newestDay})`],
      ["runs", String(s.runs)],
      ["archived", archivedText(s)],
      ["database", humanBytes(s.sizes.database)],
      ["wal", humanBytes(s.sizes.wal)],
      ["archive", humanBytes(s.sizes.archive)],
      ["blobs", `${humanBytes(s.sizes.blobs)} in ${s.blobCount} blob(s)`]
    ]),
    "",
    statuses.length === 0 ? "no runs" : table([{ header: "STATUS" }, { header: "RUNS", align: "right" }], statuses.map(([status, n]) => [status, String(n)])),
    "",
    s.owners.length === 0 ? "live owners: none" : table(
      [{ header: "OWNER" }, { header: "RUNS", align: "right" }, { header: "LEASE ENDS" }],
      s.owners.map((o) => [o.owner, String(o.runs), `${humanTime(o.expiresAt)} (${humanAgo(o.expiresAt, now)})`])
    )
  ].join("\n")
}

const stats = Command.make("stats", {}, Effect.fn("cli.db.stats")(function*() {
  const { dataDir, databaseUrl, json } = yield* Root
  const result = yield* Maintenance.Maintenance.use((m) => m.stats()).pipe(Effect.provide(DataDir.maintenance(dataDir, databaseUrl)))
  yield* json ? Print.json(Maintenance.StatsReport, result) : Print.line(formatStats(result, yield* Clock.currentTimeMillis))
})).pipe(
  Command.withDescription("Rows, runs by status, day range, archived days (and their rows still in SQLite), sizes of database/WAL/archive/blobs, live owners"),
  Command.withExamples([
    { command: "nerve-store --data-dir /var/lib/nerve db stats", description: "counts and sizes" },
    { command: "nerve-store --json db stats | jq .sizes", description: "sizes in bytes, for a script" }
  ])
)

/** `db upgrade` for people. */
export const formatUpgrade = (database: string, u: Maintenance.UpgradeReport): string => {
  const notes = [
    ...(u.journalRolledBack ? ["rolled back the hot journal a crash left"] : []),
    ...(u.roundCountsRepaired === 0 ? [] : [`recounted the role rounds of ${u.roundCountsRepaired} run(s)`])
  ]
  return u.from === u.to
    ? `${database} is at schema version ${u.to}${notes.length === 0 ? ": nothing to do" : `; ${notes.join("; ")}`}`
    : `${database}: schema version ${u.from} -> ${u.to}${notes.map((n) => `; ${n}`).join("")}`
}

const upgrade = Command.make("upgrade", {}, Effect.fn("cli.db.upgrade")(function*() {
  const { dataDir, databaseUrl, json } = yield* Root
  const p = yield* DataDir.paths(dataDir)
  const result = yield* Maintenance.Maintenance.use((m) => m.upgrade()).pipe(Effect.provide(DataDir.maintenance(dataDir, databaseUrl)))
  yield* json ? Print.json(Maintenance.UpgradeReport, result) : Print.line(formatUpgrade(Option.isSome(databaseUrl) ? "the PostgreSQL database" : p.database, result))
})).pipe(
  Command.withDescription(
    "Brings nerve.db's schema up to date in place (additive; a 0.5 file stays readable by 0.5), rolls back a hot journal a crash left, " +
      "and recounts role rounds that other programs left behind; a file newer than this nerve-store is refused (exit 1)"
  ),
  Command.withExamples([
    { command: "nerve-store --data-dir /var/lib/nerve db upgrade", description: "upgrade a 0.5 or older 0.6 file in place" }
  ])
)

const init = Command.make("init", {}, Effect.fn("cli.db.init")(function*() {
  const { dataDir, databaseUrl, json } = yield* Root
  const result = yield* Maintenance.Maintenance.use((m) => m.init()).pipe(Effect.provide(DataDir.maintenance(dataDir, databaseUrl)))
  yield* json
    ? Print.json(Maintenance.InitReport, result)
    : Print.line(
      result.created
        ? `created ${result.database} (schema version ${result.schemaVersion}) in ${result.dataDir}`
        : `${result.database} already exists (schema version ${result.schemaVersion}): left as it is`
    )
})).pipe(
  Command.withDescription(
    "Creates the data directory (owner-only) and an empty nerve.db; the only command that creates a data directory. An existing database is left as it is"
  ),
  Command.withExamples([
    { command: "nerve-store --data-dir /var/lib/nerve db init", description: "prepare a data directory before the first `blobs put`" }
  ])
)

/** `nerve-store db`. */
export const command = Command.make("db").pipe(
  Command.withDescription("The SQLite database and the data directory"),
  Command.withExamples([{ command: "nerve-store db check", description: "check ./data (or $NERVE_DATA_DIR)" }]),
  Command.withSubcommands([check, stats, upgrade, init, copy])
)
