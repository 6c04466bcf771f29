// Several LogStore stacks on one store, as daemons share a data directory or a database: the
// stacks a test opens and closes itself, and the two SQLite stores they share.
import { Context, Effect, Exit, Layer, Scope } from "effect"
import type { DatabaseError, DataDirectoryError, InvalidInput, OwnerInUse, SchemaTooNew } from "../../schema/Errors.ts"
import { DatabaseMemory, type LogStoreOptions, LogStoreSqlite, NerveStoreLive } from "../../layers/index.ts"
import { LogStore } from "../../src/LogStore.ts"
import { makeTempDir } from "./tempDir.ts"

export type StackLayer = Layer.Layer<LogStore, DatabaseError | SchemaTooNew | DataDirectoryError | InvalidInput | OwnerInUse>
/** Makes stacks that share one store: each call is another daemon on the same data. */
export type SharedStore = Effect.Effect<(options: LogStoreOptions) => StackLayer, DatabaseError, Scope.Scope>

/** A stack whose scope the test closes (gracefully) when it wants, or at its end. */
export const openStack = (layer: StackLayer) =>
  Effect.gen(function*() {
    const scope = yield* Scope.make()
    yield* Effect.addFinalizer(() => Scope.close(scope, Exit.void))
    const context = yield* Layer.buildWithScope(layer, scope)
    return { log: Context.get(context, LogStore), close: Scope.close(scope, Exit.void) }
  })

/** Live stacks on one data directory. */
export const liveStacks = (): SharedStore =>
  Effect.sync(() => {
    const dataDir = makeTempDir()
    return (options: LogStoreOptions) => NerveStoreLive({ dataDir, ...options })
  })

/** Memory stacks on one in-memory database. */
export const memoryStacks = (): SharedStore =>
  Effect.map(Layer.build(DatabaseMemory), (database) => (options: LogStoreOptions) =>
    LogStoreSqlite(options).pipe(Layer.provide(Layer.succeedContext(database))))
