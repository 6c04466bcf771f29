/**
 * The database schema as an ordered list of additive migrations, keyed by `PRAGMA user_version`.
 *
 * Version 0 is either an empty file or a nerve-store 0.5 file (which recorded no version, and whose
 * `workflow_runs` may lack `exit_code`); migration 1 brings both to the same shape without touching
 * existing rows. Every later step only adds tables, nullable columns or indexes, so an older
 * reader can still open a newer file, and a file newer than this code is opened as it is.
 *
 * @since 0.6.0
 */
import { Effect } from "effect"
import type { DatabaseError } from "../../schema/Errors.ts"
import type { SqliteShape } from "./Sqlite.ts"

/** One schema step: `up` runs inside the migration transaction. */
export interface Migration {
  readonly version: number
  readonly name: string
  readonly up: (sql: SqliteShape) => Effect.Effect<void, DatabaseError>
}

const columnsOf = (sql: SqliteShape, table: string) =>
  Effect.map(sql.all(`PRAGMA table_info(${table})`), (rows) => rows.map((row) => String(row.name)))

/** Creates an index unless one on exactly these columns exists (0.5 named its indexes its own way). */
const ensureIndex = (sql: SqliteShape, name: string, table: string, columns: ReadonlyArray<string>) =>
  Effect.gen(function*() {
    const indexes = yield* sql.all(`PRAGMA index_list(${table})`)
    for (const index of indexes) {
      const indexed = yield* sql.all(`PRAGMA index_info(${JSON.stringify(String(index.name))})`)
      if (indexed.map((column) => String(column.name)).join(",") === columns.join(",")) return
    }
    yield* sql.exec(`CREATE INDEX IF NOT EXISTS ${name} ON ${table}(${columns.join(", ")})`)
  })

/** Every schema version, oldest first. Append only; never edit a released step. */
export const migrations: ReadonlyArray<Migration> = [
  {
    version: 1,
    name: "nerve-store 0.5 tables (adopts an unversioned 0.5 file as it is)",
    up: (sql) =>
      Effect.gen(function*() {
        yield* sql.exec(`
          CREATE TABLE IF NOT EXISTS logs (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            source TEXT NOT NULL,
            type TEXT NOT NULL,
            ref_id TEXT,
            payload TEXT,
            timestamp INTEGER NOT NULL
          );
          CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
          CREATE TABLE IF NOT EXISTS workflow_runs (
            run_id TEXT PRIMARY KEY,
            workflow TEXT NOT NULL,
            status TEXT NOT NULL,
            timestamp INTEGER NOT NULL,
            exit_code INTEGER
          );`)
        if (!(yield* columnsOf(sql, "workflow_runs")).includes("exit_code")) {
          yield* sql.exec("ALTER TABLE workflow_runs ADD COLUMN exit_code INTEGER")
        }
        yield* ensureIndex(sql, "idx_logs_source_type", "logs", ["source", "type"])
        yield* ensureIndex(sql, "idx_logs_timestamp", "logs", ["timestamp"])
        yield* ensureIndex(sql, "idx_logs_ref_id", "logs", ["ref_id"])
        yield* ensureIndex(sql, "idx_workflow_runs_status", "workflow_runs", ["status"])
        yield* ensureIndex(sql, "idx_workflow_runs_workflow", "workflow_runs", ["workflow"])
      })
  },
  {
    version: 2,
    name: "run_transitions: the history of every accepted run transition",
    up: (sql) =>
      sql.exec(`
        CREATE TABLE IF NOT EXISTS run_transitions (
          id INTEGER PRIMARY KEY AUTOINCREMENT,
          run_id TEXT NOT NULL,
          from_status TEXT,
          to_status TEXT NOT NULL,
          timestamp INTEGER NOT NULL,
          exit_code INTEGER,
          log_id INTEGER NOT NULL
        );
        CREATE INDEX IF NOT EXISTS idx_run_transitions_run_id ON run_transitions(run_id, id);`)
  },
  {
    version: 3,
    name: "archive_manifest: one row per archived day file",
    up: (sql) =>
      sql.exec(`
        CREATE TABLE IF NOT EXISTS archive_manifest (
          day TEXT PRIMARY KEY,
          file TEXT NOT NULL,
          row_count INTEGER NOT NULL,
          bytes INTEGER NOT NULL,
          sha256 TEXT NOT NULL,
          min_id INTEGER,
          max_id INTEGER,
          archived_at INTEGER NOT NULL
        );`)
  },
  {
    version: 4,
    name: "run_leases, idempotency_keys, and runs paged newest first",
    up: (sql) =>
      sql.exec(`
        CREATE TABLE IF NOT EXISTS run_leases (
          run_id TEXT PRIMARY KEY,
          owner TEXT NOT NULL,
          boot TEXT NOT NULL,
          expires_at INTEGER NOT NULL
        );
        CREATE INDEX IF NOT EXISTS idx_run_leases_owner ON run_leases(owner, boot);
        CREATE TABLE IF NOT EXISTS idempotency_keys (
          key TEXT PRIMARY KEY,
          operation TEXT NOT NULL,
          request TEXT NOT NULL,
          result TEXT NOT NULL,
          created_at INTEGER NOT NULL
        );
        CREATE INDEX IF NOT EXISTS idx_idempotency_keys_created_at ON idempotency_keys(created_at);
        CREATE INDEX IF NOT EXISTS idx_workflow_runs_timestamp ON workflow_runs(timestamp, run_id);`)
  },
  {
    version: 5,
    name: "archive_pending (a day file about to be published) and archive_restored (days put back by restore)",
    up: (sql) =>
      sql.exec(`
        CREATE TABLE IF NOT EXISTS archive_pending (
          day TEXT PRIMARY KEY,
          token TEXT NOT NULL,
          file TEXT NOT NULL,
          line_count INTEGER NOT NULL,
          bytes INTEGER NOT NULL,
          sha256 TEXT NOT NULL,
          min_id INTEGER,
          max_id INTEGER,
          started_at INTEGER NOT NULL
        );
        CREATE TABLE IF NOT EXISTS archive_restored (
          day TEXT PRIMARY KEY,
          restored_at INTEGER NOT NULL
        );`)
  },
  {
    version: 6,
    name: "idx_logs_thread_rounds: per run, its thread rows and whether each is a role round",
    // The expression is ThreadRoundsSql's IS_ROUND and the condition its THREAD_ROW, written out:
    // a released step never changes. A test checks that the round queries still use this index.
    up: (sql) =>
      sql.exec(`CREATE INDEX IF NOT EXISTS idx_logs_thread_rounds ON logs(ref_id, (CASE WHEN json_valid(payload)
    THEN json_extract(payload, '$.type') IS NOT 'thread_start' AND json_extract(payload, '$.role') IS NOT '__start__'
    ELSE 0 END), id)
        WHERE source = 'workflow' AND type IN ('thread_workflow_message', 'thread_command_event');`)
  },
  {
    version: 7,
    name: "run_leases keyed by run id alone (WITHOUT ROWID, no owner index): one b-tree per lease write",
    // Every transition writes its lease; the owner index only served the rare renewal and release,
    // which now scan the (small) table of active runs instead.
    up: (sql) =>
      sql.exec(`
        CREATE TABLE run_leases_by_run (
          run_id TEXT PRIMARY KEY,
          owner TEXT NOT NULL,
          boot TEXT NOT NULL,
          expires_at INTEGER NOT NULL
        ) WITHOUT ROWID;
        INSERT INTO run_leases_by_run (run_id, owner, boot, expires_at) SELECT run_id, owner, boot, expires_at FROM run_leases;
        DROP TABLE run_leases;
        ALTER TABLE run_leases_by_run RENAME TO run_leases;`)
  },
  {
    version: 8,
    name: "thread_round_counts: each run's role-round count, counted from the rows already there",
    // Kept by our own writes (src/logstore/ThreadRoundCounts.ts), not by triggers. The count is
    // ThreadRoundCounts' rebuild, written out like migration 6 (it reads idx_logs_thread_rounds).
    up: (sql) =>
      sql.exec(`
        CREATE TABLE IF NOT EXISTS thread_round_counts (
          ref_id TEXT PRIMARY KEY,
          rounds INTEGER NOT NULL
        ) WITHOUT ROWID;
        DELETE FROM thread_round_counts;
        INSERT INTO thread_round_counts (ref_id, rounds)
          SELECT ref_id, count(*) FROM logs INDEXED BY idx_logs_thread_rounds
          WHERE ref_id IS NOT NULL AND source = 'workflow' AND type IN ('thread_workflow_message', 'thread_command_event')
            AND (CASE WHEN json_valid(payload)
    THEN json_extract(payload, '$.type') IS NOT 'thread_start' AND json_extract(payload, '$.role') IS NOT '__start__'
    ELSE 0 END) = 1
          GROUP BY ref_id;`)
  },
  {
    version: 9,
    name: "owner_boots: the live boot of each owner name and its last renewal (one live boot per name)",
    // Written by the lease keeper (src/logstore/OwnerBoots.ts): a named stack registers its boot
    // when built and renews the row with its leases; a graceful stop deletes it.
    up: (sql) =>
      sql.exec(`
        CREATE TABLE IF NOT EXISTS owner_boots (
          owner TEXT PRIMARY KEY,
          boot TEXT NOT NULL,
          renewed_at INTEGER NOT NULL,
          renewal_ms INTEGER NOT NULL,
          host TEXT NOT NULL,
          pid INTEGER NOT NULL
        ) WITHOUT ROWID;`)
  }
]

/** The version this code writes. */
export const LATEST_SCHEMA_VERSION = migrations[migrations.length - 1]?.version ?? 0

/** Reads `PRAGMA user_version`. */
export const schemaVersion = (sql: SqliteShape): Effect.Effect<number, DatabaseError> =>
  Effect.map(sql.get("PRAGMA user_version"), (row) => Number(row?.user_version ?? 0))

/**
 * Brings the database up to {@link LATEST_SCHEMA_VERSION} in one `BEGIN IMMEDIATE` transaction
 * (so two processes opening a file at once migrate it once). Returns the versions before and after.
 */
export const migrate = (sql: SqliteShape): Effect.Effect<{ readonly from: number; readonly to: number }, DatabaseError> =>
  sql.transaction(Effect.gen(function*() {
    const from = yield* schemaVersion(sql)
    const pending = migrations.filter((migration) => migration.version > from)
    for (const migration of pending) yield* migration.up(sql)
    const to = pending.length === 0 ? from : LATEST_SCHEMA_VERSION
    if (to !== from) yield* sql.exec(`PRAGMA user_version = ${to}`)
    return { from, to }
  }))
