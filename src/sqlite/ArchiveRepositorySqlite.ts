/**
 * The archive's storage seam (`src/seam/ArchiveRepository.ts`) on the migrated SQLite database:
 * the log-row queries (`ArchiveRowsSqlite.ts`) and the bookkeeping tables
 * (`ArchiveManifestSqlite.ts`) on the one connection, with its `BEGIN IMMEDIATE` transactions
 * (SQLite's write lock is the archive lock: one writer per database file).
 *
 * @since 0.8.0
 */
import { Effect, Layer } from "effect"
import { ArchiveRepository, type ArchiveRepositoryShape } from "../seam/ArchiveRepository.ts"
import { makeArchiveManifest } from "./ArchiveManifestSqlite.ts"
import { makeArchiveRows } from "./ArchiveRowsSqlite.ts"
import { Database } from "./Database.ts"
import type { SqliteShape } from "./Sqlite.ts"

/** The repository on one connection whose schema is migrated. */
export const make = (sql: SqliteShape): ArchiveRepositoryShape => ({
  ...makeArchiveRows(sql),
  ...makeArchiveManifest(sql),
  transaction: sql.transaction
})

/** The repository on the `Database` in context. */
export const layer: Layer.Layer<ArchiveRepository, never, Database> = Layer.effect(
  ArchiveRepository,
  Effect.gen(function*() {
    const { sql } = yield* Database
    return ArchiveRepository.of(make(sql))
  })
)
