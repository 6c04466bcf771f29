/**
 * The nerve-store database: the SQLite connection with the schema brought up to date.
 *
 * @since 0.6.0
 */
import { Effect, Layer } from "effect"
import type { DatabaseError } from "../schema/Errors.ts"
import { migrate } from "./Migrations.ts"
import { make, Sqlite, type SqliteOptions } from "./Sqlite.ts"

/**
 * Opens the database and migrates it (an empty file, a nerve-store 0.5 file, or one of ours)
 * before anything else may use it. Shared by LogStore and LogArchive in one stack.
 */
export const layerDatabase = (options: SqliteOptions): Layer.Layer<Sqlite, DatabaseError> =>
  Layer.effect(Sqlite, Effect.tap(make(options), migrate))
