/**
 * The maintenance service on a PostgreSQL database and the data directory of its files (day files
 * in `archive/logs/`, blobs in `blobs/`). `schemaVersion`, `check`, `stats` and `staleLeases`
 * connect without migrating; `upgrade` migrates (what every daemon's open does); `init` and
 * `recount` are not built for PostgreSQL and fail with `NotOnThisBackend`.
 *
 * @since 0.8.0
 */
import { PgClient } from "@effect/sql-pg"
import { Clock, Effect, FileSystem, Layer, Path, type Redacted, Schema } from "effect"
import * as Reactivity from "effect/reactivity/Reactivity"
import type { SqlClient } from "effect/sql/SqlClient"
import type { ArchivedDay } from "../../schema/Archive.ts"
import { CorruptRow, DatabaseError, type InvalidInput } from "../../schema/Errors.ts"
import { LOG_ARCHIVE_META_KEY, utcDateStringFromMs, utcDayEndExclusiveMs } from "../domain/UtcDay.ts"
import { statsReport } from "../domain/StatsReport.ts"
import * as DataDirectoryCheck from "../fs/DataDirectoryCheck.ts"
import { LogArchive } from "../LogArchive.ts"
import { type CheckReport, DAY_ADVICE, Maintenance, type MaintenanceShape, NotOnThisBackend } from "../Maintenance.ts"
import * as Files from "../sqlite/MaintenanceFiles.ts"
import * as PgDatabase from "./PgDatabase.ts"
import { mapSqlError } from "./PgError.ts"
import { LATEST_PG_SCHEMA_VERSION, schemaVersion } from "./PgMigrations.ts"

/** Where the files are, and the archive's layer on the database in context. */
export interface PgDataLayout {
  readonly archive: ReadonlyArray<string>
  readonly blobs: string
  readonly archiveLayer: (archiveDir: string) => Layer.Layer<LogArchive, never, PgDatabase.PgDatabase | FileSystem.FileSystem | Path.Path>
}

const BACKEND = "PostgreSQL"
const SHOWN_ROUND_COUNTS = 100

/** A bad URL, for the maintenance service's error type: the database cannot be reached. */
const badUrl = (error: InvalidInput) =>
  new DatabaseError({ operation: "connect to PostgreSQL", reason: "other", code: null, detail: `${error.field} ${error.reason}` })

const N = Schema.Number
const NullN = Schema.NullOr(Schema.Number)
const Range = Schema.Struct({ n: N, minId: NullN, maxId: NullN, minTs: NullN, maxTs: NullN })
const StatusCount = Schema.Struct({ status: Schema.String, n: N })
const Owner = Schema.Struct({ owner: Schema.String, runs: N, expiresAt: N })
const Stale = Schema.Struct({ runId: Schema.String, status: Schema.String, owner: Schema.String, expiresAt: N })
const Mismatch = Schema.Struct({ runId: Schema.String, stored: N, actual: N })
const Value = Schema.Struct({ value: Schema.String })
const Day = Schema.Struct({ day: Schema.String })
const Size = Schema.Struct({ bytes: N })

/** Decodes every row of a query, or fails `CorruptRow` naming the table. */
const decodeAll = <S extends Schema.Top & { readonly DecodingServices: never }>(schema: S, table: string) =>
(rows: ReadonlyArray<unknown>) =>
  Schema.decodeUnknownEffect(Schema.Array(schema))(rows).pipe(
    Effect.mapError((issue) => new CorruptRow({ table, key: "*", reason: String(issue.message) }))
  )

const RANGE = "count(*)::float8 AS n, min(id)::float8 AS \"minId\", max(id)::float8 AS \"maxId\", " +
  "min(timestamp)::float8 AS \"minTs\", max(timestamp)::float8 AS \"maxTs\""

/** Builds the service; opens nothing. */
export const make = Effect.fnUntraced(function*(url: Redacted.Redacted<string> | string, dataDir: string, layout: PgDataLayout) {
  const fs = yield* FileSystem.FileSystem
  const path = yield* Path.Path
  const services = Layer.mergeAll(Layer.succeed(FileSystem.FileSystem, fs), Layer.succeed(Path.Path, path))
  const withFiles = <A, E>(self: Effect.Effect<A, E, FileSystem.FileSystem | Path.Path>) => Effect.provide(self, services)
  const root = path.resolve(dataDir)
  const archive = path.join(root, ...layout.archive)
  const blobs = path.join(root, layout.blobs)

  /** One connection, not migrated, closed with the scope. */
  const connect = Effect.gen(function*() {
    const checked = yield* PgDatabase.decodeUrl(url).pipe(Effect.mapError(badUrl))
    const client = yield* PgClient.make({ url: checked, maxConnections: 1, applicationName: "nerve-store maintenance", connectTimeout: "30 seconds" }).pipe(
      Effect.provideService(Clock.Clock, Clock.Clock.defaultValue()),
      Effect.provide(Reactivity.layer),
      mapSqlError("connect to PostgreSQL")
    )
    yield* client`SELECT 1`.pipe(mapSqlError("connect to PostgreSQL"))
    return client as SqlClient
  })
  const query = <S extends Schema.Top & { readonly DecodingServices: never }>(sql: SqlClient, schema: S, table: string, text: string, params: ReadonlyArray<unknown> = []) =>
    sql.unsafe(text, params).pipe(mapSqlError(`read ${table}`), Effect.flatMap(decodeAll(schema, table)))

  const notBuilt = (operation: string, instead: string) => Effect.fail(new NotOnThisBackend({ operation, backend: BACKEND, instead }))

  const schemaVersionOp: MaintenanceShape["schemaVersion"] = Effect.fn("Maintenance.schemaVersion")(function*() {
    const found = yield* Effect.scoped(Effect.flatMap(connect, schemaVersion))
    return { found, known: LATEST_PG_SCHEMA_VERSION }
  })

  /** Runs whose stored round count differs from the role rounds their rows hold. */
  const roundCounts = (sql: SqlClient) =>
    query(
      sql,
      Mismatch,
      "thread_round_counts",
      `SELECT coalesce(c.ref_id, r.ref_id) AS "runId", coalesce(c.rounds, 0)::float8 AS stored, coalesce(r.n, 0)::float8 AS actual
       FROM thread_round_counts c FULL JOIN (SELECT ref_id, count(*) AS n FROM logs WHERE thread_round GROUP BY ref_id) r ON r.ref_id = c.ref_id
       WHERE coalesce(c.rounds, 0) <> coalesce(r.n, 0) ORDER BY 1 LIMIT ${SHOWN_ROUND_COUNTS}`
    )

  const archivedDays = Effect.scoped(Effect.gen(function*() {
    const db = yield* PgDatabase.make({ url, maxConnections: 2 }).pipe(Effect.catchTag("InvalidInput", (e) => Effect.fail(badUrl(e))))
    const days = yield* LogArchive.use((a) => a.days()).pipe(
      Effect.provide(layout.archiveLayer(archive).pipe(Layer.provide(Layer.succeed(PgDatabase.PgDatabase, db)))),
      withFiles
    )
    return days.filter((d: ArchivedDay) => d.status !== "ok" && d.status !== "unrecorded")
  })).pipe(Effect.provide(Reactivity.layer))

  const check: MaintenanceShape["check"] = Effect.fn("Maintenance.check")(function*() {
    const found = yield* withFiles(DataDirectoryCheck.inspect(root))
    const layoutEntries = found.layout.filter((e) => !e.path.startsWith("nerve.db"))
    const findings = found.findings.filter((f) => !f.path.startsWith("nerve.db"))
    const fromDb = yield* Effect.scoped(Effect.gen(function*() {
      const sql = yield* connect
      const version = yield* schemaVersion(sql)
      return { version, roundCounts: version === LATEST_PG_SCHEMA_VERSION ? yield* roundCounts(sql) : [] }
    }))
    const current = fromDb.version === LATEST_PG_SCHEMA_VERSION
    const archiveDays = current && found.exists ? yield* archivedDays : []
    const quarantinedBlobs = found.exists ? yield* withFiles(Files.quarantined(blobs)) : []
    const report: Omit<CheckReport, "ok" | "problems" | "warnings"> = {
      dataDir: root,
      integrity: ["not checked: PostgreSQL keeps its own pages (connected)"],
      schemaVersion: fromDb.version,
      latestSchemaVersion: LATEST_PG_SCHEMA_VERSION,
      legacy05: false,
      journalMode: "postgresql",
      hotJournal: false,
      layout: layoutEntries,
      archiveDays,
      roundCounts: fromDb.roundCounts,
      quarantinedBlobs
    }
    const problems = [
      ...(fromDb.version > LATEST_PG_SCHEMA_VERSION ? [`schema version ${fromDb.version} is newer than this nerve-store (${LATEST_PG_SCHEMA_VERSION})`] : []),
      ...(fromDb.version < LATEST_PG_SCHEMA_VERSION
        ? [`schema version ${fromDb.version} is behind this nerve-store (${LATEST_PG_SCHEMA_VERSION}): run \`nerve-store db upgrade\` or start a daemon`]
        : []),
      ...findings.filter((f) => f.kind !== "looseMode").map((f) => f.message),
      ...archiveDays.filter((d) => d.status !== "pending").map((d) => `archived day ${d.day} is ${d.status}: ${DAY_ADVICE[d.status]}`),
      ...fromDb.roundCounts.map((r) => `run ${r.runId}: stored round count ${r.stored}, its rows hold ${r.actual} rounds`),
      ...quarantinedBlobs.map((b) => `blob ${b.digest ?? b.file} is in blobs/quarantine/ (its content did not match its digest)`)
    ]
    const warnings = [
      ...(found.exists ? [] : [`the data directory ${root} does not exist (day files and blobs live there)`]),
      ...findings.filter((f) => f.kind === "looseMode").map((f) => f.message)
    ]
    return { ok: problems.length === 0, problems, warnings, ...report }
  })

  const stats: MaintenanceShape["stats"] = Effect.fn("Maintenance.stats")(function*() {
    const now = yield* Clock.currentTimeMillis
    const fromDb = yield* Effect.scoped(Effect.gen(function*() {
      const sql = yield* connect
      if ((yield* schemaVersion(sql)) === 0) {
        return yield* new CorruptRow({ table: "nerve_schema_migrations", key: "version", reason: "not a nerve-store database (no schema); start a daemon or run `nerve-store db upgrade`" })
      }
      const range = (yield* query(sql, Range, "logs", `SELECT ${RANGE} FROM logs`))[0] ?? { n: 0, minId: null, maxId: null, minTs: null, maxTs: null }
      const byStatus = yield* query(sql, StatusCount, "workflow_runs", "SELECT status, count(*)::float8 AS n FROM workflow_runs GROUP BY status")
      const upTo = (yield* query(sql, Value, "meta", "SELECT value FROM meta WHERE key = $1", [LOG_ARCHIVE_META_KEY]))[0]?.value ?? null
      const endMs = upTo === null ? Number.NaN : utcDayEndExclusiveMs(upTo)
      const behind = Number.isFinite(endMs) ? (yield* query(sql, Range, "logs", `SELECT ${RANGE} FROM logs WHERE timestamp < $1`, [endMs]))[0] : undefined
      const behindArchive = behind === undefined || behind.n === 0 || behind.minTs === null || behind.maxTs === null ? null : yield* Effect.gen(function*() {
        const oldestDay = utcDateStringFromMs(behind.minTs ?? 0)
        const newestDay = utcDateStringFromMs(behind.maxTs ?? 0)
        const restored = yield* query(sql, Day, "archive_restored", "SELECT day FROM archive_restored WHERE day >= $1 AND day <= $2 ORDER BY day", [oldestDay, newestDay])
        return { rows: behind.n, oldestDay, newestDay, restoredDays: restored.map((r) => r.day) }
      })
      const owners = yield* query(
        sql,
        Owner,
        "run_leases",
        `SELECT owner, count(*)::float8 AS runs, max(expires_at)::float8 AS "expiresAt" FROM run_leases WHERE expires_at > $1 GROUP BY owner ORDER BY owner`,
        [now]
      )
      const size = (yield* query(sql, Size, "pg_database_size", "SELECT pg_database_size(current_database())::float8 AS bytes"))[0]?.bytes ?? 0
      return { range, byStatus, archivedUpTo: upTo, behindArchive, owners, size }
    }))
    const archiveUsage = yield* withFiles(Files.folderUsage(archive, Files.isDayFileName))
    const blobUsage = yield* withFiles(Files.folderUsage(blobs, Files.isBlobEntry))
    return statsReport({ dataDir: root, fromDb, archive: archiveUsage, blobs: blobUsage, database: fromDb.size, wal: 0 })
  })

  const upgrade: MaintenanceShape["upgrade"] = Effect.fn("Maintenance.upgrade")(function*() {
    const { found } = yield* schemaVersionOp()
    const to = yield* Effect.scoped(Effect.map(PgDatabase.make({ url, maxConnections: 1 }), (db) => db.schemaVersion)).pipe(
      Effect.provide(Reactivity.layer),
      Effect.catchTag("InvalidInput", (e) => Effect.fail(badUrl(e)))
    )
    return { from: found, to, roundCountsRepaired: 0, journalRolledBack: false }
  })

  const staleLeases: MaintenanceShape["staleLeases"] = Effect.fn("Maintenance.staleLeases")(function*(now: number) {
    return yield* Effect.scoped(Effect.flatMap(connect, (sql) =>
      query(
        sql,
        Stale,
        "run_leases",
        `SELECT l.run_id AS "runId", r.status, l.owner, l.expires_at::float8 AS "expiresAt"
         FROM run_leases l JOIN workflow_runs r ON r.run_id = l.run_id
         WHERE l.expires_at <= $1 AND r.status IN ('queued', 'started') ORDER BY l.expires_at, l.run_id`,
        [now]
      )))
  })

  return Maintenance.of({
    dataDir: root,
    layout: Effect.fn("Maintenance.layout")(function*() {
      return yield* withFiles(DataDirectoryCheck.inspect(root))
    }),
    schemaVersion: schemaVersionOp,
    check,
    stats,
    upgrade,
    recount: () => notBuilt("db recount", "PostgreSQL keeps the round counts in the same transaction as their rows"),
    staleLeases,
    quarantine: Effect.fn("Maintenance.quarantine")(function*() {
      return yield* withFiles(Files.quarantined(blobs))
    }),
    init: () => notBuilt("db init", "a daemon's first open (or `nerve-store db upgrade`) creates the schema in an existing database")
  })
})

/** The service on the database at `url` with its files in `dataDir`; building it opens nothing. */
export const layer = (
  url: Redacted.Redacted<string> | string,
  dataDir: string,
  layout: PgDataLayout
): Layer.Layer<Maintenance, never, FileSystem.FileSystem | Path.Path> => Layer.effect(Maintenance, make(url, dataDir, layout))
