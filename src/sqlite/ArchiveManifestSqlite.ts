/**
 * The bookkeeping half of the archive's seam on SQLite (`ArchiveRepository`):
 * - `archive_manifest`: one row per day file, written after the file is published and before any
 *   row of the day is deleted, so that a re-run and `readDay` can check the file;
 * - `archive_pending`: the claim, the file a run is about to publish for a day, committed before
 *   the rename, so that a file published by a run that died before its COMMIT is still recognised;
 * - `archive_restored`: when `restore` last put a day back into SQLite.
 *
 * @since 0.8.0
 */
import { Effect, Option } from "effect"
import type { DatabaseError } from "../../schema/Errors.ts"
import { type ArchiveRepositoryShape, ManifestRow, PendingRow } from "../seam/ArchiveRepository.ts"
import type { SqliteShape } from "./Sqlite.ts"
import { rowDecoder } from "../domain/Validate.ts"

/** The members of the seam that touch the manifest, claim and restored tables. */
export type ArchiveManifest = Pick<
  ArchiveRepositoryShape,
  | "record"
  | "listManifest"
  | "putManifest"
  | "listPending"
  | "putPending"
  | "clearPending"
  | "restoredAt"
  | "listRestored"
  | "markRestored"
  | "clearRestored"
>

const decodeManifest = rowDecoder(ManifestRow, "archive_manifest")
const decodePending = rowDecoder(PendingRow, "archive_pending")
const FILE_COLUMNS = "day, file AS fileName, row_count AS lineCount, bytes, sha256, min_id AS minId, max_id AS maxId"
const SELECT = `SELECT ${FILE_COLUMNS}, archived_at AS archivedAt FROM archive_manifest`
const SELECT_PENDING =
  "SELECT day, file AS fileName, line_count AS lineCount, bytes, sha256, min_id AS minId, max_id AS maxId, token, started_at AS startedAt FROM archive_pending"

const RECORD_SQL = `SELECT 'manifest' AS kind, ${FILE_COLUMNS}, archived_at AS at, NULL AS token FROM archive_manifest WHERE day = ?
  UNION ALL
  SELECT 'pending' AS kind, day, file, line_count, bytes, sha256, min_id, max_id, started_at, token FROM archive_pending WHERE day = ?`

/** The bookkeeping tables on one connection. */
export const makeArchiveManifest = (sql: SqliteShape): ArchiveManifest => {
  const listManifest = Effect.flatMap(
    sql.all(`${SELECT} ORDER BY day`),
    (rows) => Effect.forEach(rows, (row) => Effect.fromResult(decodeManifest(row, () => String(row.day))))
  )

  const putManifest = (row: ManifestRow): Effect.Effect<void, DatabaseError> =>
    Effect.asVoid(sql.run(
      `INSERT INTO archive_manifest (day, file, row_count, bytes, sha256, min_id, max_id, archived_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT(day) DO UPDATE SET file = excluded.file, row_count = excluded.row_count, bytes = excluded.bytes,
         sha256 = excluded.sha256, min_id = excluded.min_id, max_id = excluded.max_id, archived_at = excluded.archived_at`,
      [row.day, row.fileName, row.lineCount, row.bytes, row.sha256, row.minId, row.maxId, row.archivedAt]
    ))

  const listPending = Effect.flatMap(
    sql.all(`${SELECT_PENDING} ORDER BY day`),
    (rows) => Effect.forEach(rows, (row) => Effect.fromResult(decodePending(row, () => String(row.day))))
  )

  const putPending = (row: PendingRow): Effect.Effect<void, DatabaseError> =>
    Effect.asVoid(sql.run(
      `INSERT OR REPLACE INTO archive_pending (day, token, file, line_count, bytes, sha256, min_id, max_id, started_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [row.day, row.token, row.fileName, row.lineCount, row.bytes, row.sha256, row.minId, row.maxId, row.startedAt]
    ))

  const clearPending = (day: string): Effect.Effect<void, DatabaseError> =>
    Effect.asVoid(sql.run("DELETE FROM archive_pending WHERE day = ?", [day]))

  /** The manifest row and the claim of `day`, read by one statement (one snapshot). */
  const record: ArchiveManifest["record"] = (day) =>
    Effect.gen(function*() {
      const rows = yield* sql.all(RECORD_SQL, [day, day])
      let manifest = Option.none<ManifestRow>()
      let pending = Option.none<PendingRow>()
      for (const { kind, at, ...row } of rows) {
        if (kind === "manifest") manifest = Option.some(yield* Effect.fromResult(decodeManifest({ ...row, archivedAt: at }, () => day)))
        else pending = Option.some(yield* Effect.fromResult(decodePending({ ...row, startedAt: at }, () => day)))
      }
      return { manifest, pending }
    })

  const restoredAt = (day: string): Effect.Effect<Option.Option<number>, DatabaseError> =>
    Effect.map(sql.get("SELECT restored_at AS t FROM archive_restored WHERE day = ?", [day]), (row) =>
      typeof row?.t === "number" ? Option.some(row.t) : Option.none())

  const listRestored: Effect.Effect<ReadonlyMap<string, number>, DatabaseError> = Effect.map(
    sql.all("SELECT day, restored_at AS t FROM archive_restored"),
    (rows) => new Map(rows.flatMap((row) => (typeof row.t === "number" ? [[String(row.day), row.t] as const] : [])))
  )

  const markRestored = (day: string, at: number): Effect.Effect<void, DatabaseError> =>
    Effect.asVoid(sql.run("INSERT OR REPLACE INTO archive_restored (day, restored_at) VALUES (?, ?)", [day, at]))

  const clearRestored = (day: string): Effect.Effect<void, DatabaseError> =>
    Effect.asVoid(sql.run("DELETE FROM archive_restored WHERE day = ?", [day]))

  return {
    record,
    listManifest,
    putManifest,
    listPending,
    putPending,
    clearPending,
    restoredAt,
    listRestored,
    markRestored,
    clearRestored
  }
}
