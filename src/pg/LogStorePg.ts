/**
 * LogStore on PostgreSQL: the backend-neutral LogStore (`src/logstore/LogStoreMake.ts`) over the
 * PostgreSQL repository (`LogRepositoryPg.ts`) on a migrated pool (`PgDatabase.ts`).
 *
 * @since 0.8.0
 */
import { Effect, Layer } from "effect"
import type { DatabaseError, InvalidInput, OwnerInUse } from "../../schema/Errors.ts"
import { LogStore, type LogStoreOptions } from "../LogStore.ts"
import { leaseConfig } from "../logstore/LeaseConfig.ts"
import * as LogStoreMake from "../logstore/LogStoreMake.ts"
import * as LogRepositoryPg from "./LogRepositoryPg.ts"
import * as PgDatabase from "./PgDatabase.ts"

/** Builds the LogStore over the migrated database in context, as the owner and with the leases `options` say. */
export const make = (options: LogStoreOptions = {}) =>
  Effect.gen(function*() {
    const config = yield* leaseConfig(options)
    const repository = yield* LogRepositoryPg.make
    return yield* LogStoreMake.make(repository, config)
  })

/** LogStore over the migrated PostgreSQL database in context. */
export const layerWith = (options: LogStoreOptions = {}): Layer.Layer<LogStore, DatabaseError | InvalidInput | OwnerInUse, PgDatabase.PgDatabase> =>
  Layer.effect(LogStore, make(options))

/** LogStore on the PostgreSQL database at `options.url` (a pool of its own, migrated on open). */
export const layer = (
  options: LogStoreOptions & PgDatabase.PgDatabaseOptions
): Layer.Layer<LogStore, DatabaseError | InvalidInput | OwnerInUse> =>
  layerWith(options).pipe(Layer.provide(PgDatabase.layer(options)))
