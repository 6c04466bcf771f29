/**
 * `nerve-store db check|stats`: the database as it is on disk, opened without migrating it (a
 * 0.5 file is reported as such, not upgraded), and the data directory around it.
 *
 * @since 0.6.0
 */
import { Clock, Effect, FileSystem, Result, Schema } from "effect"
import { Command } from "effect/cli"
import { CorruptRow } from "../../schema/Errors.ts"
import { rowDecoder } from "../domain/Validate.ts"
import { LOG_ARCHIVE_META_KEY, utcDateStringFromMs } from "../domain/UtcDay.ts"
import { LATEST_SCHEMA_VERSION, schemaVersion } from "../sqlite/Migrations.ts"
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

/** One expected entry of the data directory, as found. */
const inspect = Effect.fnUntraced(function*(root: string, path: string, kind: "file" | "folder") {
  const fs = yield* FileSystem.FileSystem
  const info = yield* Effect.result(fs.stat(path))
  const relative = path === root ? "." : path.slice(root.length + 1)
  if (Result.isFailure(info)) return { path: relative, kind, found: "missing", mode: null } satisfies CliOutput.LayoutEntry
  const isFolder = info.success.type === "Directory"
  return {
    path: relative,
    kind,
    found: isFolder === (kind === "folder") ? "ok" : "wrongKind",
    mode: "0" + (info.success.mode & 0o777).toString(8)
  } satisfies CliOutput.LayoutEntry
})

/** `db check` for people. */
export const formatCheck = (c: CliOutput.DbCheck): string =>
  [
    fields([
      ["data directory", c.dataDir],
      ["integrity", c.integrity.join("; ")],
      ["schema version", `${c.schemaVersion} (this nerve-store writes ${c.latestSchemaVersion})`],
      ["0.5 file", c.legacy05 ? "yes, not yet upgraded (the next writer upgrades it in place)" : "no"],
      ["journal mode", c.journalMode]
    ]),
    "",
    table(
      [{ header: "PATH" }, { header: "KIND" }, { header: "FOUND" }, { header: "MODE" }],
      c.layout.map((e) => [e.path, e.kind, e.found, e.mode ?? "-"])
    ),
    "",
    c.ok ? "ok" : "PROBLEMS FOUND"
  ].join("\n")

const check = Command.make("check", {}, Effect.fn("cli.db.check")(function*() {
  const { dataDir, json } = yield* Root
  const p = yield* DataDir.requireDatabase(dataDir)
  const result = yield* Effect.gen(function*() {
    const sql = yield* Sqlite
    const integrity = (yield* sql.all("PRAGMA integrity_check")).map((row) => String(Object.values(row)[0]))
    const version = yield* schemaVersion(sql)
    const legacy05 = version === 0 && (yield* hasTable(sql, "logs"))
    const journalMode = (yield* decodeRow(TextValue, "PRAGMA journal_mode")(
      yield* sql.get("SELECT journal_mode AS value FROM pragma_journal_mode")
    )).value
    const layout = [
      yield* inspect(p.root, p.root, "folder"),
      yield* inspect(p.root, p.database, "file"),
      yield* inspect(p.root, p.archive, "folder"),
      yield* inspect(p.root, p.blobs, "folder")
    ]
    const ok = integrity.length === 1 && integrity[0] === "ok" && version <= LATEST_SCHEMA_VERSION &&
      layout.every((e) => e.found !== "wrongKind")
    return { ok, dataDir: p.root, integrity, schemaVersion: version, latestSchemaVersion: LATEST_SCHEMA_VERSION, legacy05, journalMode, layout }
  }).pipe(Effect.provide(DataDir.rawDatabase(dataDir)))
  yield* json ? Print.json(CliOutput.DbCheck, result) : Print.line(formatCheck(result))
  if (!result.ok) return yield* new CheckFailed({ summary: `database check failed for ${p.root}` })
})).pipe(Command.withDescription("SQLite integrity check, schema version, 0.5 file or not, data-directory layout"))

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

/**
 * The live owners of runs and their leases. Stand-in: none until leases land in the LogStore
 * (then: the owners whose lease has not expired, with how many runs each holds).
 */
const liveOwners = (_sql: SqliteShape): Effect.Effect<ReadonlyArray<CliOutput.LiveOwner>> => Effect.succeed([])

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
    return { range, byStatus, archivedUpTo, owners: yield* liveOwners(sql) }
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
  yield* json ? Print.json(CliOutput.DbStats, result) : Print.line(formatStats(result, yield* Clock.currentTimeMillis))
})).pipe(Command.withDescription("Rows, runs by status, day range, sizes of database/WAL/archive/blobs, live owners"))

/** `nerve-store db`. */
export const command = Command.make("db").pipe(
  Command.withDescription("The SQLite database and the data directory"),
  Command.withSubcommands([check, stats])
)
