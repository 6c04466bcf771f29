/**
 * The nerve-store database: a SQLite connection whose schema is up to date.
 *
 * LogStore and LogArchive require `Database`, not the raw connection, so neither can be built on
 * an unmigrated file. Only this package constructs it (the tag is not exported; users get it from
 * `DatabaseFile` / `DatabaseMemory` in `@uncaged/nerve-store/layers`).
 *
 * Opening reads `PRAGMA user_version` outside any transaction and takes the write lock only when
 * the file is behind (the migration re-checks the version inside its `BEGIN IMMEDIATE`), so a CLI
 * opening a current file never waits for a daemon's write. A read-only open never migrates. Either
 * way the file must then hold every table and column its version promises (migrations only add),
 * or opening fails before anything uses it. A file whose version is newer than this build knows
 * opens read-only only: a writable open fails with `SchemaTooNew` (this build cannot keep the
 * promises of a newer schema, e.g. stored round counts a newer writer maintains).
 *
 * @since 0.7.0
 */
import { Context, Effect, Layer } from "effect"
import { DatabaseError, SchemaTooNew } from "../../schema/Errors.ts"
import { LATEST_SCHEMA_VERSION, migrate, migrations, schemaVersion } from "./Migrations.ts"
import { make as makeConnection, type SqliteOptions, type SqliteShape } from "./Sqlite.ts"
import { withOperation } from "./SqliteError.ts"

/** What `PRAGMA integrity_check` found: `ok`, or the problems it listed (at most `limit`). */
export interface IntegrityReport {
  readonly ok: boolean
  readonly problems: ReadonlyArray<string>
  /** `PRAGMA user_version` of the file. */
  readonly schemaVersion: number
  /** The version this code writes. */
  readonly latestSchemaVersion: number
}

/** A migrated connection. */
export interface DatabaseShape {
  readonly sql: SqliteShape
  /** `PRAGMA user_version` after opening. */
  readonly schemaVersion: number
  /** Whether the database was opened read-only (writes fail `readOnly`). */
  readonly readonly: boolean
  /**
   * Runs `PRAGMA integrity_check` (reads every page; `db check` in the CLI). Damage is reported,
   * not failed: the error channel is for a check that could not run.
   */
  readonly integrityCheck: (options?: { readonly limit?: number }) => Effect.Effect<IntegrityReport, DatabaseError>
}

/** The migrated database shared by LogStore and LogArchive in one stack. */
export class Database extends Context.Service<Database, DatabaseShape>()("@uncaged/nerve-store/Database") {}

// The migrations are fixed for the life of the process, so each version's columns are found once.
const expectedByVersion = new Map<number, ReadonlyArray<string>>()

/** Every `table.column` the migrations up to `version` create, found by running them on `:memory:`. */
const expectedColumns = (version: number): Effect.Effect<ReadonlyArray<string>, DatabaseError> =>
  Effect.suspend(() => {
    const known = expectedByVersion.get(version)
    if (known !== undefined) return Effect.succeed(known)
    return Effect.scoped(Effect.gen(function*() {
      const scratch = yield* makeConnection({ filename: ":memory:" })
      for (const migration of migrations) {
        if (migration.version <= version) yield* scratch.transaction(migration.up(scratch))
      }
      const columns = yield* columnsOf(scratch)
      expectedByVersion.set(version, columns)
      return columns
    }))
  })

const columnsOf = (sql: SqliteShape): Effect.Effect<ReadonlyArray<string>, DatabaseError> =>
  Effect.map(
    sql.all(
      `SELECT m.name AS t, p.name AS c FROM sqlite_master AS m JOIN pragma_table_info(m.name) AS p
       WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%'`
    ),
    (rows) => rows.map((row) => `${String(row.t)}.${String(row.c)}`)
  )

/** Fails `corrupt` when the file lacks a table or column that schema `version` has. */
const checkSchema = Effect.fnUntraced(function*(sql: SqliteShape, version: number, operation: string) {
  const present = new Set(yield* columnsOf(sql))
  const missing = (yield* expectedColumns(Math.min(version, LATEST_SCHEMA_VERSION))).filter((column) => !present.has(column))
  if (missing.length === 0) return
  const tables = [...new Set(missing.map((column) => column.split(".")[0]))]
  return yield* new DatabaseError({
    operation,
    reason: "corrupt",
    code: null,
    detail: `the file says schema version ${version}, which includes ${missing.join(", ")} (tables ${tables.join(", ")}), ` +
      `but they are missing: it was changed by another program or by an incompatible nerve-store. ` +
      `Restore the file from a backup, or open it with the nerve-store that wrote it and export the logs; ` +
      `this version will not write to it.`
  })
})

/** Opens the connection in the current scope and brings its schema up to date (unless read-only). */
export const make = Effect.fnUntraced(function*(options: SqliteOptions) {
  const sql = yield* makeConnection(options)
  const opening = `open ${options.filename}`
  const found = yield* Effect.mapError(schemaVersion(sql), withOperation(opening))
  let version = found
  if (!sql.readonly && found < LATEST_SCHEMA_VERSION) {
    version = (yield* Effect.mapError(migrate(sql), withOperation(`migrate ${options.filename}`))).to
  }
  yield* Effect.mapError(checkSchema(sql, version, opening), withOperation(opening))
  // After the check: a newer file that also lacks our tables is corrupt whatever the mode.
  if (!sql.readonly && version > LATEST_SCHEMA_VERSION) {
    return yield* new SchemaTooNew({ found: version, known: LATEST_SCHEMA_VERSION })
  }

  const integrityCheck = (checkOptions?: { readonly limit?: number }) =>
    Effect.gen(function*() {
      const limit = Math.max(1, Math.floor(checkOptions?.limit ?? 100))
      const rows = yield* sql.all(`PRAGMA integrity_check(${limit})`)
      const lines = rows.map((row) => String(row.integrity_check))
      return {
        ok: lines.length === 1 && lines[0] === "ok",
        problems: lines.filter((line) => line !== "ok"),
        schemaVersion: yield* schemaVersion(sql),
        latestSchemaVersion: LATEST_SCHEMA_VERSION
      }
    }).pipe(
      // A file damaged badly enough fails the check itself with SQLITE_CORRUPT: that is a finding.
      Effect.catch((error) =>
        error.reason === "corrupt"
          ? Effect.succeed({ ok: false, problems: [error.detail], schemaVersion: version, latestSchemaVersion: LATEST_SCHEMA_VERSION })
          : Effect.fail(withOperation("integrity check")(error))
      )
    )

  return Database.of({ sql, schemaVersion: version, readonly: sql.readonly, integrityCheck })
})

/**
 * Opens the database and migrates it (an empty file, a nerve-store 0.5 file, or one of ours)
 * before anything else may use it.
 */
export const layer = (options: SqliteOptions): Layer.Layer<Database, DatabaseError | SchemaTooNew> =>
  Layer.effect(Database, make(options))

/** A private in-memory database: created by this build, so never too new. */
export const layerMemory: Layer.Layer<Database, DatabaseError> = Layer.effect(
  Database,
  make({ filename: ":memory:" }).pipe(Effect.catchTag("SchemaTooNew", (error) => Effect.die(error)))
)
