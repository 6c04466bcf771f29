/**
 * The `archive_manifest` table: one row per day file, written after the file is published and
 * before any row of the day is deleted, so that a re-run and `readDay` can check the file.
 *
 * @since 0.6.0
 */
import { Effect, Option, Schema } from "effect"
import type { CorruptRow, DatabaseError } from "../../schema/Errors.ts"
import { TimestampMs } from "../../schema/Primitives.ts"
import type { SqliteShape } from "../sqlite/Sqlite.ts"
import { UtcDay } from "../domain/UtcDay.ts"
import { rowDecoder } from "../domain/Validate.ts"

const Count = Schema.Int.pipe(Schema.check(Schema.isGreaterThanOrEqualTo(0)))

/** A manifest row. `file` is the file name inside the archive folder. */
export const ManifestRow = Schema.Struct({
  day: UtcDay,
  file: Schema.String,
  rowCount: Count,
  bytes: Count,
  sha256: Schema.String.pipe(Schema.check(Schema.isPattern(/^[0-9a-f]{64}$/, { message: "expected lowercase sha256 hex" }))),
  minId: Schema.NullOr(Schema.Int),
  maxId: Schema.NullOr(Schema.Int),
  archivedAt: TimestampMs
})
export type ManifestRow = typeof ManifestRow.Type

const decodeRow = rowDecoder(ManifestRow, "archive_manifest")
const SELECT = "SELECT day, file, row_count AS rowCount, bytes, sha256, min_id AS minId, max_id AS maxId, archived_at AS archivedAt FROM archive_manifest"

/** The manifest repository on one connection. */
export const makeManifest = (sql: SqliteShape) => {
  /** A stored row, or `CorruptRow` naming the table, the day and the field at fault. */
  const decode = (row: unknown, key: string): Effect.Effect<ManifestRow, CorruptRow> => Effect.fromResult(decodeRow(row, () => key))

  const get = (day: string): Effect.Effect<Option.Option<ManifestRow>, CorruptRow | DatabaseError> =>
    Effect.flatMap(sql.get(`${SELECT} WHERE day = ?`, [day]), (row) =>
      row === undefined ? Effect.succeed(Option.none()) : Effect.map(decode(row, day), Option.some))

  const list: Effect.Effect<ReadonlyArray<ManifestRow>, CorruptRow | DatabaseError> = Effect.flatMap(
    sql.all(`${SELECT} ORDER BY day`),
    (rows) => Effect.forEach(rows, (row) => decode(row, String(row.day)))
  )

  const put = (row: ManifestRow): Effect.Effect<void, DatabaseError> =>
    Effect.asVoid(sql.run(
      `INSERT INTO archive_manifest (day, file, row_count, bytes, sha256, min_id, max_id, archived_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT(day) DO UPDATE SET file = excluded.file, row_count = excluded.row_count, bytes = excluded.bytes,
         sha256 = excluded.sha256, min_id = excluded.min_id, max_id = excluded.max_id, archived_at = excluded.archived_at`,
      [row.day, row.file, row.rowCount, row.bytes, row.sha256, row.minId, row.maxId, row.archivedAt]
    ))

  return { get, list, put }
}

export type Manifest = ReturnType<typeof makeManifest>
