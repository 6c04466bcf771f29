// The raw connection under a `Database`, for white-box tests that read or plant rows with SQL.
import { Effect, Layer } from "effect"
import { Database } from "../../src/sqlite/Database.ts"
import { Sqlite } from "../../src/sqlite/Sqlite.ts"

export const RawSql: Layer.Layer<Sqlite, never, Database> = Layer.effect(
  Sqlite,
  Effect.gen(function*() {
    return (yield* Database).sql
  })
)
