/**
 * `nerve-store db check|stats|upgrade`: the database as it is on disk, opened without migrating it
 * (a 0.5 file is reported as such, not upgraded), and the data directory around it; `upgrade`
 * migrates the file and recounts the runs' role rounds when another program left them behind.
 *
 * @since 0.6.0
 */
import { Clock, Effect, FileSystem, Result, Schema } from "effect"
import { Command } from "effect/cli"
import type { ArchivedDay, ArchivedDayStatus } from "../../schema/Archive.ts"
import { CorruptRow } from "../../schema/Errors.ts"
import { rowDecoder } from "../domain/Validate.ts"
import { LOG_ARCHIVE_META_KEY, utcDateStringFromMs } from "../domain/UtcDay.ts"
import { LogArchive } from "../LogArchive.ts"
import * as ThreadRoundCounts from "../logstore/ThreadRoundCounts.ts"
import { Database } from "../sqlite/Database.ts"
import { Sqlite, type SqliteShape, type SqlRow } from "../sqlite/Sqlite.ts"
import * as DataDir from "./DataDir.ts"
import { CheckFailed } from "./Errors.ts"
import { fields, humanAgo, humanBytes, humanTime, table } from "./Format.ts"
import * as CliOutput from "./Output.ts"
import * as Print from "./Print.ts"
import { Root } from "./Root.ts"

/** Decodes one row of a statistics query, or fails naming the query. */
const decodeRow = <S extends Schema.Top & { readonly DecodingServices: never }>(schema: S, what: string) => {
  const decode = rowDecoder(schema, what)
  return (row: SqlRow | undefined) => Result.match(decode(row ?? {}, () => what), { onFailure: Effect.fail, onSuccess: Effect.succeed })
}

const Count = Schema.Struct({ n: Schema.Int })
const NullableInt = Schema.NullOr(Schema.Int)
const LogRange = Schema.Struct({ n: Schema.Int, minId: NullableInt, maxId: NullableInt, minTs: NullableInt, maxTs: NullableInt })
const StatusCount = Schema.Struct({ status: Schema.String, n: Schema.Int })
const TextValue = Schema.Struct({ value: Schema.String })

const hasTable = Effect.fnUntraced(function*(sql: SqliteShape, name: string) {
  const row = yield* sql.get("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table' AND name = ?", [name])
  return (yield* decodeRow(Count, "sqlite_master")(row)).n > 0
})

/** Modes the store gives what it creates: it holds prompts and outputs, so owner-only. */
const EXPECTED_MODE = { file: "0600", folder: "0700" } as const

/** One expected entry of the data directory, as found. */
const inspect = Effect.fnUntraced(function*(root: string, path: string, kind: "file" | "folder") {
  const fs = yield* FileSystem.FileSystem
  const info = yield* Effect.result(fs.stat(path))
  const relative = path === root ? "." : path.slice(root.length + 1)
  const expectedMode = EXPECTED_MODE[kind]
  if (Result.isFailure(info)) return { path: relative, kind, found: "missing", mode: null, expectedMode, modeOk: true } satisfies CliOutput.LayoutEntry
  const isFolder = info.success.type === "Directory"
  const mode = "0" + (info.success.mode & 0o777).toString(8)
  return {
    path: relative,
    kind,
    found: isFolder === (kind === "folder") ? "ok" : "wrongKind",
    mode,
    expectedMode,
    // Looser than owner-only is the problem; a stricter mode (e.g. 0400) is not.
    modeOk: (info.success.mode & 0o077) === 0
  } satisfies CliOutput.LayoutEntry
})

/** How many runs with a wrong round count `db check` lists. */
const SHOWN_ROUND_COUNTS = 100

/** Archived days `db check` reports: every status but `ok` and `unrecorded` (a 0.5 file). */
const needsAttention = (day: ArchivedDay) => day.status !== "ok" && day.status !== "unrecorded"

/** What each day status asks of the operator. */
const dayAdvice: Record<ArchivedDayStatus, string> = {
  ok: "",
  unrecorded: "",
  pending: "published but not recorded; the next archive run finishes it",
  missing: "the recorded file is gone; put it back from a backup",
  mismatch: "the file was changed outside nerve-store; the next archive run quarantines it",
  quarantined: "the file failed its check and is in archive/logs/quarantine/; inspect it there"
}

/**
 * Looser modes than owner-only: a warning, not a failed check (the data is intact, but others on
 * the machine may read prompts and outputs; `chmod -R go-rwx <dataDir>` fixes it).
 */
const warningsOf = (layout: ReadonlyArray<CliOutput.LayoutEntry>): ReadonlyArray<string> =>
  layout.filter((e) => !e.modeOk).map((e) => `${e.path} has mode ${e.mode}, expected owner-only ${e.expectedMode}`)

/** Every problem of a check, one line each (empty: all well). */
const problemsOf = (c: Omit<CliOutput.DbCheck, "ok" | "problems" | "warnings">): ReadonlyArray<string> => [
  ...c.integrity.filter((line) => line !== "ok").map((line) => `integrity: ${line}`),
  ...(c.schemaVersion > c.latestSchemaVersion ? [`schema version ${c.schemaVersion} is newer than this nerve-store (${c.latestSchemaVersion})`] : []),
  ...c.layout.filter((e) => e.found === "wrongKind").map((e) => `${e.path} is not a ${e.kind}`),
  ...c.archiveDays.filter((d) => d.status !== "pending").map((d) => `archived day ${d.day} is ${d.status}: ${dayAdvice[d.status]}`),
  ...c.roundCounts.map((r) =>
    `run ${r.runId}: stored round count ${r.stored}, its rows hold ${r.actual} rounds ` +
    "(written by a program that does not keep the counts); `nerve-store db upgrade` recounts them"
  )
]

/** `db check` for people. */
export const formatCheck = (c: CliOutput.DbCheck): string =>
  [
    fields([
      ["data directory", c.dataDir],
      ["integrity", c.integrity.join("; ")],
      ["schema version", `${c.schemaVersion} (this nerve-store writes ${c.latestSchemaVersion})`],
      ["0.5 file", c.legacy05 ? "yes, not yet upgraded (`nerve-store db upgrade`, or the daemon's next start, upgrades it in place)" : "no"],
      ["journal mode", c.journalMode]
    ]),
    "",
    table(
      [{ header: "PATH" }, { header: "KIND" }, { header: "FOUND" }, { header: "MODE" }, { header: "EXPECTED" }],
      c.layout.map((e) => [e.path, e.kind, e.found, e.mode ?? "-", e.expectedMode])
    ),
    "",
    c.archiveDays.length === 0 ? "archived days: all ok" : table(
      [{ header: "DAY" }, { header: "STATUS" }, { header: "FILE" }, { header: "WHAT TO DO" }],
      c.archiveDays.map((d) => [d.day, d.status, d.file, dayAdvice[d.status]])
    ),
    "",
    c.roundCounts.length === 0 ? "round counts: all match their rows" : table(
      [{ header: "RUN" }, { header: "STORED", align: "right" }, { header: "ROUNDS IN ROWS", align: "right" }],
      c.roundCounts.map((r) => [r.runId, String(r.stored), String(r.actual)])
    ),
    "",
    ...(c.warnings.length === 0 ? [] : [["warnings:", ...c.warnings.map((line) => `  ${line}`)].join("\n")]),
    c.ok ? "ok" : ["PROBLEMS FOUND:", ...c.problems.map((line) => `  ${line}`)].join("\n")
  ].join("\n")

const check = Command.make("check", {}, Effect.fn("cli.db.check")(function*() {
  const { dataDir, json } = yield* Root
  const p = yield* DataDir.requireDatabase(dataDir)
  const found = yield* Effect.gen(function*() {
    const db = yield* Database
    const integrity = yield* db.integrityCheck()
    const legacy05 = integrity.schemaVersion === 0 && (yield* hasTable(db.sql, "logs"))
    const journalMode = (yield* decodeRow(TextValue, "PRAGMA journal_mode")(
      yield* db.sql.get("SELECT journal_mode AS value FROM pragma_journal_mode")
    )).value
    // A 0.5 file has no manifest: its day files are all `unrecorded`, nothing to report.
    const archiveDays = legacy05 ? [] : (yield* (yield* LogArchive).days()).filter(needsAttention)
    // A file older than the counts (not upgraded yet) has none to check: the upgrade counts them.
    const roundCounts = (yield* hasTable(db.sql, "thread_round_counts")) ? yield* ThreadRoundCounts.mismatches(db.sql, SHOWN_ROUND_COUNTS) : []
    return {
      dataDir: p.root,
      integrity: integrity.ok ? ["ok"] : integrity.problems,
      schemaVersion: integrity.schemaVersion,
      latestSchemaVersion: integrity.latestSchemaVersion,
      legacy05,
      journalMode,
      layout: [
        yield* inspect(p.root, p.root, "folder"),
        yield* inspect(p.root, p.database, "file"),
        yield* inspect(p.root, p.archive, "folder"),
        yield* inspect(p.root, p.blobs, "folder")
      ],
      archiveDays,
      roundCounts
    }
  }).pipe(Effect.provide(DataDir.checking(dataDir)))
  const problems = problemsOf(found)
  const result: CliOutput.DbCheck = { ok: problems.length === 0, problems, warnings: warningsOf(found.layout), ...found }
  yield* json ? Print.json(CliOutput.DbCheck, result) : Print.line(formatCheck(result))
  if (!result.ok) return yield* new CheckFailed({ summary: `database check found ${problems.length} problem(s) in ${p.root}` })
})).pipe(Command.withDescription("SQLite integrity check, schema version, 0.5 file or not, data-directory layout and modes, archived days that are not ok, round counts that differ from their rows"))

/** Total size and count of the files under `folder` (0 when it is missing), skipping `skip` names. */
const folderUsage = Effect.fnUntraced(function*(folder: string, keep: (relative: string) => boolean) {
  const fs = yield* FileSystem.FileSystem
  const names = yield* fs.readDirectory(folder, { recursive: true }).pipe(Effect.orElseSucceed((): Array<string> => []))
  let bytes = 0
  let files = 0
  for (const name of names) {
    const info = yield* Effect.result(fs.stat(`${folder}/${name}`))
    if (Result.isFailure(info) || info.success.type !== "File") continue
    bytes += Number(info.success.size)
    if (keep(name)) files++
  }
  return { bytes, files }
})

const fileSize = Effect.fnUntraced(function*(path: string) {
  const fs = yield* FileSystem.FileSystem
  return yield* fs.stat(path).pipe(Effect.map((info) => Number(info.size)), Effect.orElseSucceed(() => 0))
})

const OwnerRow = Schema.Struct({ owner: Schema.String, runs: Schema.Int, expiresAt: Schema.Int })

/**
 * The owners whose leases have not expired at `now`, with how many runs each holds and when its
 * last lease ends. Read from `run_leases` directly: the LogStore answers per run (`getLease`),
 * and a file older than the leases has none.
 */
const liveOwners = Effect.fnUntraced(function*(sql: SqliteShape, now: number) {
  if (!(yield* hasTable(sql, "run_leases"))) return []
  const rows = yield* sql.all(
    "SELECT owner, count(*) AS runs, max(expires_at) AS expiresAt FROM run_leases WHERE expires_at > ? GROUP BY owner ORDER BY owner",
    [now]
  )
  return yield* Effect.forEach(rows, decodeRow(OwnerRow, "run_leases"))
})

const blobName = /^[0-9a-f]{2}\/[0-9a-f]{62}$/
const dayFile = /^\d{4}-\d{2}-\d{2}\.jsonl(\.gz)?$/

/** `db stats` for people. */
export const formatStats = (s: CliOutput.DbStats, now: number): string => {
  const statuses = Object.entries(s.runsByStatus).sort(([a], [b]) => (a < b ? -1 : 1))
  return [
    fields([
      ["data directory", s.dataDir],
      ["log rows", s.rows === 0 ? "0" : `${s.rows} (ids ${s.minId}..${s.maxId}, days ${s.oldestDay}..${s.newestDay})`],
      ["runs", String(s.runs)],
      ["archived", s.archivedUpTo === null ? `${s.archivedDays} day file(s)` : `up to ${s.archivedUpTo}, ${s.archivedDays} day file(s)`],
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
  const { dataDir, json } = yield* Root
  const p = yield* DataDir.requireDatabase(dataDir)
  const now = yield* Clock.currentTimeMillis
  const fromDb = yield* Effect.gen(function*() {
    const sql = yield* Sqlite
    if (!(yield* hasTable(sql, "logs")) || !(yield* hasTable(sql, "workflow_runs"))) {
      return yield* new CorruptRow({ table: "sqlite_master", key: "logs", reason: "not a nerve-store database (no logs or workflow_runs table)" })
    }
    const range = yield* decodeRow(LogRange, "logs")(
      yield* sql.get("SELECT count(*) AS n, min(id) AS minId, max(id) AS maxId, min(timestamp) AS minTs, max(timestamp) AS maxTs FROM logs")
    )
    const byStatus = yield* Effect.forEach(
      yield* sql.all("SELECT status, count(*) AS n FROM workflow_runs GROUP BY status"),
      decodeRow(StatusCount, "workflow_runs")
    )
    const meta = yield* sql.get("SELECT value FROM meta WHERE key = ?", [LOG_ARCHIVE_META_KEY])
    const archivedUpTo = meta === undefined ? null : (yield* decodeRow(TextValue, "meta")(meta)).value
    return { range, byStatus, archivedUpTo, owners: yield* liveOwners(sql, now) }
  }).pipe(Effect.provide(DataDir.rawDatabase(dataDir)))
  const archive = yield* folderUsage(p.archive, (name) => dayFile.test(name))
  const blobs = yield* folderUsage(p.blobs, (name) => blobName.test(name))
  const result: CliOutput.DbStats = {
    dataDir: p.root,
    rows: fromDb.range.n,
    minId: fromDb.range.minId,
    maxId: fromDb.range.maxId,
    oldestDay: fromDb.range.minTs === null ? null : utcDateStringFromMs(fromDb.range.minTs),
    newestDay: fromDb.range.maxTs === null ? null : utcDateStringFromMs(fromDb.range.maxTs),
    runs: fromDb.byStatus.reduce((sum, s) => sum + s.n, 0),
    runsByStatus: Object.fromEntries(fromDb.byStatus.map((s) => [s.status, s.n])),
    archivedUpTo: fromDb.archivedUpTo,
    archivedDays: archive.files,
    blobCount: blobs.files,
    sizes: { database: yield* fileSize(p.database), wal: yield* fileSize(p.wal), archive: archive.bytes, blobs: blobs.bytes },
    owners: fromDb.owners
  }
  yield* json ? Print.json(CliOutput.DbStats, result) : Print.line(formatStats(result, now))
})).pipe(Command.withDescription("Rows, runs by status, day range, sizes of database/WAL/archive/blobs, live owners"))

const upgrade = Command.make("upgrade", {}, Effect.fn("cli.db.upgrade")(function*() {
  const { dataDir, json } = yield* Root
  const p = yield* DataDir.requireDatabase(dataDir)
  const from = yield* DataDir.fileSchemaVersion(p.database)
  // Opening the writing stack migrates the file (one BEGIN IMMEDIATE; a no-op when current). Then
  // the round counts are checked against the rows and recounted if another program wrote any.
  const { to, roundCountsRepaired } = yield* Database.use((db) =>
    Effect.map(ThreadRoundCounts.rebuild(db.sql), (repaired) => ({ to: db.schemaVersion, roundCountsRepaired: repaired }))
  ).pipe(Effect.provide(DataDir.updating(dataDir)))
  const repaired = roundCountsRepaired === 0 ? "" : `; recounted the role rounds of ${roundCountsRepaired} run(s)`
  yield* json
    ? Print.json(CliOutput.DbUpgrade, { from, to, roundCountsRepaired })
    : Print.line(
      from === to
        ? `${p.database} is at schema version ${to}${repaired === "" ? ": nothing to do" : repaired}`
        : `${p.database}: schema version ${from} -> ${to}${repaired}`
    )
})).pipe(Command.withDescription(
  "Brings nerve.db's schema up to date in place (additive; a 0.5 file stays readable by 0.5) and recounts role rounds that other programs left behind"
))

/** `nerve-store db`. */
export const command = Command.make("db").pipe(
  Command.withDescription("The SQLite database and the data directory"),
  Command.withSubcommands([check, stats, upgrade])
)
