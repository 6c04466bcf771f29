// The storage seam's contract on SQLite, on a file and in memory.
import { Layer } from "effect"
import { join } from "node:path"
import { DatabaseFile, DatabaseMemory } from "../../layers/index.ts"
import * as LogRepositorySqlite from "../../src/sqlite/LogRepositorySqlite.ts"
import { makeTempDir } from "../support/tempDir.ts"
import { logRepositoryContract } from "./repositoryContract.ts"

logRepositoryContract("SQLite file", () =>
  LogRepositorySqlite.layer.pipe(Layer.provide(DatabaseFile({ filename: join(makeTempDir(), "nerve.db") }))))
logRepositoryContract("SQLite :memory:", () => LogRepositorySqlite.layer.pipe(Layer.provide(DatabaseMemory)))
