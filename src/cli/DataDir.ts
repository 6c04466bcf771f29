/**
 * Opening a data directory for a command. Commands that only read never create anything: the
 * folder (and, for the database, `nerve.db`) must exist, else they fail with a clear
 * `DataDirectoryError`. Commands that write use the live stack, which creates what is missing.
 *
 * Every command opens through this module, so the switch to a read-only connection is one
 * change here.
 *
 * @since 0.6.0
 */
import { Effect, FileSystem, Layer, Path } from "effect"
import { DataDirectoryError, type DatabaseError, type InvalidInput, type SchemaTooNew } from "../../schema/Errors.ts"
import { ARCHIVE_FOLDER, BLOB_FOLDER, BlobStoreFileSystem, DATABASE_FILE, DatabaseFile, LogArchiveFileSystem, LogStoreSqlite, type NerveStore } from "../../layers/index.ts"
import { dataDirectoryError } from "../fs/PlatformErrors.ts"
import type { BlobStore } from "../BlobStore.ts"
import type { LogArchive } from "../LogArchive.ts"
import type { Database } from "../sqlite/Database.ts"
import { LATEST_SCHEMA_VERSION, schemaVersion } from "../sqlite/Migrations.ts"
import { make as makeConnection, Sqlite } from "../sqlite/Sqlite.ts"
import { SchemaBehind } from "./Errors.ts"

/** The paths of a data directory. */
export interface DataDirPaths {
  readonly root: string
  readonly database: string
  readonly wal: string
  readonly archive: string
  readonly blobs: string
}

/** The absolute paths of the data directory `dataDir`. */
export const paths = Effect.fnUntraced(function*(dataDir: string) {
  const path = yield* Path.Path
  const root = path.resolve(dataDir)
  return {
    root,
    database: path.join(root, DATABASE_FILE),
    wal: path.join(root, `${DATABASE_FILE}-wal`),
    archive: path.join(root, ...ARCHIVE_FOLDER),
    blobs: path.join(root, BLOB_FOLDER)
  } satisfies DataDirPaths
})

const missing = (path: string, what: string) =>
  new DataDirectoryError({ path, reason: "notFound", code: "ENOENT", detail: `${what} does not exist` })

/** Fails unless `path` exists and is of `kind`. */
const requireKind = Effect.fnUntraced(function*(path: string, kind: "Directory" | "File", what: string) {
  const fs = yield* FileSystem.FileSystem
  const info = yield* fs.stat(path).pipe(
    Effect.mapError((error) => error.reason._tag === "NotFound" ? missing(path, what) : dataDirectoryError(path, error))
  )
  if (info.type !== kind) {
    return yield* new DataDirectoryError({
      path,
      reason: kind === "Directory" ? "notADirectory" : "isADirectory",
      code: null,
      detail: `${what} is not a ${kind === "Directory" ? "folder" : "file"}`
    })
  }
})

/** The data directory must exist as a folder (reading commands never create it). */
export const requireDataDir = Effect.fnUntraced(function*(dataDir: string) {
  const p = yield* paths(dataDir)
  yield* requireKind(p.root, "Directory", "the data directory")
  return p
})

/** The data directory and its `nerve.db` must exist. */
export const requireDatabase = Effect.fnUntraced(function*(dataDir: string) {
  const p = yield* requireDataDir(dataDir)
  yield* requireKind(p.database, "File", "the database")
  return p
})

type OpenError = DatabaseError | DataDirectoryError | InvalidInput | SchemaTooNew

/**
 * The three services and the `Database` on an existing data directory, opened read-only (never
 * migrated, never locked for writing), for commands that read.
 */
export const reading = (dataDir: string): Layer.Layer<NerveStore | Database, OpenError | SchemaBehind, FileSystem.FileSystem | Path.Path> =>
  Layer.unwrap(Effect.gen(function*() {
    const p = yield* requireDatabase(dataDir)
    yield* requireCurrentSchema(p)
    return stack(p, { readonly: true })
  }))

/**
 * The file's schema version must be the latest: a read-only stack cannot use an older file (a 0.5
 * file has no `exit_code`, manifest or leases yet) and must not upgrade it, so the user is told
 * to run `db upgrade` (what any writing command or the daemon's next start would do).
 */
const requireCurrentSchema = Effect.fnUntraced(function*(p: DataDirPaths) {
  const version = yield* fileSchemaVersion(p.database)
  if (version < LATEST_SCHEMA_VERSION) {
    return yield* new SchemaBehind({ path: p.database, version, latest: LATEST_SCHEMA_VERSION })
  }
})

/** `PRAGMA user_version` of `filename`, read on a read-only connection closed right after. */
export const fileSchemaVersion = (filename: string): Effect.Effect<number, DatabaseError> =>
  Effect.scoped(Effect.flatMap(makeConnection({ filename, readonly: true }), schemaVersion))

/** The three services and the `Database` on an existing data directory, for commands that change it. */
export const updating = (dataDir: string): Layer.Layer<NerveStore | Database, OpenError, FileSystem.FileSystem | Path.Path> =>
  Layer.unwrap(Effect.map(requireDatabase(dataDir), (p) => stack(p)))

/** The three services and the `Database`, creating the data directory when missing, for commands that write. */
export const writing = (dataDir: string): Layer.Layer<NerveStore | Database, OpenError, FileSystem.FileSystem | Path.Path> =>
  Layer.unwrap(Effect.map(ensureDataDir(dataDir), stack))

/** Creates the data directory when missing (owner-only); a file standing in its way fails. */
const ensureDataDir = Effect.fnUntraced(function*(dataDir: string) {
  const fs = yield* FileSystem.FileSystem
  const p = yield* paths(dataDir)
  yield* fs.makeDirectory(p.root, { recursive: true, mode: 0o700 }).pipe(Effect.mapError((error) => dataDirectoryError(p.root, error)))
  return p
})

const stack = (p: DataDirPaths, options: { readonly readonly?: boolean } = {}) =>
  Layer.mergeAll(LogStoreSqlite(), LogArchiveFileSystem(p.archive)).pipe(
    Layer.provideMerge(DatabaseFile({ filename: p.database, ...options })),
    Layer.merge(BlobStoreFileSystem(p.blobs))
  )

/**
 * The raw connection to `nerve.db`, read-only and not migrated (so `db stats` sees the file as
 * it is, a 0.5 file included, and never waits for a daemon's write).
 */
export const rawDatabase = (dataDir: string): Layer.Layer<Sqlite, DatabaseError | DataDirectoryError, FileSystem.FileSystem | Path.Path> =>
  Layer.unwrap(Effect.map(requireDatabase(dataDir), (p) => Sqlite.layer({ filename: p.database, readonly: true })))

/**
 * The `Database` (read-only, never migrated: a 0.5 file is reported before any upgrade) and the
 * archive on it, for `db check`.
 */
export const checking = (dataDir: string): Layer.Layer<Database | LogArchive, OpenError, FileSystem.FileSystem | Path.Path> =>
  Layer.unwrap(Effect.map(requireDatabase(dataDir), (p) =>
    LogArchiveFileSystem(p.archive).pipe(Layer.provideMerge(DatabaseFile({ filename: p.database, readonly: true })))))

/** The blob store of an existing data directory (nothing is created by reading). */
export const blobsReading = (dataDir: string): Layer.Layer<BlobStore, DataDirectoryError, FileSystem.FileSystem | Path.Path> =>
  Layer.unwrap(Effect.map(requireDataDir(dataDir), (p) => BlobStoreFileSystem(p.blobs)))

/** The blob store of a data directory, creating the directory when missing. */
export const blobsWriting = (dataDir: string): Layer.Layer<BlobStore, DataDirectoryError, FileSystem.FileSystem | Path.Path> =>
  Layer.unwrap(Effect.map(ensureDataDir(dataDir), (p) => BlobStoreFileSystem(p.blobs)))
