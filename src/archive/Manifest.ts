/**
 * The archive's bookkeeping tables:
 * - `archive_manifest`: one row per day file, written after the file is published and before any
 *   row of the day is deleted, so that a re-run and `readDay` can check the file;
 * - `archive_pending`: the file a run is about to publish for a day, committed before the rename,
 *   so that a file published by a run that died before its COMMIT is still recognised;
 * - `archive_restored`: when `restore` last put a day back into SQLite.
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
const Sha256 = Schema.String.pipe(Schema.check(Schema.isPattern(/^[0-9a-f]{64}$/, { message: "expected lowercase sha256 hex" })))

/** What a day file holds, as recorded: its name inside the archive folder, lines, size and hash. */
const FileRecord = {
  day: UtcDay,
  fileName: Schema.String,
  lineCount: Count,
  bytes: Count,
  sha256: Sha256,
  minId: Schema.NullOr(Schema.Int),
  maxId: Schema.NullOr(Schema.Int)
}

/** A manifest row (the column `row_count` holds the file's line count). */
export const ManifestRow = Schema.Struct({ ...FileRecord, archivedAt: TimestampMs })
export type ManifestRow = typeof ManifestRow.Type

/** A pending publish: `token` names the run that wrote it. */
export const PendingRow = Schema.Struct({ ...FileRecord, token: Schema.String, startedAt: TimestampMs })
export type PendingRow = typeof PendingRow.Type

/** The size and hash a file must have to be the one recorded. */
export interface FileIdentity {
  readonly bytes: number
  readonly sha256: string
}

const sameIdentity = (a: FileIdentity, b: FileIdentity): boolean => a.bytes === b.bytes && a.sha256 === b.sha256

/** What the database says about one day, read at one moment. */
export interface DayRecord {
  readonly manifest: Option.Option<ManifestRow>
  readonly pending: Option.Option<PendingRow>
}

/** Whether two reads of a day's record describe the same files. */
export const sameRecord = (a: DayRecord, b: DayRecord): boolean => {
  const same = <A extends FileIdentity & { readonly fileName: string }>(x: Option.Option<A>, y: Option.Option<A>) =>
    Option.isNone(x) ? Option.isNone(y) : Option.isSome(y) && x.value.fileName === y.value.fileName && sameIdentity(x.value, y.value)
  return same(a.manifest, b.manifest) && same(a.pending, b.pending)
}

/** The files (name, size, hash) a day's file may be: the recorded one, or the pending one. */
export const acceptedFiles = (record: DayRecord): ReadonlyArray<FileIdentity & { readonly fileName: string }> => [
  ...Option.toArray(record.manifest),
  ...Option.toArray(record.pending)
]

const decodeManifest = rowDecoder(ManifestRow, "archive_manifest")
const decodePending = rowDecoder(PendingRow, "archive_pending")
const FILE_COLUMNS = "day, file AS fileName, row_count AS lineCount, bytes, sha256, min_id AS minId, max_id AS maxId"
const SELECT = `SELECT ${FILE_COLUMNS}, archived_at AS archivedAt FROM archive_manifest`
const SELECT_PENDING =
  "SELECT day, file AS fileName, line_count AS lineCount, bytes, sha256, min_id AS minId, max_id AS maxId, token, started_at AS startedAt FROM archive_pending"

const RECORD_SQL = `SELECT 'manifest' AS kind, ${FILE_COLUMNS}, archived_at AS at, NULL AS token FROM archive_manifest WHERE day = ?
  UNION ALL
  SELECT 'pending' AS kind, day, file, line_count, bytes, sha256, min_id, max_id, started_at, token FROM archive_pending WHERE day = ?`

/** The bookkeeping repository on one connection. */
export const makeManifest = (sql: SqliteShape) => {
  const get = (day: string): Effect.Effect<Option.Option<ManifestRow>, CorruptRow | DatabaseError> =>
    Effect.flatMap(sql.get(`${SELECT} WHERE day = ?`, [day]), (row) =>
      row === undefined ? Effect.succeedNone : Effect.map(Effect.fromResult(decodeManifest(row, () => day)), Option.some))

  const list: Effect.Effect<ReadonlyArray<ManifestRow>, CorruptRow | DatabaseError> = Effect.flatMap(
    sql.all(`${SELECT} ORDER BY day`),
    (rows) => Effect.forEach(rows, (row) => Effect.fromResult(decodeManifest(row, () => String(row.day))))
  )

  const put = (row: ManifestRow): Effect.Effect<void, DatabaseError> =>
    Effect.asVoid(sql.run(
      `INSERT INTO archive_manifest (day, file, row_count, bytes, sha256, min_id, max_id, archived_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT(day) DO UPDATE SET file = excluded.file, row_count = excluded.row_count, bytes = excluded.bytes,
         sha256 = excluded.sha256, min_id = excluded.min_id, max_id = excluded.max_id, archived_at = excluded.archived_at`,
      [row.day, row.fileName, row.lineCount, row.bytes, row.sha256, row.minId, row.maxId, row.archivedAt]
    ))

  const getPending = (day: string): Effect.Effect<Option.Option<PendingRow>, CorruptRow | DatabaseError> =>
    Effect.flatMap(sql.get(`${SELECT_PENDING} WHERE day = ?`, [day]), (row) =>
      row === undefined ? Effect.succeedNone : Effect.map(Effect.fromResult(decodePending(row, () => day)), Option.some))

  const listPending: Effect.Effect<ReadonlyArray<PendingRow>, CorruptRow | DatabaseError> = Effect.flatMap(
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

  /** The manifest row and the pending publish of `day`, read by one statement (one snapshot). */
  const record = (day: string): Effect.Effect<DayRecord, CorruptRow | DatabaseError> =>
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

  /**
   * Makes the pending publish of `day` the manifest row (its file is the one on disk), inside the
   * caller's transaction.
   */
  const promotePending = (pending: PendingRow): Effect.Effect<void, DatabaseError> =>
    Effect.andThen(
      put({ ...pending, archivedAt: pending.startedAt }),
      clearPending(pending.day)
    )

  const restoredAt = (day: string): Effect.Effect<number | null, DatabaseError> =>
    Effect.map(sql.get("SELECT restored_at AS t FROM archive_restored WHERE day = ?", [day]), (row) =>
      typeof row?.t === "number" ? row.t : null)

  const listRestored: Effect.Effect<ReadonlyMap<string, number>, DatabaseError> = Effect.map(
    sql.all("SELECT day, restored_at AS t FROM archive_restored"),
    (rows) => new Map(rows.flatMap((row) => (typeof row.t === "number" ? [[String(row.day), row.t] as const] : [])))
  )

  const markRestored = (day: string, at: number): Effect.Effect<void, DatabaseError> =>
    Effect.asVoid(sql.run("INSERT OR REPLACE INTO archive_restored (day, restored_at) VALUES (?, ?)", [day, at]))

  const clearRestored = (day: string): Effect.Effect<void, DatabaseError> =>
    Effect.asVoid(sql.run("DELETE FROM archive_restored WHERE day = ?", [day]))

  return {
    get,
    list,
    put,
    getPending,
    listPending,
    putPending,
    clearPending,
    record,
    promotePending,
    restoredAt,
    listRestored,
    markRestored,
    clearRestored
  }
}

export type Manifest = ReturnType<typeof makeManifest>
