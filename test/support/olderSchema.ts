/**
 * A database file at an older schema version, exactly as that version's migrations made it, for
 * tests of what later migrations (or a reader that never migrates) do with it.
 */
import { Effect } from "effect"
import { migrations } from "../../src/sqlite/Migrations.ts"
import { Sqlite } from "../../src/sqlite/Sqlite.ts"

/** Runs the migrations up to `version` on `filename`, stamps that version, then runs `seed` on the same connection. */
export const createAtSchemaVersion = <E>(
  filename: string,
  version: number,
  seed: (sql: Sqlite["Service"]) => Effect.Effect<unknown, E> = () => Effect.void
) =>
  Effect.gen(function*() {
    const sql = yield* Sqlite
    yield* sql.transaction(Effect.forEach(migrations.filter((m) => m.version <= version), (m) => m.up(sql)))
    yield* sql.exec(`PRAGMA user_version = ${version}`)
    yield* seed(sql)
  }).pipe(Effect.provide(Sqlite.layer({ filename })))
