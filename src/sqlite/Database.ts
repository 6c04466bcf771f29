/**
 * The nerve-store database: a SQLite connection whose schema is up to date.
 *
 * LogStore and LogArchive require `Database`, not the raw connection, so neither can be built on
 * an unmigrated file. Only this package constructs it (the tag is not exported; users get it from
 * `DatabaseFile` / `DatabaseMemory` in `@uncaged/nerve-store/layers`).
 *
 * @since 0.7.0
 */
import { Context, Effect, Layer } from "effect"
import type { DatabaseError } from "../../schema/Errors.ts"
import { migrate } from "./Migrations.ts"
import { make as makeConnection, type SqliteOptions, type SqliteShape } from "./Sqlite.ts"

/** A migrated connection. */
export interface DatabaseShape {
  readonly sql: SqliteShape
  /** `PRAGMA user_version` after opening. */
  readonly schemaVersion: number
}

/** The migrated database shared by LogStore and LogArchive in one stack. */
export class Database extends Context.Service<Database, DatabaseShape>()("@uncaged/nerve-store/Database") {}

/** Opens the connection in the current scope and brings its schema up to date. */
export const make = Effect.fnUntraced(function*(options: SqliteOptions) {
  const sql = yield* makeConnection(options)
  const { to } = yield* migrate(sql)
  return Database.of({ sql, schemaVersion: to })
})

/**
 * Opens the database and migrates it (an empty file, a nerve-store 0.5 file, or one of ours)
 * before anything else may use it.
 */
export const layer = (options: SqliteOptions): Layer.Layer<Database, DatabaseError> => Layer.effect(Database, make(options))
