import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, Redacted } from "effect"
import * as Reactivity from "effect/reactivity/Reactivity"
import { DatabaseError } from "../../schema/Errors.ts"
import * as PgDatabase from "../../src/pg/PgDatabase.ts"
import { LATEST_PG_SCHEMA_VERSION, migrations } from "../../src/pg/PgMigrations.ts"
import { freshPgDatabase } from "../support/pgDatabase.ts"

const database = freshPgDatabase()

const open = () => PgDatabase.make({ url: database.url(), maxConnections: 2 })

describe("PgDatabase", () => {
  it.effect("four daemons opening one empty database together migrate it once, without error", () =>
    Effect.gen(function*() {
      const opened = yield* Effect.all([open(), open(), open(), open()], { concurrency: "unbounded" })
      for (const db of opened) assert.strictEqual(db.schemaVersion, LATEST_PG_SCHEMA_VERSION)
      const sql = opened[0]!.sql
      const recorded = yield* sql<{ version: number }>`SELECT version FROM nerve_schema_migrations ORDER BY version`
      assert.deepStrictEqual(recorded.map((row) => row.version), migrations.map((step) => step.version))
      const tables = yield* sql<{ name: string }>`
        SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename`
      assert.deepStrictEqual(tables.map((row) => row.name), [
        "archive_manifest", "archive_pending", "archive_restored", "idempotency_keys", "logs", "meta",
        "nerve_schema_migrations", "owner_boots", "run_leases", "run_transitions", "thread_round_counts", "workflow_runs"
      ])
      assert.strictEqual(yield* opened[3]!.currentSchemaVersion, LATEST_PG_SCHEMA_VERSION)
    }).pipe(Effect.provide(Reactivity.layer)))

  it.effect("a log id is never handed out twice, even after the newest row is deleted", () =>
    Effect.gen(function*() {
      const { sql } = yield* open()
      const first = yield* sql<{ id: bigint }>`INSERT INTO logs (source, type, timestamp) VALUES ('t', 'a', 1) RETURNING id`
      yield* sql`DELETE FROM logs WHERE id = ${first[0]!.id}`
      const second = yield* sql<{ id: bigint }>`INSERT INTO logs (source, type, timestamp) VALUES ('t', 'b', 2) RETURNING id`
      assert.isTrue(second[0]!.id > first[0]!.id)
    }).pipe(Effect.provide(Reactivity.layer)))

  it.effect("a URL that is not a PostgreSQL URL is refused as InvalidInput without echoing it", () =>
    Effect.gen(function*() {
      const exit = yield* PgDatabase.make({ url: Redacted.make("mysql://root:secret@db/x") }).pipe(Effect.exit)
      assert.isTrue(Exit.isFailure(exit))
      const error = Exit.isFailure(exit) ? exit.cause.reasons[0] : undefined
      const failure = error?._tag === "Fail" ? error.error : undefined
      assert.strictEqual(failure?._tag, "InvalidInput")
      assert.notInclude(JSON.stringify(failure), "secret")
      assert.notInclude(String(failure?.message), "secret")
    }).pipe(Effect.provide(Reactivity.layer)))

  it.effect("a server that cannot be reached is a retryable DatabaseError with reason connection", () =>
    Effect.gen(function*() {
      const error = yield* PgDatabase.make({ url: "postgres://nerve@127.0.0.1:1/postgres" }).pipe(Effect.flip)
      assert.instanceOf(error, DatabaseError)
      if (error instanceof DatabaseError) {
        assert.strictEqual(error.reason, "connection")
        assert.isTrue(error.isRetryable)
      }
    }).pipe(Effect.provide(Reactivity.layer)))
})
