/**
 * `db copy` between a data directory's `nerve.db` and a PostgreSQL database (see
 * `src/DatabaseCopy.ts`): table by table in key-ordered batches, each batch committed with the
 * checkpoint in the target; a non-empty target is refused unless its checkpoint names the same
 * source; at the end every table's count and digest are compared on both sides.
 *
 * @since 0.8.0
 */
import { PgClient } from "@effect/sql-pg"
import { Clock, Effect, FileSystem, Layer, Path, Redacted } from "effect"
import * as Reactivity from "effect/reactivity/Reactivity"
import { DataDirectoryError, DatabaseError, type InvalidInput } from "../../schema/Errors.ts"
import { type CopyOptions, CopyRefused, type CopyReport, DatabaseCopy } from "../DatabaseCopy.ts"
import * as Database from "../sqlite/Database.ts"
import { LATEST_SCHEMA_VERSION, schemaVersion as sqliteSchemaVersion } from "../sqlite/Migrations.ts"
import { make as makeConnection } from "../sqlite/Sqlite.ts"
import { type CopySide, pgSide, sqliteSide } from "./CopySides.ts"
import { COPY_TABLES, type CopyCheckpoint, type CopyRow, type CopyValue, digester, parseCheckpoint } from "./CopyTables.ts"
import * as PgDatabase from "./PgDatabase.ts"
import { mapSqlError } from "./PgError.ts"
import { LATEST_PG_SCHEMA_VERSION, schemaVersion as pgSchemaVersion } from "./PgMigrations.ts"

const DEFAULT_BATCH = 1000
const DIGEST_BATCH = 5000

/** The URL without its password, as the copy's identity and in messages. */
export const describeUrl = (url: string): string => {
  if (!URL.canParse(url)) return "postgres://<invalid url>"
  const u = new URL(url)
  return `${u.protocol}//${u.username === "" ? "" : `${u.username}@`}${u.host}${u.pathname}`
}

const badUrl = (error: InvalidInput) =>
  new DatabaseError({ operation: "connect to PostgreSQL", reason: "other", code: null, detail: `${error.field} ${error.reason}` })

/** Every table's count and digest, paged in key order. */
const digestOf = (side: CopySide) =>
  Effect.forEach(COPY_TABLES, (table) =>
    Effect.gen(function*() {
      const d = digester()
      let after: CopyValue = null
      while (true) {
        const rows: ReadonlyArray<CopyRow> = yield* side.read(table, after, DIGEST_BATCH)
        if (rows.length === 0) break
        d.add(rows)
        after = rows[rows.length - 1]?.[0] ?? null
      }
      return d.result()
    }))

/** Copies `source` into `target` (resuming a recorded copy of the same source), then checks. */
const run = Effect.fnUntraced(function*(
  source: CopySide,
  target: CopySide,
  ids: { readonly source: string; readonly target: string },
  options: CopyOptions
) {
  const batch = Math.max(1, Math.floor(options.batchSize ?? DEFAULT_BATCH))
  const recorded = yield* target.checkpoint
  let start: CopyCheckpoint = { source: ids.source, table: 0, after: null }
  if (recorded !== null) {
    const parsed = parseCheckpoint(recorded)
    if (parsed === null || parsed.source !== ids.source) {
      return yield* new CopyRefused({
        target: ids.target,
        reason: `the target holds a copy of another source (${parsed?.source ?? "unreadable checkpoint"}), not of ${ids.source}`
      })
    }
    start = parsed
  } else {
    const counts = yield* Effect.forEach(COPY_TABLES, target.count)
    const used = COPY_TABLES.filter((_, i) => (counts[i] ?? 0) > 0).map((t) => t.name)
    if (used.length > 0) {
      return yield* new CopyRefused({ target: ids.target, reason: `the target is not empty (rows in ${used.join(", ")}); copy into an empty database` })
    }
  }
  let copiedRows = 0
  for (let index = start.table; index < COPY_TABLES.length; index++) {
    const table = COPY_TABLES[index]
    if (table === undefined) break
    let after: CopyValue = index === start.table ? start.after : null
    const total = yield* source.count(table)
    let copied = after === null ? 0 : yield* target.count(table)
    while (true) {
      const rows: ReadonlyArray<CopyRow> = yield* source.read(table, after, batch)
      if (rows.length === 0) break
      after = rows[rows.length - 1]?.[0] ?? null
      yield* target.write(table, rows, JSON.stringify({ source: ids.source, table: index, after }))
      copied += rows.length
      copiedRows += rows.length
      if (options.onProgress !== undefined) yield* options.onProgress({ table: table.name, copied, total })
    }
  }
  yield* target.write(null, [], JSON.stringify({ source: ids.source, table: COPY_TABLES.length, after: null }))
  yield* target.finish
  const fromSource = yield* digestOf(source)
  const fromTarget = yield* digestOf(target)
  const tables = COPY_TABLES.map((table, i) => {
    const s = fromSource[i] ?? { rows: 0, digest: "" }
    const t = fromTarget[i] ?? { rows: 0, digest: "" }
    return {
      table: table.name,
      sourceRows: s.rows,
      targetRows: t.rows,
      sourceDigest: s.digest,
      targetDigest: t.digest,
      ok: s.rows === t.rows && s.digest === t.digest
    }
  })
  return {
    source: ids.source,
    target: ids.target,
    resumed: recorded !== null,
    copiedRows,
    tables,
    ok: tables.every((t) => t.ok)
  } satisfies CopyReport
})

/** Builds the service for the data directory `dataDir` (its database file `databaseFile`) and `url`. */
export const make = Effect.fnUntraced(function*(dataDir: string, databaseFile: string, url: string | Redacted.Redacted<string>) {
  const fs = yield* FileSystem.FileSystem
  const path = yield* Path.Path
  const root = path.resolve(dataDir)
  const database = path.join(root, databaseFile)
  const urlText = typeof url === "string" ? url : Redacted.value(url)
  const pgId = describeUrl(urlText)
  const sqliteId = `sqlite:${database}`

  const requireFolder = Effect.gen(function*() {
    const info = yield* fs.stat(root).pipe(Effect.option)
    if (info._tag === "None" || info.value.type !== "Directory") {
      return yield* new DataDirectoryError({ path: root, reason: "notFound", code: "ENOENT", detail: "the data directory does not exist (nerve-store db init creates one)" })
    }
  })
  const exists = fs.exists(database).pipe(Effect.orElseSucceed(() => true))

  /** A PostgreSQL client, not migrated. */
  const connect = Effect.gen(function*() {
    const checked = yield* PgDatabase.decodeUrl(url).pipe(Effect.mapError(badUrl))
    return yield* PgClient.make({ url: checked, maxConnections: 2, applicationName: "nerve-store db copy", connectTimeout: "30 seconds" }).pipe(
      Effect.provideService(Clock.Clock, Clock.Clock.defaultValue()),
      Effect.provide(Reactivity.layer),
      mapSqlError("connect to PostgreSQL")
    )
  })

  const toPg = Effect.fn("DatabaseCopy.toPg")(function*(options: CopyOptions = {}) {
    yield* requireFolder
    if (!(yield* exists)) return yield* new CopyRefused({ target: pgId, reason: `no database at ${database}` })
    return yield* Effect.scoped(Effect.gen(function*() {
      const sqlite = yield* makeConnection({ filename: database, readonly: true })
      const version = yield* sqliteSchemaVersion(sqlite)
      if (version !== LATEST_SCHEMA_VERSION) {
        return yield* new CopyRefused({
          target: pgId,
          reason: `${database} has schema version ${version}, this nerve-store copies version ${LATEST_SCHEMA_VERSION}: run \`nerve-store db upgrade\` first`
        })
      }
      const pg = yield* PgDatabase.make({ url, maxConnections: 2 }).pipe(Effect.provide(Reactivity.layer))
      return yield* run(sqliteSide(sqlite), pgSide(pg.sql), { source: sqliteId, target: pgId }, options)
    }))
  })

  const fromPg = Effect.fn("DatabaseCopy.fromPg")(function*(options: CopyOptions = {}) {
    yield* requireFolder
    return yield* Effect.scoped(Effect.gen(function*() {
      const client = yield* connect
      const version = yield* pgSchemaVersion(client)
      if (version !== LATEST_PG_SCHEMA_VERSION) {
        return yield* new CopyRefused({
          target: sqliteId,
          reason: `${pgId} has schema version ${version}, this nerve-store copies version ${LATEST_PG_SCHEMA_VERSION}: run \`nerve-store --database-url … db upgrade\` first`
        })
      }
      // An existing file is only a target when it is a current nerve-store file (empty or this copy's):
      // opening an older one writable would migrate it before the emptiness check.
      if (yield* exists) {
        const found = yield* Effect.scoped(Effect.flatMap(makeConnection({ filename: database, readonly: true }), sqliteSchemaVersion))
        if (found !== LATEST_SCHEMA_VERSION) {
          return yield* new CopyRefused({ target: sqliteId, reason: `${database} exists at schema version ${found}; copy into an empty data directory` })
        }
      }
      const db = yield* Database.make({ filename: database })
      return yield* run(pgSide(client), sqliteSide(db.sql), { source: pgId, target: sqliteId }, options)
    }))
  })

  return DatabaseCopy.of({ toPg, fromPg })
})

/** The service; building it opens nothing. */
export const layer = (
  dataDir: string,
  databaseFile: string,
  url: string | Redacted.Redacted<string>
): Layer.Layer<DatabaseCopy, never, FileSystem.FileSystem | Path.Path> => Layer.effect(DatabaseCopy, make(dataDir, databaseFile, url))
