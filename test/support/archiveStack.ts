// Stacks for the LogArchive suites: the service with its day file store, LogStore and the
// connection, on a temp folder (file system) or in memory.
import { NodeServices } from "@effect/platform-node"
import { type FileSystem, Layer, type Path } from "effect"
import { join } from "node:path"
import type { DatabaseError } from "../../schema/Errors.ts"
import { DayFiles } from "../../src/archive/DayFileStore.ts"
import { layerDatabase } from "../../src/Database.ts"
import { LogArchive } from "../../src/LogArchive.ts"
import type { LogStore } from "../../src/LogStore.ts"
import * as LogStoreSqlite from "../../src/LogStoreSqlite.ts"
import type { Sqlite } from "../../src/Sqlite.ts"
import { makeTempDir } from "./tempDir.ts"

export type ArchiveStack = LogArchive | DayFiles | LogStore | Sqlite

/**
 * The live stack: `nerve.db` and `archive/logs/` in a new temp folder, on the Node file system
 * (or on `platform`, e.g. one that injects faults).
 */
export const liveArchiveStack = (
  dir: string = makeTempDir("nerve-archive-"),
  platform: Layer.Layer<FileSystem.FileSystem | Path.Path> = NodeServices.layer
): Layer.Layer<ArchiveStack, DatabaseError> =>
  Layer.mergeAll(LogArchive.layer, LogStoreSqlite.layer).pipe(
    Layer.provideMerge(DayFiles.layerFileSystem(join(dir, "archive", "logs"))),
    Layer.provideMerge(layerDatabase({ filename: join(dir, "nerve.db") })),
    Layer.provide(platform)
  )

/** The memory stack: `:memory:` and a Map of day files. */
export const memoryArchiveStack = (): Layer.Layer<ArchiveStack, DatabaseError> =>
  Layer.mergeAll(LogArchive.layer, LogStoreSqlite.layer).pipe(
    Layer.provideMerge(DayFiles.layerMemory),
    Layer.provideMerge(layerDatabase({ filename: ":memory:" }))
  )
