/**
 * The DatabaseCopy service: `nerve-store db copy --to <url>` (a SQLite data directory's database
 * into PostgreSQL) and `--from <url>` (back into a SQLite file). Built per pair of backends
 * (`DatabaseCopyPg` in `@uncaged/nerve-store/layers`); the CLI uses nothing else of a backend.
 *
 * A copy goes table by table in key-ordered batches; each batch and the copy's progress (a meta
 * row `copy_progress` in the target naming the source) commit together, so a copy killed half-way
 * and run again continues where it stopped, without duplicates. A non-empty target is refused
 * unless it is resuming the same copy. At the end every table's row count and digest (sha256 over
 * its rows in key order, computed in JavaScript the same way on both sides) are compared.
 *
 * @since 0.8.0
 */
import { Context, type Effect, Schema } from "effect"
import type { CorruptRow, DatabaseError, DataDirectoryError, InvalidInput, SchemaTooNew } from "../schema/Errors.ts"

/** The meta key of a copy's progress in its target (never copied, never digested). */
export const COPY_PROGRESS_KEY = "copy_progress"

/** One table after a copy: rows and digest on each side. */
export const CopiedTable = Schema.Struct({
  table: Schema.String,
  sourceRows: Schema.Int,
  targetRows: Schema.Int,
  sourceDigest: Schema.String,
  targetDigest: Schema.String,
  ok: Schema.Boolean
})
export type CopiedTable = typeof CopiedTable.Type

/** What a copy did: from where to where, whether it resumed, and every table checked. */
export const CopyReport = Schema.Struct({
  source: Schema.String,
  target: Schema.String,
  resumed: Schema.Boolean,
  copiedRows: Schema.Int,
  tables: Schema.Array(CopiedTable),
  ok: Schema.Boolean
})
export type CopyReport = typeof CopyReport.Type

/** One step of a copy, for a progress display. */
export interface CopyProgress {
  readonly table: string
  readonly copied: number
  readonly total: number
}

/** The copy was refused before writing anything (a non-empty target, a source not up to date). */
export class CopyRefused extends Schema.TaggedError<CopyRefused>()("CopyRefused", { target: Schema.String, reason: Schema.String }) {
  override get message(): string {
    return `db copy refused: ${this.reason} (target ${this.target}); nothing was written`
  }
}

/** The check after the copy found a table whose count or digest differs. */
export class CopyMismatch extends Schema.TaggedError<CopyMismatch>()("CopyMismatch", { tables: Schema.Array(Schema.String) }) {
  override get message(): string {
    return `db copy: the target differs from the source in ${this.tables.join(", ")} (row count or digest)`
  }
}

/** What a copy fails with. */
export type CopyError = DatabaseError | DataDirectoryError | CorruptRow | InvalidInput | SchemaTooNew | CopyRefused

/** The options of one copy. */
export interface CopyOptions {
  /** Rows per batch (one transaction in the target each; default 1000). */
  readonly batchSize?: number
  readonly onProgress?: (progress: CopyProgress) => Effect.Effect<void>
}

/** The two directions, each with its full error type; a digest mismatch is reported (`ok: false`). */
export interface DatabaseCopyShape {
  /** The data directory's `nerve.db` into the PostgreSQL database. */
  readonly toPg: (options?: CopyOptions) => Effect.Effect<CopyReport, CopyError>
  /** The PostgreSQL database into the data directory's `nerve.db` (created; the folder must exist). */
  readonly fromPg: (options?: CopyOptions) => Effect.Effect<CopyReport, CopyError>
}

/** Copies between a data directory and a PostgreSQL database. */
export class DatabaseCopy extends Context.Service<DatabaseCopy, DatabaseCopyShape>()("@uncaged/nerve-store/DatabaseCopy") {}
