/**
 * What `db copy` copies, and the digest both sides compute the same way. Every table is read in
 * the order of its key (ids as numbers; text keys bytewise: SQLite's BINARY, PostgreSQL's
 * `COLLATE "C"`), as rows of its common columns with values normalised to string | number |
 * boolean | null (PostgreSQL's BIGINT comes back as bigint). Leases and owner boots are dropped
 * (they belong to live daemons); PostgreSQL's `thread_round` is derived from each row.
 *
 * @since 0.8.0
 */
import { Option, Schema } from "effect"
import { createHash, type Hash } from "node:crypto"

/** One copied table: its name, key column and common columns (the key first). */
export interface CopyTable {
  readonly name: string
  readonly key: string
  readonly keyKind: "int" | "text"
  readonly columns: ReadonlyArray<string>
}

/** A value as both sides see it. */
export type CopyValue = string | number | boolean | null

/** A row: the table's columns in order. */
export type CopyRow = ReadonlyArray<CopyValue>

/** The copied tables, in copy order. `seq` of `workflow_runs` is SQLite's rowid (insertion order). */
export const COPY_TABLES: ReadonlyArray<CopyTable> = [
  { name: "meta", key: "key", keyKind: "text", columns: ["key", "value"] },
  { name: "logs", key: "id", keyKind: "int", columns: ["id", "source", "type", "ref_id", "payload", "timestamp"] },
  { name: "workflow_runs", key: "seq", keyKind: "int", columns: ["seq", "run_id", "workflow", "status", "timestamp", "exit_code"] },
  {
    name: "run_transitions",
    key: "id",
    keyKind: "int",
    columns: ["id", "run_id", "from_status", "to_status", "timestamp", "exit_code", "log_id"]
  },
  { name: "idempotency_keys", key: "key", keyKind: "text", columns: ["key", "operation", "request", "result", "created_at"] },
  { name: "thread_round_counts", key: "ref_id", keyKind: "text", columns: ["ref_id", "rounds"] },
  {
    name: "archive_manifest",
    key: "day",
    keyKind: "text",
    columns: ["day", "file", "row_count", "bytes", "sha256", "min_id", "max_id", "archived_at"]
  },
  {
    name: "archive_pending",
    key: "day",
    keyKind: "text",
    columns: ["day", "token", "file", "line_count", "bytes", "sha256", "min_id", "max_id", "started_at"]
  },
  { name: "archive_restored", key: "day", keyKind: "text", columns: ["day", "restored_at"] }
]

/** A value from either driver, normalised (bigint to number: ids and times stay below 2^53). */
export const normalise = (value: unknown): CopyValue => {
  if (value === null || value === undefined) return null
  if (typeof value === "bigint") return Number(value)
  if (typeof value === "number" || typeof value === "string" || typeof value === "boolean") return value
  return String(value)
}

/** A row of `table` from a driver's record. */
export const rowOf = (table: CopyTable, record: Readonly<Record<string, unknown>>): CopyRow =>
  table.columns.map((column) => normalise(record[column]))

/** A running digest of one table: feed rows in key order, then `result`. */
export const digester = () => {
  const hash: Hash = createHash("sha256")
  let rows = 0
  return {
    add: (batch: ReadonlyArray<CopyRow>) => {
      for (const row of batch) hash.update(`${JSON.stringify(row)}\n`)
      rows += batch.length
    },
    result: () => ({ rows, digest: hash.digest("hex") })
  }
}

/** The progress a copy records in its target after each batch (stored as JSON in meta `copy_progress`). */
export const CopyCheckpoint = Schema.Struct({
  source: Schema.String,
  /** The table being copied (an index into COPY_TABLES), or COPY_TABLES.length when all are copied. */
  table: Schema.Int,
  /** The last key copied of that table (null: none yet). */
  after: Schema.NullOr(Schema.Union([Schema.String, Schema.Number]))
})
export type CopyCheckpoint = typeof CopyCheckpoint.Type

const decodeCheckpoint = Schema.decodeUnknownOption(Schema.fromJsonString(CopyCheckpoint))

/** The checkpoint as stored, or null when the text is not one. */
export const parseCheckpoint = (text: string): CopyCheckpoint | null => Option.getOrNull(decodeCheckpoint(text))
