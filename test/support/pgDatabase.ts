// One fresh PostgreSQL database per test file, so that files run in parallel on one server.
// `freshPgDatabase()` at the top of a file creates `nerve_test_<random>` before its tests and
// drops it (closing any connection still open) after them. The server comes from the `pg`
// project's global setup (test/support/pgGlobalSetup.ts); a server that cannot be reached fails
// the file's tests, never skips them.
import { randomBytes } from "node:crypto"
import { PgClient } from "@effect/sql-pg"
import { Effect, Redacted } from "effect"
import * as Reactivity from "effect/reactivity/Reactivity"
import { afterAll, beforeAll, inject } from "vitest"

/** The server's URL with another database name. */
export const withDatabase = (serverUrl: string, database: string): string => {
  const url = new URL(serverUrl)
  url.pathname = `/${database}`
  return url.toString()
}

/** The URL of the test server (its `postgres` database). */
export const serverUrl = (): string => inject("nerveTestDatabaseUrl")

/** Runs statements, one by one, on the server's `postgres` database on a connection of its own. */
export const onServer = (...statements: ReadonlyArray<string>): Promise<void> =>
  Effect.gen(function*() {
    const sql = yield* PgClient.makeClient({
      url: Redacted.make(withDatabase(serverUrl(), "postgres")),
      connectTimeout: "30 seconds"
    })
    for (const statement of statements) yield* sql.unsafe(statement)
  }).pipe(Effect.scoped, Effect.provide(Reactivity.layer), Effect.runPromise)

/** A database made for one test file: its name and URL. */
export interface PgTestDatabase {
  readonly name: () => string
  readonly url: () => Redacted.Redacted<string>
}

/** A fresh database for the calling test file, made before its tests and dropped after them. */
const testDatabaseName = () => `nerve_test_${randomBytes(6).toString("hex")}`
const dropDatabase = (name: string) => `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`

/**
 * Called at the top of a file: a function making a new empty database (its URL) on each call,
 * every one dropped after the file's tests.
 */
export const emptyDatabases = (): (() => Promise<string>) => {
  const made: Array<string> = []
  afterAll(async () => {
    for (const name of made) await onServer(dropDatabase(name))
  })
  return async () => {
    const name = testDatabaseName()
    await onServer(`CREATE DATABASE ${name}`)
    made.push(name)
    return withDatabase(serverUrl(), name)
  }
}

export const freshPgDatabase = (): PgTestDatabase => {
  let name: string | undefined
  beforeAll(async () => {
    const candidate = testDatabaseName()
    await onServer(`CREATE DATABASE ${candidate}`)
    name = candidate
  })
  afterAll(async () => {
    if (name !== undefined) await onServer(dropDatabase(name))
  })
  const made = (): string => {
    if (name === undefined) throw new Error("freshPgDatabase: the database is made in beforeAll; use it inside a test")
    return name
  }
  return {
    name: made,
    url: () => Redacted.make(withDatabase(serverUrl(), made()))
  }
}
