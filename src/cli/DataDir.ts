/**
 * Opening a data directory for a command, through the public layers and the maintenance service
 * only. No command creates a data directory: the folder (and, for the database, `nerve.db`) must
 * exist, else it fails with a clear `DataDirectoryError` / `NoDatabase` (only the daemon's layers
 * and `nerve-store db init` create one). Reading commands open read-only; commands that change
 * the data use the live stack, which refuses links and other owners inside the folder.
 *
 * @since 0.6.0
 */
import { Effect, FileSystem, Layer, Option, Path, type Redacted, Schema } from "effect"
import { DataDirectoryError } from "../../schema/Errors.ts"
import {
  ARCHIVE_FOLDER,
  BLOB_FOLDER,
  BlobStoreFileSystem,
  DATABASE_FILE,
  MaintenancePg,
  MaintenanceSqlite,
  type NerveStore,
  NerveStoreLive,
  NerveStorePg
} from "../../layers/index.ts"
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

/** `--database-url` / `NERVE_DATABASE_URL`: a PostgreSQL database instead of `nerve.db`. */
export type DatabaseUrl = Option.Option<Redacted.Redacted<string>>

/** A reading command met a PostgreSQL database whose schema is behind (or absent): nothing was changed. */
export class PgSchemaBehind extends Schema.TaggedError<PgSchemaBehind>()("PgSchemaBehind", { version: Schema.Int, latest: Schema.Int }) {
  override get message(): string {
    return `the PostgreSQL database has schema version ${this.version}${this.version === 0 ? " (no nerve-store schema)" : ""}, ` +
      `this nerve-store reads ${this.latest}; reading commands do not migrate it: run \`nerve-store db upgrade\` or start a daemon`
  }
}

/** The maintenance service of `dataDir` (the `db` commands and `doctor`), on PostgreSQL when a URL is given. */
export const maintenance = (dataDir: string, databaseUrl: DatabaseUrl = Option.none()): Layer.Layer<Maintenance> =>
  Option.isSome(databaseUrl) ? MaintenancePg({ url: databaseUrl.value, dataDir }) : MaintenanceSqlite({ dataDir })

/** The stack on PostgreSQL for a command: the data directory must exist, the schema be current. */
const onPg = (dataDir: string, url: Redacted.Redacted<string>, reading: boolean) =>
  Effect.gen(function*() {
    const p = yield* requireDataDir(dataDir)
    if (reading) {
      const { found, known } = yield* Maintenance.use((m) => m.schemaVersion()).pipe(Effect.provide(maintenance(dataDir, Option.some(url))))
      if (found < known) return yield* new PgSchemaBehind({ version: found, latest: known })
    }
    const layer: Layer.Layer<NerveStore, StackError> = NerveStorePg({ url, dataDir: p.root })
    return layer
  })

type StackError = Layer.Error<ReturnType<typeof NerveStoreLive>> | Layer.Error<ReturnType<typeof NerveStorePg>>

/**
 * The three services on an existing data directory, opened read-only (never migrated, never
 * locked for writing), for commands that read. A file at an older schema is refused with
 * `SchemaBehind` (read-only, it can neither use nor upgrade it).
 */
export const reading = (dataDir: string, databaseUrl: DatabaseUrl = Option.none()) =>
  Layer.unwrap(Effect.gen(function*() {
    if (Option.isSome(databaseUrl)) return yield* onPg(dataDir, databaseUrl.value, true)
    const p = yield* requireDatabase(dataDir)
    const { found, known } = yield* Maintenance.use((m) => m.schemaVersion()).pipe(Effect.provide(maintenance(dataDir)))
    if (found < known) return yield* new SchemaBehind({ path: p.database, version: found, latest: known })
    const layer: Layer.Layer<NerveStore, StackError> = NerveStoreLive({ dataDir: p.root, readonly: true })
    return layer
  }))

/**
 * The three services on an existing data directory, for commands that change it. (The error
 * types of `reading` and `updating` are those of `NerveStoreLive` plus the checks here.)
 */
export const updating = (dataDir: string, databaseUrl: DatabaseUrl = Option.none()) =>
  Layer.unwrap(
    Option.isSome(databaseUrl)
      ? onPg(dataDir, databaseUrl.value, false)
      : Effect.map(requireDatabase(dataDir), (p): Layer.Layer<NerveStore, StackError> => NerveStoreLive({ dataDir: p.root }))
  )

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
