/**
 * Opening a data directory for a command, through the public layers and the maintenance service
 * only. No command creates a data directory: the folder (and, for the database, `nerve.db`) must
 * exist, else it fails with a clear `DataDirectoryError` / `NoDatabase` (only the daemon's layers
 * and `nerve-store db init` create one). Reading commands open read-only; commands that change
 * the data use the live stack, which refuses links and other owners inside the folder.
 *
 * @since 0.6.0
 */
import { Effect, FileSystem, Layer, Path } from "effect"
import { DataDirectoryError } from "../../schema/Errors.ts"
import { ARCHIVE_FOLDER, BLOB_FOLDER, BlobStoreFileSystem, DATABASE_FILE, MaintenanceSqlite, NerveStoreLive } from "../../layers/index.ts"
import type { BlobStore } from "../BlobStore.ts"
import * as DataDirectoryCheck from "../fs/DataDirectoryCheck.ts"
import { dataDirectoryError } from "../fs/PlatformErrors.ts"
import { Maintenance, NoDatabase } from "../Maintenance.ts"
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

/** Fails unless `path` exists and is of `kind`. */
const requireKind = Effect.fnUntraced(function*(path: string, kind: "Directory" | "File", what: string) {
  const fs = yield* FileSystem.FileSystem
  const info = yield* fs.stat(path).pipe(
    Effect.mapError((error) =>
      error.reason._tag === "NotFound"
        ? new DataDirectoryError({ path, reason: "notFound", code: "ENOENT", detail: `${what} does not exist` })
        : dataDirectoryError(path, error)
    )
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

/** The data directory must exist as a folder (no command creates it; `db init` does). */
export const requireDataDir = Effect.fnUntraced(function*(dataDir: string) {
  const p = yield* paths(dataDir)
  yield* requireKind(p.root, "Directory", "the data directory")
  return p
})

/** The data directory and its `nerve.db` must exist (`NoDatabase` names the file and what to run). */
export const requireDatabase = Effect.fnUntraced(function*(dataDir: string) {
  const p = yield* requireDataDir(dataDir)
  const fs = yield* FileSystem.FileSystem
  if (!(yield* fs.exists(p.database).pipe(Effect.orElseSucceed(() => true)))) return yield* new NoDatabase({ path: p.database })
  yield* requireKind(p.database, "File", "the database")
  return p
})

/** The maintenance service of `dataDir` (the `db` commands and `doctor`). */
export const maintenance = (dataDir: string): Layer.Layer<Maintenance> => MaintenanceSqlite({ dataDir })

/**
 * The three services on an existing data directory, opened read-only (never migrated, never
 * locked for writing), for commands that read. A file at an older schema is refused with
 * `SchemaBehind` (read-only, it can neither use nor upgrade it).
 */
export const reading = (dataDir: string) =>
  Layer.unwrap(Effect.gen(function*() {
    const p = yield* requireDatabase(dataDir)
    const { found, known } = yield* Maintenance.use((m) => m.schemaVersion()).pipe(Effect.provide(maintenance(dataDir)))
    if (found < known) return yield* new SchemaBehind({ path: p.database, version: found, latest: known })
    return NerveStoreLive({ dataDir: p.root, readonly: true })
  }))

/**
 * The three services on an existing data directory, for commands that change it. (The error
 * types of `reading` and `updating` are those of `NerveStoreLive` plus the checks here.)
 */
export const updating = (dataDir: string) =>
  Layer.unwrap(Effect.map(requireDatabase(dataDir), (p) => NerveStoreLive({ dataDir: p.root })))

/** The blob store of an existing data directory (nothing is created by reading). */
export const blobsReading = (dataDir: string): Layer.Layer<BlobStore, DataDirectoryError, FileSystem.FileSystem | Path.Path> =>
  Layer.unwrap(Effect.map(requireDataDir(dataDir), (p) => BlobStoreFileSystem(p.blobs)))

/**
 * The blob store of an existing data directory, for commands that write blobs: the folder must
 * exist (never created here) and pass the live layer's checks (no links, no other owner).
 */
export const blobsWriting = (dataDir: string): Layer.Layer<BlobStore, DataDirectoryError, FileSystem.FileSystem | Path.Path> =>
  Layer.unwrap(Effect.gen(function*() {
    const p = yield* requireDataDir(dataDir)
    const found = yield* DataDirectoryCheck.inspect(p.root)
    const refused = DataDirectoryCheck.refusals(found, { readonly: false })[0]
    if (refused !== undefined) return yield* DataDirectoryCheck.refusalError(p.root, refused)
    return BlobStoreFileSystem(p.blobs)
  }))
