/**
 * LogStore on SQLite: the backend-neutral LogStore (`LogStoreMake.ts`) over the SQLite repository
 * (`src/sqlite/LogRepositorySqlite.ts`). The same code serves a file and `:memory:`.
 *
 * @since 0.6.0
 */
import { Effect, Layer } from "effect"
import type { DatabaseError, InvalidInput, OwnerInUse } from "../../schema/Errors.ts"
import { LogStore, type LogStoreOptions } from "../LogStore.ts"
import type { Database } from "../sqlite/Database.ts"
import * as LogRepositorySqlite from "../sqlite/LogRepositorySqlite.ts"
import { defaultLeaseConfig, type LeaseConfig, leaseConfig } from "./LeaseConfig.ts"
import * as LogStoreMake from "./LogStoreMake.ts"

export { DEFAULT_FOLLOW_POLL_INTERVAL } from "./Followers.ts"

/** Builds the LogStore over the migrated database in context, with the default lease settings. */
// A default owner name (`host:pid:boot`) is never registered, so it can fail neither `OwnerInUse` nor on a lock.
export const make = Effect.suspend(() => Effect.flatMap(defaultLeaseConfig, makeWith)).pipe(Effect.orDie)

/** Builds the LogStore over the migrated database in context, as owner `config.owner`. */
export const makeWith = (config: LeaseConfig) =>
  Effect.flatMap(LogRepositorySqlite.make, (repository) => LogStoreMake.make(repository, config))

/** LogStore over the migrated database in context, with the default owner and lease settings. */
export const layer: Layer.Layer<LogStore, never, Database> = Layer.effect(LogStore, make)

/** LogStore over the migrated database in context, as the owner and with the leases `options` say. */
export const layerWith = (options: LogStoreOptions = {}): Layer.Layer<LogStore, InvalidInput | OwnerInUse | DatabaseError, Database> =>
  Layer.effect(LogStore, Effect.flatMap(leaseConfig(options), makeWith))
