/**
 * The nerve-store database on PostgreSQL: a pool of connections (`@effect/sql-pg`) to a database
 * whose schema is up to date, the PostgreSQL counterpart of `src/sqlite/Database.ts`.
 *
 * The stores require `PgDatabase`, not the raw client, so none can run on an unmigrated database.
 * Opening checks the URL, connects, and migrates (once, however many daemons open it together;
 * see `PgMigrations.ts`).
 *
 * @since 0.8.0
 */
import { PgClient } from "@effect/sql-pg"
import { Clock, Context, Effect, Layer, Redacted, Schema } from "effect"
import * as Reactivity from "effect/reactivity/Reactivity"
import type { SqlClient } from "effect/sql/SqlClient"
import { type DatabaseError, InvalidInput } from "../../schema/Errors.ts"
import { mapSqlError } from "./PgError.ts"
import { LATEST_PG_SCHEMA_VERSION, migrate, schemaVersion } from "./PgMigrations.ts"

/** How to reach the database. */
export interface PgDatabaseOptions {
  /** `postgres://user[:password]@host[:port]/database[?…]`, as a string or `Redacted`. */
  readonly url: string | Redacted.Redacted<string>
  /** The most connections this stack opens at once (default 10). */
  readonly maxConnections?: number
}

/** A migrated connection pool. */
export interface PgDatabaseShape {
  /** The generic client: statements, `withTransaction`, `insert` helpers. */
  readonly sql: SqlClient
  /** The PostgreSQL client: `listen` / `notify`. */
  readonly pg: PgClient.PgClient
  /** The schema version after opening. */
  readonly schemaVersion: number
  /** The version this code writes. */
  readonly latestSchemaVersion: number
  /** The schema version as the database now records it (another daemon may have migrated since). */
  readonly currentSchemaVersion: Effect.Effect<number, DatabaseError>
}

/** The migrated PostgreSQL database that the PostgreSQL stores of one stack share. */
export class PgDatabase extends Context.Service<PgDatabase, PgDatabaseShape>()("@uncaged/nerve-store/PgDatabase") {}

const PgUrl = Schema.String.check(Schema.makeFilter((url) => {
  if (!URL.canParse(url)) return "is not a URL"
  const protocol = new URL(url).protocol
  return protocol === "postgres:" || protocol === "postgresql:" ? undefined : `has protocol ${protocol}, not postgres:`
}))

/** Checks the URL without printing it (it may hold a password). */
export const decodeUrl = (url: string | Redacted.Redacted<string>): Effect.Effect<Redacted.Redacted<string>, InvalidInput> => {
  const text = typeof url === "string" ? url : Redacted.value(url)
  return Schema.decodeUnknownEffect(PgUrl)(text).pipe(
    Effect.map((valid) => Redacted.make(valid)),
    Effect.mapError((issue) => new InvalidInput({ field: "url", reason: `a PostgreSQL URL ${String(issue.message).replace(text, "<url>")}` }))
  )
}

/** Connects and migrates; the pool closes with the scope. */
export const make = Effect.fn("PgDatabase.open")(function*(options: PgDatabaseOptions) {
  const url = yield* decodeUrl(options.url)
  const maxConnections = options.maxConnections ?? 10
  if (!Number.isInteger(maxConnections) || maxConnections < 1) {
    return yield* new InvalidInput({ field: "maxConnections", reason: "must be a positive integer" })
  }
  // The pool's own timers (idle connections, connect and acquire timeouts) run on the real clock
  // whatever Clock the caller provides: they time I/O, not the store's rules. Under a TestClock
  // moved by years, a pool on that clock would run its idle sweep millions of times.
  const client = yield* PgClient.make({ url, maxConnections, applicationName: "nerve-store", connectTimeout: "30 seconds" }).pipe(
    Effect.provideService(Clock.Clock, Clock.Clock.defaultValue()),
    mapSqlError("connect to PostgreSQL")
  )
  // A connection that fails on the first statement (wrong database, refused) fails opening.
  yield* client`SELECT 1`.pipe(mapSqlError("connect to PostgreSQL"))
  const { to } = yield* migrate(client)
  return PgDatabase.of({
    sql: client,
    pg: client,
    schemaVersion: to,
    latestSchemaVersion: LATEST_PG_SCHEMA_VERSION,
    currentSchemaVersion: schemaVersion(client)
  })
})

/** What `make` needs besides a scope: the `Reactivity` service of `effect/sql` clients. */
export const layerReactivity: Layer.Layer<Reactivity.Reactivity> = Reactivity.layer

/** The migrated database at `options.url` (connections close when the layer is released). */
export const layer = (options: PgDatabaseOptions): Layer.Layer<PgDatabase, DatabaseError | InvalidInput> =>
  Layer.effect(PgDatabase, make(options)).pipe(Layer.provide(layerReactivity))
