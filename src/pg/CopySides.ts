/**
 * The two ends of `db copy`, behind one shape: a SQLite connection and a PostgreSQL client each
 * read a table in key order in batches, write a batch together with the copy's checkpoint in one
 * transaction, count rows, and (PostgreSQL) move the identity sequences past the copied ids.
 *
 * @since 0.8.0
 */
import { Effect } from "effect"
import type { SqlClient } from "effect/sql/SqlClient"
import type { DatabaseError } from "../../schema/Errors.ts"
import { COPY_PROGRESS_KEY } from "../DatabaseCopy.ts"
import type { SqliteShape, SqlParam } from "../sqlite/Sqlite.ts"
import { type CopyRow, type CopyTable, type CopyValue, rowOf } from "./CopyTables.ts"
import { mapSqlError } from "./PgError.ts"
import { threadRoundOf } from "./PgLogSql.ts"

/** One end of a copy. */
export interface CopySide {
  /** Up to `limit` rows of `table` with a key above `after` (null: from the first), in key order. */
  readonly read: (table: CopyTable, after: CopyValue, limit: number) => Effect.Effect<ReadonlyArray<CopyRow>, DatabaseError>
  /** Inserts `rows` and records `checkpoint` (the meta row `copy_progress`) in one transaction. */
  readonly write: (table: CopyTable | null, rows: ReadonlyArray<CopyRow>, checkpoint: string) => Effect.Effect<void, DatabaseError>
  /** The recorded checkpoint, if any. */
  readonly checkpoint: Effect.Effect<string | null, DatabaseError>
  /** The rows of `table` (meta without the checkpoint). */
  readonly count: (table: CopyTable) => Effect.Effect<number, DatabaseError>
  /** After the last batch: identity sequences past the highest copied id. */
  readonly finish: Effect.Effect<void, DatabaseError>
}

const notProgress = (table: CopyTable) => (table.name === "meta" ? ` AND key <> '${COPY_PROGRESS_KEY}'` : "")

/** SQLite: `seq` is the rowid of `workflow_runs`. */
const sqliteColumn = (column: string) => (column === "seq" ? "rowid" : column)

const sqliteParam = (value: CopyValue): SqlParam => (value === true ? 1 : value === false ? 0 : value)

/** The SQLite end (a read-only connection for a source, a migrated writable one for a target). */
export const sqliteSide = (sql: SqliteShape): CopySide => ({
  read: (table, after, limit) => {
    const key = sqliteColumn(table.key)
    const columns = table.columns.map((c) => (c === "seq" ? "rowid AS seq" : c)).join(", ")
    return Effect.map(
      sql.all(
        `SELECT ${columns} FROM ${table.name} WHERE ${after === null ? "1 = 1" : `${key} > ?`}${notProgress(table)} ORDER BY ${key} LIMIT ${limit}`,
        after === null ? [] : [sqliteParam(after)]
      ),
      (rows) => rows.map((row) => rowOf(table, row))
    )
  },
  write: (table, rows, checkpoint) =>
    sql.syncTransaction("db copy: write a batch", (connection) => {
      if (table !== null && rows.length > 0) {
        const insert = `INSERT INTO ${table.name} (${table.columns.map(sqliteColumn).join(", ")}) VALUES (${table.columns.map(() => "?").join(", ")})`
        for (const row of rows) connection.run(insert, row.map(sqliteParam))
      }
      connection.run(
        "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        [COPY_PROGRESS_KEY, checkpoint]
      )
    }),
  checkpoint: Effect.map(sql.get("SELECT value FROM meta WHERE key = ?", [COPY_PROGRESS_KEY]), (row) =>
    row === undefined ? null : String(row.value)),
  count: (table) =>
    Effect.map(sql.get(`SELECT count(*) AS n FROM ${table.name} WHERE 1 = 1${notProgress(table)}`), (row) => Number(row?.n ?? 0)),
  finish: Effect.void
})

/** Bytewise order for text keys, as SQLite's BINARY collation. */
const pgKey = (table: CopyTable) => (table.keyKind === "text" ? `${table.key} COLLATE "C"` : table.key)

/** PostgreSQL's limit of bind parameters per statement, with room to spare. */
const MAX_PARAMS = 30_000

/** The PostgreSQL end. `logs.thread_round` is derived from each row (the domain rule). */
export const pgSide = (sql: SqlClient): CopySide => {
  const insertRows = (table: CopyTable, rows: ReadonlyArray<CopyRow>) => {
    const isLogs = table.name === "logs"
    const columns = isLogs ? [...table.columns, "thread_round"] : [...table.columns]
    const full = isLogs
      ? rows.map((row): CopyRow => [
        ...row,
        threadRoundOf({
          source: String(row[1]),
          type: String(row[2]),
          refId: row[3] === null ? null : String(row[3]),
          payload: row[4] === null ? null : String(row[4]),
          timestamp: Number(row[5])
        })
      ])
      : rows
    const perStatement = Math.max(1, Math.floor(MAX_PARAMS / columns.length))
    const statements: Array<Effect.Effect<unknown, DatabaseError>> = []
    for (let start = 0; start < full.length; start += perStatement) {
      const chunk = full.slice(start, start + perStatement)
      const values = chunk.map((_, r) => `(${columns.map((_, c) => `$${r * columns.length + c + 1}`).join(", ")})`).join(", ")
      statements.push(
        sql.unsafe(`INSERT INTO ${table.name} (${columns.join(", ")}) VALUES ${values}`, chunk.flat()).pipe(
          mapSqlError(`db copy: insert into ${table.name}`)
        )
      )
    }
    return Effect.all(statements, { discard: true })
  }
  return {
    read: (table, after, limit) =>
      sql.unsafe<Record<string, unknown>>(
        `SELECT ${table.columns.join(", ")} FROM ${table.name} WHERE ${after === null ? "true" : `${pgKey(table)} > $1`}${notProgress(table)} ` +
          `ORDER BY ${pgKey(table)} LIMIT ${limit}`,
        after === null ? [] : [after]
      ).pipe(
        Effect.map((rows) => rows.map((row) => rowOf(table, row))),
        mapSqlError(`db copy: read ${table.name}`)
      ),
    write: (table, rows, checkpoint) =>
      sql.withTransaction(Effect.gen(function*() {
        if (table !== null && rows.length > 0) yield* insertRows(table, rows)
        yield* sql`INSERT INTO meta (key, value) VALUES (${COPY_PROGRESS_KEY}, ${checkpoint})
          ON CONFLICT (key) DO UPDATE SET value = excluded.value`
      })).pipe(mapSqlError("db copy: write a batch")),
    checkpoint: sql<{ readonly value: string }>`SELECT value FROM meta WHERE key = ${COPY_PROGRESS_KEY}`.pipe(
      Effect.map((rows) => rows[0]?.value ?? null),
      mapSqlError("db copy: read the checkpoint")
    ),
    count: (table) =>
      sql.unsafe<{ readonly n: unknown }>(`SELECT count(*) AS n FROM ${table.name} WHERE true${notProgress(table)}`).pipe(
        Effect.map((rows) => Number(rows[0]?.n ?? 0)),
        mapSqlError(`db copy: count ${table.name}`)
      ),
    finish: Effect.forEach(
      [["logs", "id"], ["run_transitions", "id"], ["workflow_runs", "seq"]] as const,
      ([table, column]) =>
        sql.unsafe(
          `SELECT setval(pg_get_serial_sequence('${table}', '${column}'), coalesce((SELECT max(${column}) FROM ${table}), 1), ` +
            `(SELECT max(${column}) FROM ${table}) IS NOT NULL)`
        ),
      { discard: true }
    ).pipe(mapSqlError("db copy: move the id sequences"))
  }
}
