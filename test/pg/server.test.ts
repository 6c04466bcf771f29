import { PgClient } from "@effect/sql-pg"
import { assert, it } from "@effect/vitest"
import { Effect } from "effect"
import * as Reactivity from "effect/reactivity/Reactivity"
import { freshPgDatabase } from "../support/pgDatabase.ts"

const database = freshPgDatabase()

it.effect("each test file has a fresh database of its own on the test server", () =>
  Effect.gen(function*() {
    const sql = yield* PgClient.makeClient({ url: database.url() })
    const rows = yield* sql<{ name: string; tables: bigint }>`
      SELECT current_database() AS name,
        (SELECT count(*) FROM pg_tables WHERE schemaname = 'public') AS tables`
    assert.deepStrictEqual(rows, [{ name: database.name(), tables: 0n }])
  }).pipe(Effect.provide(Reactivity.layer)))
