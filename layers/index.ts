/**
 * Ready-made layers: the live stack on a data directory and the in-memory stack for tests, plus
 * one layer per service for those who compose them differently.
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
import { NodeServices } from "@effect/platform-node"
import { Effect, FileSystem, Layer, Path } from "effect"
import { DatabaseError } from "../schema/Errors.ts"
import { BlobStore } from "../src/BlobStore.ts"
import { layerDatabase } from "../src/Database.ts"
import { LogArchive } from "../src/LogArchive.ts"
import type { LogStore } from "../src/LogStore.ts"
import * as LogStoreSqlite from "../src/LogStoreSqlite.ts"
import type { Sqlite, SqliteOptions } from "../src/Sqlite.ts"

/** Options of the live stack. */
export interface NerveStoreLiveOptions {
  /** The data directory: `nerve.db`, `archive/logs/`, `blobs/` live here. Created if missing. */
  readonly dataDir: string
  /** SQLite `synchronous`: `NORMAL` (default) or `FULL` (durable across power loss). */
  readonly synchronous?: "NORMAL" | "FULL"
  /** How long to wait for another process's write lock (default 10 s). */
  readonly busyTimeoutMs?: number
}

/** What the stacks provide. */
export type NerveStore = LogStore | LogArchive | BlobStore

/** The database file inside a data directory. */
export const DATABASE_FILE = "nerve.db"

/** The migrated database in `<dataDir>/nerve.db`, creating the folder if needed. */
export const DatabaseFile = (options: NerveStoreLiveOptions): Layer.Layer<Sqlite, DatabaseError> =>
  Layer.unwrap(Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    yield* fs.makeDirectory(options.dataDir, { recursive: true }).pipe(
      Effect.mapError((error) =>
        new DatabaseError({
          operation: `create the data directory ${options.dataDir}`,
          reason: error.reason._tag === "PermissionDenied" ? "readOnly" : "other",
          code: null,
          detail: error.message
        })
      )
    )
    return layerDatabase({
      filename: path.join(options.dataDir, DATABASE_FILE),
      ...(options.synchronous === undefined ? {} : { synchronous: options.synchronous }),
      ...(options.busyTimeoutMs === undefined ? {} : { busyTimeoutMs: options.busyTimeoutMs })
    })
  })).pipe(Layer.provide(NodeServices.layer))

/** A private, migrated in-memory database (fresh for each provide). */
export const DatabaseMemory: Layer.Layer<Sqlite, DatabaseError> = layerDatabase({ filename: ":memory:" })

/** LogStore on a SQLite file (any path; its folder must exist). */
export const LogStoreFile = (options: SqliteOptions): Layer.Layer<LogStore, DatabaseError> =>
  LogStoreSqlite.layer.pipe(Layer.provide(layerDatabase(options)))

/** LogStore on a private in-memory SQLite database (fresh for each provide). */
export const LogStoreMemory: Layer.Layer<LogStore, DatabaseError> = LogStoreSqlite.layer.pipe(Layer.provide(DatabaseMemory))

/** The folder of archived days inside a data directory. */
export const ARCHIVE_FOLDER = ["archive", "logs"] as const
/** The folder of blobs inside a data directory. */
export const BLOB_FOLDER = "blobs"

/** Blobs in a folder on the local file system (created by the first write). */
export const BlobStoreFile = (root: string): Layer.Layer<BlobStore> =>
  BlobStore.layerFileSystem(root).pipe(Layer.provide(NodeServices.layer))

/** Blobs in a `Map`, fresh for each provide. */
export const BlobStoreMemory: Layer.Layer<BlobStore> = BlobStore.layerMemory

/**
 * The live stack on a data directory (SPEC §Data directory): `nerve.db` shared by LogStore and
 * LogArchive, day files in `archive/logs/`, blobs in `blobs/`.
 */
export const NerveStoreLive = (options: NerveStoreLiveOptions): Layer.Layer<NerveStore, DatabaseError> =>
  Layer.unwrap(Effect.gen(function*() {
    const path = yield* Path.Path
    return Layer.mergeAll(
      LogStoreSqlite.layer,
      LogArchive.layerFileSystem(path.join(options.dataDir, ...ARCHIVE_FOLDER))
    ).pipe(
      Layer.provide(DatabaseFile(options)),
      Layer.merge(BlobStore.layerFileSystem(path.join(options.dataDir, BLOB_FOLDER)))
    )
  })).pipe(Layer.provide(NodeServices.layer))

/** The same services in memory, fresh for each provide: swap it in for `NerveStoreLive` in tests. */
export const NerveStoreMemory: Layer.Layer<NerveStore, DatabaseError> = Layer.mergeAll(
  LogStoreSqlite.layer,
  LogArchive.layerMemory
).pipe(Layer.provide(DatabaseMemory), Layer.merge(BlobStore.layerMemory))
