// The daemon contract (daemonContract.ts) on the SQLite stacks.
import { Effect, Layer } from "effect"
import { DatabaseMemory, type LogStoreOptions, LogStoreSqlite, NerveStoreLive } from "../../layers/index.ts"
import { makeTempDir } from "../support/tempDir.ts"
import { daemonContract } from "./daemonContract.ts"

daemonContract("live stack on a data directory", () =>
  Effect.sync(() => {
    const dataDir = makeTempDir()
    return (options: LogStoreOptions) => NerveStoreLive({ dataDir, ...options })
  }))

daemonContract("in memory (stacks sharing one in-memory database)", () =>
  Effect.map(Layer.build(DatabaseMemory), (database) => (options: LogStoreOptions) =>
    LogStoreSqlite(options).pipe(Layer.provide(Layer.succeedContext(database)))))
