// Stacks for the LogArchive white-box suites: the service with its day file store, LogStore and
// the raw connection under them, on a scoped temp folder (file system) or in memory.
import { NodeServices } from "@effect/platform-node"
import { Effect, type FileSystem, Layer, type Path } from "effect"
import { join } from "node:path"
import type { DatabaseError } from "../../schema/Errors.ts"
import { DayFiles } from "../../src/archive/DayFileStore.ts"
import * as LogArchiveLive from "../../src/archive/LogArchiveLive.ts"
import type { LogArchive } from "../../src/LogArchive.ts"
import type { LogStore } from "../../src/LogStore.ts"
import * as LogStoreSqlite from "../../src/logstore/LogStoreSqlite.ts"
import * as ArchiveRepositorySqlite from "../../src/sqlite/ArchiveRepositorySqlite.ts"
import * as Database from "../../src/sqlite/Database.ts"
import type { Sqlite } from "../../src/sqlite/Sqlite.ts"
import { RawSql } from "./rawSql.ts"

export type ArchiveStack = LogArchive | DayFiles | LogStore | Sqlite | Database.Database

/**
 * The live stack: `nerve.db` and `archive/logs/` in `dir`, on the Node file system (or on
 * `platform`, e.g. one that injects faults).
 */
export const liveArchiveStack = (
  dir: string,
  platform: Layer.Layer<FileSystem.FileSystem | Path.Path> = NodeServices.layer
): Layer.Layer<ArchiveStack, DatabaseError> =>
  Layer.mergeAll(LogArchiveLive.layer.pipe(Layer.provide(ArchiveRepositorySqlite.layer)), LogStoreSqlite.layer, RawSql).pipe(
    Layer.provideMerge(DayFiles.layerFileSystem(join(dir, "archive", "logs"))),
    // A fresh test folder is never at a newer schema: SchemaTooNew here would be a bug.
    Layer.provideMerge(Database.layer({ filename: join(dir, "nerve.db") }).pipe(
      Layer.catchTag("SchemaTooNew", (error) => Layer.effect(Database.Database, Effect.die(error)))
    )),
    Layer.provide(platform)
  )

/** The memory stack: `:memory:` and a Map of day files. */
export const memoryArchiveStack = (): Layer.Layer<ArchiveStack, DatabaseError> =>
  Layer.mergeAll(LogArchiveLive.layer.pipe(Layer.provide(ArchiveRepositorySqlite.layer)), LogStoreSqlite.layer, RawSql).pipe(
    Layer.provideMerge(DayFiles.layerMemory),
    Layer.provideMerge(Database.layerMemory)
  )
