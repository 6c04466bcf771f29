/**
 * The maintenance service on a SQLite data directory (`nerve.db`, `archive/logs/`, `blobs/`).
 * Each operation opens what it needs and closes it: read-only and never migrated for `check`,
 * `stats`, `staleLeases` (a 0.5 file is reported as it is; nothing waits for a daemon's write),
 * writable for `upgrade`, `recount`, `init` (which refuse what the live layer refuses).
 *
 * @since 0.8.0
 */
import { Clock, Effect, FileSystem, Layer, Path } from "effect"
import type { ArchivedDay } from "../../schema/Archive.ts"
import { CorruptRow, DatabaseError, DataDirectoryError } from "../../schema/Errors.ts"
import { statsReport } from "../domain/StatsReport.ts"
import * as DataDirectoryCheck from "../fs/DataDirectoryCheck.ts"
import { dataDirectoryError } from "../fs/PlatformErrors.ts"
import { LogArchive } from "../LogArchive.ts"
import * as ThreadRoundCounts from "../logstore/ThreadRoundCounts.ts"
import { type CheckReport, DAY_ADVICE, Maintenance, type MaintenanceShape, NoDatabase, UpgradeRefused } from "../Maintenance.ts"
import * as Database from "./Database.ts"
import * as Files from "./MaintenanceFiles.ts"
import * as Queries from "./MaintenanceQueries.ts"
import { LATEST_SCHEMA_VERSION, schemaVersion } from "./Migrations.ts"
import { make as makeConnection } from "./Sqlite.ts"

/** Where things are in a data directory, and the archive's layer (the public `LogArchiveFileSystem`). */
export interface DataDirectoryLayout {
  readonly database: string
  readonly archive: ReadonlyArray<string>
  readonly blobs: string
  /** LogArchive with day files in `archiveDir`, on the `Database` in context. */
  readonly archiveLayer: (archiveDir: string) => Layer.Layer<LogArchive, never, Database.Database | FileSystem.FileSystem | Path.Path>
}

/** How many runs with a wrong round count `check` lists. */
const SHOWN_ROUND_COUNTS = 100

/** SQLite's SQLITE_READONLY_ROLLBACK: a read-only connection met a hot journal it cannot roll back. */
const READONLY_ROLLBACK = 776

/** Archived days a check reports: every status but `ok` and `unrecorded` (a 0.5 file). */
const needsAttention = (day: ArchivedDay) => day.status !== "ok" && day.status !== "unrecorded"

const HOT_JOURNAL_ADVICE = "a crash left a hot rollback journal (nerve.db-journal) that a read-only open cannot roll back: " +
  "run `nerve-store db upgrade` (it rolls the journal back; it needs write access), then check again"

/** Every problem of a check, one line each (empty: all well). */
const problemsOf = (c: Omit<CheckReport, "ok" | "problems" | "warnings">, findings: ReadonlyArray<DataDirectoryCheck.Finding>) => [
  ...(c.hotJournal ? [HOT_JOURNAL_ADVICE] : []),
  ...c.integrity.filter((line) => line !== "ok").map((line) => `integrity: ${line}`),
  ...(c.schemaVersion > c.latestSchemaVersion ? [`schema version ${c.schemaVersion} is newer than this nerve-store (${c.latestSchemaVersion})`] : []),
  ...findings.filter((f) => f.kind !== "looseMode").map((f) => f.message),
  ...c.archiveDays.filter((d) => d.status !== "pending").map((d) => `archived day ${d.day} is ${d.status}: ${DAY_ADVICE[d.status]}`),
  ...c.roundCounts.map((r) =>
    `run ${r.runId}: stored round count ${r.stored}, its rows hold ${r.actual} rounds ` +
    "(written by a program that does not keep the counts); `nerve-store db upgrade` recounts them"
  ),
  ...c.quarantinedBlobs.map((b) =>
    `blob ${b.digest ?? b.file} is in blobs/quarantine/ (its content did not match its digest): ` +
    "write the blob again from its source, then delete the quarantined file"
  )
]

/**
 * `Database.make`'s other errors as a `DatabaseError`: a file too new for a writable open is
 * refused with `UpgradeRefused` before it is opened, so this only names a file changed in between.
 */
const asDatabaseError = (operation: string) => <E extends { readonly message: string }>(error: E | DatabaseError): DatabaseError =>
  error instanceof DatabaseError ? error : new DatabaseError({ operation, reason: "other", code: null, detail: error.message })

/** A read-only open that met a hot journal says what to do. */
const explainHotJournal = (error: DatabaseError): DatabaseError =>
  error.code === READONLY_ROLLBACK ? new DatabaseError({ ...error, detail: HOT_JOURNAL_ADVICE }) : error

/** Builds the service for the data directory `dataDir` laid out as `layout`; opens nothing. */
export const make = Effect.fnUntraced(function*(dataDir: string, layout: DataDirectoryLayout) {
  const fs = yield* FileSystem.FileSystem
  const path = yield* Path.Path
  const services = Layer.mergeAll(Layer.succeed(FileSystem.FileSystem, fs), Layer.succeed(Path.Path, path))
  const root = path.resolve(dataDir)
  const database = path.join(root, layout.database)
  const archive = path.join(root, ...layout.archive)
  const blobs = path.join(root, layout.blobs)
  const withFiles = <A, E>(self: Effect.Effect<A, E, FileSystem.FileSystem | Path.Path>) => Effect.provide(self, services)

  const inspectLayout = () => withFiles(DataDirectoryCheck.inspect(root))

  /** The inspection, failing unless the folder and `nerve.db` exist (never creates anything). */
  const requireDatabase = Effect.fnUntraced(function*() {
    const found = yield* inspectLayout()
    if (!found.exists) {
      return yield* new DataDirectoryError({ path: root, reason: "notFound", code: "ENOENT", detail: "the data directory does not exist" })
    }
    const rootRefused = DataDirectoryCheck.refusals(found, { readonly: true }).find((f) => f.path === ".")
    if (rootRefused !== undefined) return yield* DataDirectoryCheck.refusalError(root, rootRefused)
    if (found.layout.find((e) => e.path === "nerve.db")?.found === "missing") return yield* new NoDatabase({ path: database })
    return found
  })

  /** Fails with what a writable layer would refuse. */
  const refuseForWriting = Effect.fnUntraced(function*(found: DataDirectoryCheck.DataDirectoryInspection) {
    const refused = DataDirectoryCheck.refusals(found, { readonly: false })[0]
    if (refused !== undefined) return yield* DataDirectoryCheck.refusalError(root, refused)
  })

  const readOnly = makeConnection({ filename: database, readonly: true }).pipe(Effect.mapError(explainHotJournal))

  const schemaVersionOp: MaintenanceShape["schemaVersion"] = Effect.fn("Maintenance.schemaVersion")(function*() {
    yield* requireDatabase()
    const found = yield* Effect.scoped(Effect.flatMap(readOnly, schemaVersion))
    return { found, known: LATEST_SCHEMA_VERSION }
  })

  /** The parts of a check that need the database, or what to report when it cannot be opened. */
  const checkDatabase = Effect.fnUntraced(function*(databaseEntry: DataDirectoryCheck.LayoutEntry | undefined) {
    const skipped = (why: string, hotJournal: boolean) =>
      Effect.map(withFiles(Files.headerSchemaVersion(database)), (version) => ({
        integrity: [why],
        schemaVersion: version,
        latestSchemaVersion: LATEST_SCHEMA_VERSION,
        legacy05: false,
        journalMode: "unknown",
        hotJournal,
        archiveDays: [],
        roundCounts: []
      }))
    if (databaseEntry?.found !== "ok") return yield* skipped(`not checked: nerve.db is a ${databaseEntry?.found ?? "missing"} entry`, false)
    return yield* Effect.scoped(Effect.gen(function*() {
      const db = yield* Database.make({ filename: database, readonly: true }).pipe(Effect.mapError(asDatabaseError("Maintenance.check")))
      const integrity = yield* db.integrityCheck()
      const legacy05 = integrity.schemaVersion === 0 && (yield* Queries.hasTable(db.sql, "logs"))
      // A 0.5 file has no manifest: its day files are all `unrecorded`, nothing to report.
      const archiveDays = legacy05 ? [] : (yield* LogArchive.use((a) => a.days()).pipe(
        Effect.provide(layout.archiveLayer(archive).pipe(Layer.provide(Layer.succeed(Database.Database, db)))),
        withFiles
      )).filter(needsAttention)
      const roundCounts = (yield* Queries.hasTable(db.sql, "thread_round_counts"))
        ? yield* ThreadRoundCounts.mismatches(db.sql, SHOWN_ROUND_COUNTS)
        : []
      return {
        integrity: integrity.ok ? ["ok"] : integrity.problems,
        schemaVersion: integrity.schemaVersion,
        latestSchemaVersion: integrity.latestSchemaVersion,
        legacy05,
        journalMode: yield* Queries.journalMode(db.sql),
        hotJournal: false,
        archiveDays,
        roundCounts
      }
    })).pipe(
      Effect.catchIf(
        (error): error is DatabaseError => error._tag === "DatabaseError" && error.code === READONLY_ROLLBACK,
        () => skipped("not checked: a hot rollback journal must be rolled back first", true)
      )
    )
  })

  const check: MaintenanceShape["check"] = Effect.fn("Maintenance.check")(function*() {
    const found = yield* requireDatabase()
    const fromDatabase = yield* checkDatabase(found.layout.find((e) => e.path === "nerve.db"))
    const report = { dataDir: root, layout: found.layout, quarantinedBlobs: yield* withFiles(Files.quarantined(blobs)), ...fromDatabase }
    const problems = problemsOf(report, found.findings)
    const warnings = found.findings.filter((f) => f.kind === "looseMode").map((f) => f.message)
    return { ok: problems.length === 0, problems, warnings, ...report }
  })

  const stats: MaintenanceShape["stats"] = Effect.fn("Maintenance.stats")(function*() {
    yield* requireDatabase()
    const now = yield* Clock.currentTimeMillis
    const fromDb = yield* Effect.scoped(Effect.gen(function*() {
      const sql = yield* readOnly
      if (!(yield* Queries.hasTable(sql, "logs")) || !(yield* Queries.hasTable(sql, "workflow_runs"))) {
        return yield* new CorruptRow({ table: "sqlite_master", key: "logs", reason: "not a nerve-store database (no logs or workflow_runs table)" })
      }
      const upTo = yield* Queries.archivedUpTo(sql)
      return {
        range: yield* Queries.logRange(sql),
        byStatus: yield* Queries.runsByStatus(sql),
        archivedUpTo: upTo,
        behindArchive: upTo === null ? null : yield* Queries.rowsBehindArchive(sql, upTo),
        owners: yield* Queries.liveOwners(sql, now)
      }
    }))
    const archiveUsage = yield* withFiles(Files.folderUsage(archive, Files.isDayFileName))
    const blobUsage = yield* withFiles(Files.folderUsage(blobs, Files.isBlobEntry))
    return statsReport({
      dataDir: root,
      fromDb,
      archive: archiveUsage,
      blobs: blobUsage,
      database: yield* withFiles(Files.fileSize(database)),
      wal: yield* withFiles(Files.fileSize(`${database}-wal`))
    })
  })

  /**
   * The file's version on a writable connection (which rolls back a hot journal on its first
   * read), refusing a file newer than this build; whether a journal was rolled back.
   */
  const openForWriting = Effect.fnUntraced(function*() {
    yield* refuseForWriting(yield* requireDatabase())
    const journalBefore = yield* withFiles(Files.hasRollbackJournal(database))
    const from = yield* Effect.scoped(Effect.flatMap(makeConnection({ filename: database }), schemaVersion))
    if (from > LATEST_SCHEMA_VERSION) return yield* new UpgradeRefused({ path: database, found: from, known: LATEST_SCHEMA_VERSION })
    const journalRolledBack = journalBefore && !(yield* withFiles(Files.hasRollbackJournal(database)))
    return { from, journalRolledBack }
  })

  /** Opens the file writable (migrating it) and recounts the round counts. */
  const migrateAndRecount = Effect.scoped(Effect.gen(function*() {
    const db = yield* Database.make({ filename: database }).pipe(Effect.mapError(asDatabaseError("Maintenance.upgrade")))
    return { to: db.schemaVersion, repaired: yield* ThreadRoundCounts.rebuild(db.sql) }
  }))

  const upgrade: MaintenanceShape["upgrade"] = Effect.fn("Maintenance.upgrade")(function*() {
    const { from, journalRolledBack } = yield* openForWriting()
    const { to, repaired } = yield* migrateAndRecount
    return { from, to, roundCountsRepaired: repaired, journalRolledBack }
  })

  const recount: MaintenanceShape["recount"] = Effect.fn("Maintenance.recount")(function*() {
    yield* openForWriting()
    return (yield* migrateAndRecount).repaired
  })

  const staleLeases: MaintenanceShape["staleLeases"] = Effect.fn("Maintenance.staleLeases")(function*(now: number) {
    yield* requireDatabase()
    return yield* Effect.scoped(Effect.flatMap(readOnly, (sql) => Queries.staleLeases(sql, now)))
  })

  const quarantine: MaintenanceShape["quarantine"] = Effect.fn("Maintenance.quarantine")(function*() {
    return yield* withFiles(Files.quarantined(blobs))
  })

  const init: MaintenanceShape["init"] = Effect.fn("Maintenance.init")(function*() {
    const before = yield* inspectLayout()
    if (!before.exists) yield* fs.makeDirectory(root, { recursive: true, mode: 0o700 }).pipe(Effect.mapError((e) => dataDirectoryError(root, e)))
    const found = before.exists ? before : yield* inspectLayout()
    yield* refuseForWriting(found)
    const created = found.layout.find((e) => e.path === "nerve.db")?.found === "missing"
    // An existing file is left as it is (`upgrade` is the command that changes it).
    if (!created) return { dataDir: root, database, created, schemaVersion: (yield* schemaVersionOp()).found }
    const { to } = yield* migrateAndRecount
    return { dataDir: root, database, created, schemaVersion: to }
  })

  return Maintenance.of({
    dataDir: root,
    layout: Effect.fn("Maintenance.layout")(function*() {
      return yield* inspectLayout()
    }),
    schemaVersion: schemaVersionOp,
    check,
    stats,
    upgrade,
    recount,
    staleLeases,
    quarantine,
    init
  })
})

/** The service on the data directory `dataDir`; building it opens nothing. */
export const layer = (dataDir: string, layout: DataDirectoryLayout): Layer.Layer<Maintenance, never, FileSystem.FileSystem | Path.Path> =>
  Layer.effect(Maintenance, make(dataDir, layout))
