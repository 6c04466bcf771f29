/**
 * Every failure a nerve-store service can report, as tagged, serialisable errors.
 *
 * Callers branch with `Effect.catchTag("IllegalTransition", ...)`; `DatabaseError` carries a
 * `reason` so that busy / locked / full / read-only / corrupt are told apart without parsing text.
 *
 * @since 0.6.0
 */
import { Schema } from "effect"
import type { IdempotencyConflict, IllegalTransition, LeaseLost, OwnerInUse, RunFinished, RunLeased, RunMismatch, RunNotFound } from "./RunErrors.ts"

export { IdempotencyConflict, IllegalTransition, LeaseLost, OwnerInUse, RunFinished, RunLeased, RunMismatch, RunNotFound } from "./RunErrors.ts"

/** A stored row does not decode; names the table and the row's key so it can be found and mended. */
export class CorruptRow extends Schema.TaggedError<CorruptRow>()("CorruptRow", {
  table: Schema.String,
  key: Schema.String,
  reason: Schema.String
}) {
  override get message(): string {
    return `corrupt row in ${this.table} (key ${this.key}): ${this.reason}`
  }
}

/** Input from a caller (an argument, a CLI flag) was rejected before anything was written. */
export class InvalidInput extends Schema.TaggedError<InvalidInput>()("InvalidInput", {
  field: Schema.String,
  reason: Schema.String
}) {
  override get message(): string {
    return `invalid ${this.field}: ${this.reason}`
  }
}

/**
 * Why SQLite refused: `busy` (another connection holds the write lock past the busy timeout),
 * `locked` (a conflict inside this connection), `full`, `readOnly`, `corrupt` (also "not a
 * database"), `constraint`, or `other`.
 */
export const DatabaseErrorReason = Schema.Literals(["busy", "locked", "full", "readOnly", "corrupt", "constraint", "other"])
export type DatabaseErrorReason = typeof DatabaseErrorReason.Type

/**
 * A node:sqlite call failed. `operation` is the public operation (`LogStore.append`, `open
 * nerve.db`), `code` SQLite's extended result code when there is one, `cause` what node:sqlite threw.
 *
 * @example
 * ```ts
 * log.append(entry).pipe(Effect.retry({ while: (e) => e._tag === "DatabaseError" && e.isRetryable, times: 3 }))
 * ```
 */
export class DatabaseError extends Schema.TaggedError<DatabaseError>()("DatabaseError", {
  operation: Schema.String,
  reason: DatabaseErrorReason,
  code: Schema.NullOr(Schema.Int),
  detail: Schema.String,
  cause: Schema.optional(Schema.Defect())
}) {
  override get message(): string {
    return `${this.operation} failed (${this.reason}${this.code === null ? "" : `, sqlite code ${this.code}`}): ${this.detail}`
  }
  /** Whether trying again later can help: another connection held a lock (`busy`, `locked`). */
  get isRetryable(): boolean {
    return this.reason === "busy" || this.reason === "locked"
  }
}

/** A blob name is not 64 hexadecimal characters; raised before any path is built from it. */
export class InvalidDigest extends Schema.TaggedError<InvalidDigest>()("InvalidDigest", {
  input: Schema.String
}) {
  override get message(): string {
    return `invalid blob digest ${JSON.stringify(this.input.length > 80 ? this.input.slice(0, 80) + "…" : this.input)}: expected 64 hex characters`
  }
}

/** No blob is stored under this digest. */
export class BlobNotFound extends Schema.TaggedError<BlobNotFound>()("BlobNotFound", {
  digest: Schema.String
}) {
  override get message(): string {
    return `blob ${this.digest} not found`
  }
}

/** The bytes stored under `digest` hash to `actual`: the file at `path` was altered. */
export class DigestMismatch extends Schema.TaggedError<DigestMismatch>()("DigestMismatch", {
  digest: Schema.String,
  actual: Schema.String,
  path: Schema.String
}) {
  override get message(): string {
    return `blob ${this.digest} is corrupt: its content hashes to ${this.actual} (${this.path})`
  }
}

/** A day string is not a real `YYYY-MM-DD` UTC calendar day. */
export class InvalidUtcDay extends Schema.TaggedError<InvalidUtcDay>()("InvalidUtcDay", {
  input: Schema.String
}) {
  override get message(): string {
    return `invalid UTC day ${JSON.stringify(this.input)}: expected a real calendar day as YYYY-MM-DD`
  }
}

/**
 * Why a file operation failed, from the errno code behind it: `permissionDenied` (EACCES,
 * EPERM), `readOnly` (EROFS), `diskFull` (ENOSPC, EDQUOT), `notADirectory` (a file where a folder
 * should be), `isADirectory`, `notFound`, `alreadyExists`, `tooManyOpenFiles`, `io` (EIO), `other`.
 */
export const FileErrorReason = Schema.Literals([
  "permissionDenied",
  "readOnly",
  "diskFull",
  "notADirectory",
  "isADirectory",
  "notFound",
  "alreadyExists",
  "tooManyOpenFiles",
  "io",
  "other"
])
export type FileErrorReason = typeof FileErrorReason.Type

/** Whether a file failure may go away by itself (a retry can help). */
export const isRetryableFileReason = (reason: FileErrorReason): boolean =>
  reason === "tooManyOpenFiles" || reason === "io"

/** Why an I/O operation of the blob store failed (see `FileErrorReason`). */
export const BlobStoreErrorReason = FileErrorReason
export type BlobStoreErrorReason = typeof BlobStoreErrorReason.Type

/**
 * The blob store could not do its I/O. `operation` is the public operation (`BlobStore.write`),
 * `path` the file or folder it was touching, `code` the errno code when there is one.
 *
 * @example
 * ```ts
 * blobs.write(bytes).pipe(
 *   Effect.catchTag("BlobStoreError", (e) => e.reason === "diskFull" ? Effect.log("disk full at", e.path) : Effect.fail(e))
 * )
 * ```
 */
export class BlobStoreError extends Schema.TaggedError<BlobStoreError>()("BlobStoreError", {
  operation: Schema.String,
  path: Schema.String,
  reason: BlobStoreErrorReason,
  code: Schema.NullOr(Schema.String),
  detail: Schema.String,
  cause: Schema.optional(Schema.Defect())
}) {
  override get message(): string {
    return `${this.operation} failed on ${this.path} (${this.reason}${this.code === null ? "" : `, ${this.code}`}): ${this.detail}`
  }
  /** Whether trying again later can help (EMFILE, EIO). */
  get isRetryable(): boolean {
    return isRetryableFileReason(this.reason)
  }
}

/**
 * Why the archive failed: a file failure (see `FileErrorReason`), or `corrupt` (a file that does
 * not decode or does not match its manifest), `missing` (the manifest lists a file that is gone),
 * `notArchived` (no file for that day), `changedOnDisk` (a file changed under a running archive).
 */
export const ArchiveErrorReason = Schema.Union([
  FileErrorReason,
  Schema.Literals(["corrupt", "missing", "notArchived", "changedOnDisk"])
])
export type ArchiveErrorReason = typeof ArchiveErrorReason.Type

/**
 * An archive file could not be written, read or trusted. `line` is 1-based when a line is at
 * fault; `detail` says what happened; `cause` keeps the underlying failure.
 */
export class ArchiveError extends Schema.TaggedError<ArchiveError>()("ArchiveError", {
  file: Schema.String,
  line: Schema.optional(Schema.Int),
  reason: ArchiveErrorReason,
  detail: Schema.String,
  cause: Schema.optional(Schema.Defect())
}) {
  override get message(): string {
    return `archive ${this.file}${this.line === undefined ? "" : `:${this.line}`} (${this.reason}): ${this.detail}`
  }
  /** Whether trying again later can help. */
  get isRetryable(): boolean {
    return this.reason === "changedOnDisk" || (this.reason !== "corrupt" && this.reason !== "missing" &&
      this.reason !== "notArchived" && isRetryableFileReason(this.reason))
  }
}

/**
 * The data directory (or a folder the store keeps in it) cannot be used: `reason` says why
 * (`notADirectory`: a file stands where the folder should be; `permissionDenied`; `readOnly`; ...).
 */
export class DataDirectoryError extends Schema.TaggedError<DataDirectoryError>()("DataDirectoryError", {
  path: Schema.String,
  reason: FileErrorReason,
  code: Schema.NullOr(Schema.String),
  detail: Schema.String,
  cause: Schema.optional(Schema.Defect())
}) {
  override get message(): string {
    const what: Partial<Record<FileErrorReason, string>> = {
      notADirectory: "a file stands where a folder should be",
      alreadyExists: "a file stands where a folder should be",
      permissionDenied: "permission denied",
      readOnly: "the file system is read-only",
      diskFull: "the disk is full",
      notFound: "it does not exist"
    }
    return `cannot use ${this.path} in the data directory: ${what[this.reason] ?? this.detail}`
  }
}

/** Any error a nerve-store service or layer can fail with. */
export type NerveStoreError =
  | IllegalTransition
  | RunNotFound
  | CorruptRow
  | InvalidInput
  | DatabaseError
  | InvalidDigest
  | BlobNotFound
  | DigestMismatch
  | InvalidUtcDay
  | ArchiveError
  | DataDirectoryError
  | BlobStoreError
  | RunLeased
  | IdempotencyConflict
  | RunMismatch
  | OwnerInUse
  | LeaseLost
  | RunFinished
  | SchemaTooNew
  | FollowGap


/**
 * The database file's schema version (`found`, its `PRAGMA user_version`) is newer than the
 * newest this build knows (`known`): a newer nerve-store wrote it. Such a file opens read-only
 * only; a writable open fails with this error and changes nothing. Upgrade nerve-store, or open
 * the file with `readonly: true` to read it.
 *
 * @example
 * ```ts
 * Layer.build(NerveStoreLive({ dataDir })).pipe(
 *   Effect.catchTag("SchemaTooNew", (e) => Effect.logError(`schema ${e.found} > ${e.known}: upgrade nerve-store`))
 * )
 * ```
 */
export class SchemaTooNew extends Schema.TaggedError<SchemaTooNew>()("SchemaTooNew", {
  found: Schema.Int,
  known: Schema.Int
}) {
  override get message(): string {
    return `the database has schema version ${this.found}, newer than ${this.known}, the newest this nerve-store knows: ` +
      `it opens read-only only (upgrade nerve-store to write to it)`
  }
}

/**
 * `follow` cannot deliver every row after `afterId`: rows up to `firstAvailableId - 1` were
 * archived meanwhile and are no longer in the database. The stream fails rather than skip them;
 * read the archived days (`LogArchive.readDay`), then follow again from the last row read.
 */
export class FollowGap extends Schema.TaggedError<FollowGap>()("FollowGap", {
  afterId: Schema.Int,
  firstAvailableId: Schema.Int
}) {
  override get message(): string {
    return `follow: rows after id ${this.afterId} before id ${this.firstAvailableId} were archived and cannot be delivered`
  }
}
