/**
 * Ready-made layers: the live stack on a data directory and the in-memory stack for tests, plus
 * one layer per service for those who compose them differently.
 *
 * Naming: `<Service><Backend>`. `Sqlite` runs on the `Database` in context, `File` opens a
 * SQLite file of its own, `FileSystem` keeps files in a folder through the Effect `FileSystem`,
 * `Memory` keeps everything in memory (fresh for each provide). `NerveStoreLive` /
 * `NerveStoreMemory` compose all three services.
 *
 * @example
 * ```ts
 * import { NerveStoreLive, NerveStoreMemory } from "@uncaged/nerve-store/layers"
 * program.pipe(Effect.provide(NerveStoreLive({ dataDir: "./data" })))   // the daemon
 * program.pipe(Effect.provide(NerveStoreMemory))                        // its tests
 * ```
 *
 * @since 0.6.0
 */
import * as NodeServices from "@effect/platform-node/NodeServices"
import { Config, Duration, Effect, FileSystem, Layer, Path, Redacted } from "effect"
import type { ConfigError } from "effect/Config"
import { DataDirectoryError, type DatabaseError, InvalidInput, type OwnerInUse, type SchemaTooNew } from "../schema/Errors.ts"
import * as BlobStoreFileSystemImpl from "../src/blob/BlobStoreFileSystem.ts"
import * as BlobStoreMemoryImpl from "../src/blob/BlobStoreMemory.ts"
import type { BlobStore } from "../src/BlobStore.ts"
import * as LogArchiveLive from "../src/archive/LogArchiveLive.ts"
import * as ArchiveRepositorySqlite from "../src/sqlite/ArchiveRepositorySqlite.ts"
import type { LogArchive } from "../src/LogArchive.ts"
import type { LogStore, LogStoreOptions } from "../src/LogStore.ts"
import { ownerFromConfig } from "../src/logstore/LeaseConfig.ts"
import * as LogStoreSqliteImpl from "../src/logstore/LogStoreSqlite.ts"
import * as LogStorePgImpl from "../src/pg/LogStorePg.ts"
import * as ArchiveRepositoryPg from "../src/pg/ArchiveRepositoryPg.ts"
import * as PgDatabase from "../src/pg/PgDatabase.ts"
import * as Database from "../src/sqlite/Database.ts"
import * as DataDirectoryCheck from "../src/fs/DataDirectoryCheck.ts"
import { dataDirectoryError } from "../src/fs/PlatformErrors.ts"
import type { Maintenance } from "../src/Maintenance.ts"
import * as MaintenanceSqliteImpl from "../src/sqlite/MaintenanceSqlite.ts"
import * as MaintenancePgImpl from "../src/pg/MaintenancePg.ts"
import * as DatabaseCopyPgImpl from "../src/pg/DatabaseCopyPg.ts"
import type { DatabaseCopy } from "../src/DatabaseCopy.ts"

/** The migrated SQLite database that LogStore and LogArchive share (built only by this package). */
export type { Database } from "../src/sqlite/Database.ts"

/** How to open a SQLite file. */
export interface DatabaseFileOptions {
  /** A file path, or `":memory:"` for a private in-memory database. */
  readonly filename: string
  /** How long to wait for another process's write lock (default 10 seconds). */
  readonly busyTimeout?: Duration.Input
  /** SQLite `synchronous`: `NORMAL` (default) or `FULL` (durable across power loss). */
  readonly synchronous?: "NORMAL" | "FULL"
  /**
   * Open read-only: never create or migrate the file (a 0.5 file is read as it is), take no lock
   * beyond reading, and fail every write with `DatabaseError` reason `readOnly`.
   */
  readonly readonly?: boolean
}

/** Who a LogStore stack is and how long its run leases last (see `LogStoreOptions`). */
export type { LogStoreOptions } from "../src/LogStore.ts"

/** Options of a LogStore on a SQLite file of its own. */
export interface LogStoreFileOptions extends DatabaseFileOptions, LogStoreOptions {}

/** Options of the live stack. */
export interface NerveStoreLiveOptions extends Omit<DatabaseFileOptions, "filename">, LogStoreOptions {
  /**
   * The data directory: `nerve.db`, `archive/logs/`, `blobs/` live here. Created (owner-only)
   * if missing, unless `readonly`, which requires it to exist.
   */
  readonly dataDir: string
}

/** What the stacks provide. */
export type NerveStore = LogStore | LogArchive | BlobStore

/** The database file inside a data directory. */
export const DATABASE_FILE = "nerve.db"
/** The folder of archived days inside a data directory. */
export const ARCHIVE_FOLDER = ["archive", "logs"] as const
/** The folder of blobs inside a data directory. */
export const BLOB_FOLDER = "blobs"

const sqliteOptions = (options: DatabaseFileOptions) => ({
  filename: options.filename,
  ...(options.synchronous === undefined ? {} : { synchronous: options.synchronous }),
  ...(options.readonly === undefined ? {} : { readonly: options.readonly }),
  ...(options.busyTimeout === undefined ? {} : { busyTimeoutMs: Duration.toMillis(Duration.fromInputUnsafe(options.busyTimeout)) })
})

/**
 * A SQLite file (its folder must exist), migrated on open. A file whose schema is newer than this
 * build knows opens only with `readonly`; a writable open fails with `SchemaTooNew`.
 */
export const DatabaseFile = (options: DatabaseFileOptions): Layer.Layer<Database.Database, DatabaseError | SchemaTooNew> =>
  Database.layer(sqliteOptions(options))

/** A private, migrated in-memory database (fresh for each provide). */
export const DatabaseMemory: Layer.Layer<Database.Database, DatabaseError> = Database.layerMemory

const logStoreOptions = (options: LogStoreOptions): LogStoreOptions => ({
  ...(options.owner === undefined ? {} : { owner: options.owner }),
  ...(options.leaseTtl === undefined ? {} : { leaseTtl: options.leaseTtl }),
  ...(options.leaseRenewal === undefined ? {} : { leaseRenewal: options.leaseRenewal })
})

/**
 * LogStore on the `Database` in context (share one database with `LogArchiveFileSystem`), as the
 * owner `options.owner` (default `host:pid:boot`) with leases of `options.leaseTtl` (default 30 s).
 * Bad options fail with `InvalidInput` naming the option; an owner name a live boot still renews
 * fails with `OwnerInUse`.
 */
export const LogStoreSqlite = (
  options: LogStoreOptions = {}
): Layer.Layer<LogStore, InvalidInput | OwnerInUse | DatabaseError, Database.Database> =>
  LogStoreSqliteImpl.layerWith(logStoreOptions(options))

/** LogStore on a SQLite file of its own (any path; its folder must exist). */
export const LogStoreFile = (
  options: LogStoreFileOptions
): Layer.Layer<LogStore, DatabaseError | SchemaTooNew | InvalidInput | OwnerInUse> =>
  LogStoreSqlite(options).pipe(Layer.provide(DatabaseFile(options)))

/** LogStore on a private in-memory SQLite database (fresh for each provide), with the default owner. */
export const LogStoreMemory: Layer.Layer<LogStore, DatabaseError> = LogStoreSqliteImpl.layer.pipe(Layer.provide(DatabaseMemory))

/** Options of a LogStore on PostgreSQL: where the database is, and who this stack is. */
export interface LogStorePgOptions extends LogStoreOptions {
  /** `postgres://user[:password]@host[:port]/database`, as a string or `Redacted`. */
  readonly url: string | Redacted.Redacted<string>
  /** The most connections this stack opens at once (default 10). */
  readonly maxConnections?: number
}

/**
 * LogStore on a PostgreSQL database (SPEC §PostgreSQL backend), shared by daemons on several
 * machines: migrated on open (once, however many open it together), transitions with the run row
 * locked, `follow` pushed by LISTEN/NOTIFY. Bad options fail with `InvalidInput`; an unreachable
 * server with a retryable `DatabaseError` (reason `connection`).
 */
export const LogStorePg = (options: LogStorePgOptions): Layer.Layer<LogStore, DatabaseError | InvalidInput | OwnerInUse> =>
  LogStorePgImpl.layer({
    ...logStoreOptions(options),
    url: options.url,
    ...(options.maxConnections === undefined ? {} : { maxConnections: options.maxConnections })
  })

/** LogArchive on the `Database` in context, with day files under `archiveDir`. */
export const LogArchiveFileSystem = (
  archiveDir: string
): Layer.Layer<LogArchive, never, Database.Database | FileSystem.FileSystem | Path.Path> =>
  LogArchiveLive.layerFileSystem(archiveDir).pipe(Layer.provide(ArchiveRepositorySqlite.layer))

/** LogArchive on the `Database` in context, with day files in memory (fresh for each provide). */
export const LogArchiveMemory: Layer.Layer<LogArchive, never, Database.Database> = LogArchiveLive.layerMemory.pipe(
  Layer.provide(ArchiveRepositorySqlite.layer)
)

/** Blobs in the folder `root` (created by the first write) on the Effect `FileSystem` in context. */
export const BlobStoreFileSystem = (root: string): Layer.Layer<BlobStore, never, FileSystem.FileSystem | Path.Path> =>
  BlobStoreFileSystemImpl.layer(root)

/** Blobs in a `Map`, fresh for each provide. */
export const BlobStoreMemory: Layer.Layer<BlobStore> = BlobStoreMemoryImpl.layer

/**
 * Checks the data directory before anything opens (`src/fs/DataDirectoryCheck.ts`, the same
 * inspection `db check` reports): creates it owner-only when missing (unless `readonly`); fails
 * with `DataDirectoryError` when it, `blobs/` or `archive/logs/` is a file, and, unless
 * `readonly`, when an entry inside is a symbolic link or another user owns an entry; a read-only
 * stack needs an existing `nerve.db`.
 */
const prepareDataDirectory = Effect.fnUntraced(function*(options: NerveStoreLiveOptions) {
  const fs = yield* FileSystem.FileSystem
  if (options.dataDir.trim() === "") {
    return yield* new InvalidInput({ field: "dataDir", reason: "must not be empty" })
  }
  let found = yield* DataDirectoryCheck.inspect(options.dataDir)
  if (!found.exists) {
    if (options.readonly === true) {
      return yield* new DataDirectoryError({
        path: options.dataDir,
        reason: "notFound",
        code: "ENOENT",
        detail: "a read-only store needs an existing data directory"
      })
    }
    yield* fs.makeDirectory(options.dataDir, { recursive: true, mode: 0o700 }).pipe(
      Effect.mapError((error) => dataDirectoryError(options.dataDir, error))
    )
    found = yield* DataDirectoryCheck.inspect(options.dataDir)
  }
  const refused = DataDirectoryCheck.refusals(found, { readonly: options.readonly === true })[0]
  if (refused !== undefined) return yield* DataDirectoryCheck.refusalError(options.dataDir, refused)
  if (options.readonly === true && found.layout.find((e) => e.path === DATABASE_FILE)?.found === "missing") {
    return yield* new DataDirectoryError({
      path: `${found.root}/${DATABASE_FILE}`,
      reason: "notFound",
      code: "ENOENT",
      detail: "no database in the data directory: run the daemon or `nerve-store db init`"
    })
  }
})

/**
 * The live stack on a data directory (SPEC §Data directory): `nerve.db` shared by LogStore and
 * LogArchive, day files in `archive/logs/`, blobs in `blobs/`. The folder is created when missing.
 */
export const NerveStoreLive = (
  options: NerveStoreLiveOptions
): Layer.Layer<NerveStore, DatabaseError | SchemaTooNew | DataDirectoryError | InvalidInput | OwnerInUse> =>
  Layer.unwrap(Effect.gen(function*() {
    const path = yield* Path.Path
    yield* prepareDataDirectory(options)
    return Layer.mergeAll(
      LogStoreSqlite(options),
      LogArchiveFileSystem(path.join(options.dataDir, ...ARCHIVE_FOLDER))
    ).pipe(
      Layer.provide(DatabaseFile({ ...options, filename: path.join(options.dataDir, DATABASE_FILE) })),
      Layer.merge(BlobStoreFileSystem(path.join(options.dataDir, BLOB_FOLDER)))
    )
  })).pipe(Layer.provide(NodeServices.layer))

/**
 * `NerveStoreLive` configured from the environment: `NERVE_DATA_DIR` (default `./data`),
 * `NERVE_SYNCHRONOUS` (`NORMAL` or `FULL`), `NERVE_BUSY_TIMEOUT` (a duration, e.g. `5 seconds`),
 * `NERVE_OWNER` (the owner name of this daemon's leases), `NERVE_LEASE_TTL` (a duration),
 * `NERVE_READONLY` (`true` to open read-only). With `NERVE_DATABASE_URL` set (read as a secret) the
 * stack is `NerveStorePg` on that database, its files in `NERVE_DATA_DIR`.
 */
export const NerveStoreConfig: Layer.Layer<
  NerveStore,
  DatabaseError | SchemaTooNew | DataDirectoryError | InvalidInput | OwnerInUse | ConfigError
> = Layer.unwrap(
  Effect.gen(function*() {
    const dataDir = yield* Config.String("NERVE_DATA_DIR").pipe(Config.withDefault("./data"))
    const synchronous = yield* Config.option(Config.Literals(["NORMAL", "FULL"], "NERVE_SYNCHRONOUS"))
    const busyTimeout = yield* Config.option(Config.Duration("NERVE_BUSY_TIMEOUT"))
    const owner = yield* ownerFromConfig
    const leaseTtl = yield* Config.option(Config.Duration("NERVE_LEASE_TTL"))
    const readonly = yield* Config.Boolean("NERVE_READONLY").pipe(Config.withDefault(false))
    const databaseUrl = yield* Config.option(Config.Redacted("NERVE_DATABASE_URL"))
    if (databaseUrl._tag === "Some") {
      return NerveStorePg({
        url: databaseUrl.value,
        dataDir,
        ...(owner._tag === "Some" ? { owner: owner.value } : {}),
        ...(leaseTtl._tag === "Some" ? { leaseTtl: leaseTtl.value } : {})
      })
    }
    return NerveStoreLive({
      dataDir,
      readonly,
      ...(synchronous._tag === "Some" ? { synchronous: synchronous.value } : {}),
      ...(busyTimeout._tag === "Some" ? { busyTimeout: busyTimeout.value } : {}),
      ...(owner._tag === "Some" ? { owner: owner.value } : {}),
      ...(leaseTtl._tag === "Some" ? { leaseTtl: leaseTtl.value } : {})
    })
  })
)

/** Options of the stack on PostgreSQL: the database, the data directory of its files, who this stack is. */
export interface NerveStorePgOptions extends LogStorePgOptions {
  /** The folder of this machine's files: day files in `archive/logs/`, blobs in `blobs/` (created if missing). */
  readonly dataDir: string
}

/**
 * The stack on PostgreSQL (SPEC §PostgreSQL backend): LogStore and LogArchive share one migrated
 * pool (the archive's steps hold an advisory lock, so one archiver works at a time across
 * machines); day files in `<dataDir>/archive/logs`, blobs in `<dataDir>/blobs`.
 */
export const NerveStorePg = (
  options: NerveStorePgOptions
): Layer.Layer<NerveStore, DatabaseError | DataDirectoryError | InvalidInput | OwnerInUse> =>
  Layer.unwrap(Effect.gen(function*() {
    const path = yield* Path.Path
    yield* prepareDataDirectory({ dataDir: options.dataDir })
    return Layer.mergeAll(
      LogStorePgImpl.layerWith(logStoreOptions(options)),
      LogArchiveLive.layerFileSystem(path.join(options.dataDir, ...ARCHIVE_FOLDER)).pipe(Layer.provide(ArchiveRepositoryPg.layer))
    ).pipe(
      Layer.provide(PgDatabase.layer({
        url: options.url,
        ...(options.maxConnections === undefined ? {} : { maxConnections: options.maxConnections })
      })),
      Layer.merge(BlobStoreFileSystem(path.join(options.dataDir, BLOB_FOLDER)))
    )
  })).pipe(Layer.provide(NodeServices.layer))

/** The same services in memory, fresh for each provide: swap it in for `NerveStoreLive` in tests. */
export const NerveStoreMemory: Layer.Layer<NerveStore, DatabaseError> = Layer.mergeAll(
  LogStoreSqliteImpl.layer,
  LogArchiveMemory
).pipe(Layer.provide(DatabaseMemory), Layer.merge(BlobStoreMemory))

/**
 * The maintenance service (`db check|stats|upgrade|init`, `doctor`) on a SQLite data directory.
 * Building it opens nothing; each operation opens what it needs and closes it.
 *
 * @example
 * ```ts
 * const report = yield* Maintenance.use((m) => m.check()).pipe(Effect.provide(MaintenanceSqlite({ dataDir: "./data" })))
 * ```
 */
export const MaintenanceSqlite = (options: { readonly dataDir: string }): Layer.Layer<Maintenance> =>
  MaintenanceSqliteImpl.layer(options.dataDir, {
    database: DATABASE_FILE,
    archive: ARCHIVE_FOLDER,
    blobs: BLOB_FOLDER,
    archiveLayer: LogArchiveFileSystem
  }).pipe(
    Layer.provide(NodeServices.layer)
  )

/**
 * The maintenance service (`db check|stats|upgrade`, `doctor`) on a PostgreSQL database, with its
 * day files and blobs in `dataDir`. `check`/`stats` connect without migrating; `upgrade` migrates;
 * `init`/`recount` fail with `NotOnThisBackend`. Building it opens nothing.
 */
export const MaintenancePg = (options: { readonly url: string | Redacted.Redacted<string>; readonly dataDir: string }): Layer.Layer<Maintenance> =>
  MaintenancePgImpl.layer(options.url, options.dataDir, {
    archive: ARCHIVE_FOLDER,
    blobs: BLOB_FOLDER,
    archiveLayer: (archiveDir) => LogArchiveLive.layerFileSystem(archiveDir).pipe(Layer.provide(ArchiveRepositoryPg.layer))
  }).pipe(Layer.provide(NodeServices.layer))

/**
 * `db copy` between the data directory's `nerve.db` and the PostgreSQL database at `url`
 * (`toPg`, `fromPg`): resumable, refusing a non-empty target, checked by counts and digests.
 * Building it opens nothing.
 */
export const DatabaseCopyPg = (options: { readonly url: string | Redacted.Redacted<string>; readonly dataDir: string }): Layer.Layer<DatabaseCopy> =>
  DatabaseCopyPgImpl.layer(options.dataDir, DATABASE_FILE, options.url).pipe(Layer.provide(NodeServices.layer))
