/**
 * Every failure a nerve-store service can report, as tagged, serialisable errors.
 *
 * Callers branch with `Effect.catchTag("IllegalTransition", ...)`; `DatabaseError` carries a
 * `reason` so that busy / locked / full / read-only / corrupt are told apart without parsing text.
 *
 * @since 0.6.0
 */
import { Schema } from "effect"
import { WorkflowRunStatus } from "./WorkflowRun.ts"

/**
 * A run was asked to move to a status the state machine does not allow; nothing was written.
 *
 * @example
 * ```ts
 * store.transition(entry, run).pipe(Effect.catchTag("IllegalTransition", (e) => Effect.log(e.from, e.to)))
 * ```
 */
export class IllegalTransition extends Schema.TaggedError<IllegalTransition>()("IllegalTransition", {
  runId: Schema.String,
  from: Schema.NullOr(WorkflowRunStatus),
  to: WorkflowRunStatus
}) {
  override get message(): string {
    return `run ${this.runId}: illegal transition ${this.from ?? "(new run)"} -> ${this.to}`
  }
}

/** No run with this id exists. */
export class RunNotFound extends Schema.TaggedError<RunNotFound>()("RunNotFound", {
  runId: Schema.String
}) {
  override get message(): string {
    return `run ${this.runId} not found`
  }
}

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

/** A node:sqlite call failed; `code` is SQLite's extended result code when there is one. */
export class DatabaseError extends Schema.TaggedError<DatabaseError>()("DatabaseError", {
  operation: Schema.String,
  reason: DatabaseErrorReason,
  code: Schema.NullOr(Schema.Int),
  detail: Schema.String
}) {
  override get message(): string {
    return `${this.operation} failed (${this.reason}${this.code === null ? "" : `, sqlite code ${this.code}`}): ${this.detail}`
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

/** An archive file could not be written, read or trusted; `line` is 1-based when a line is at fault. */
export class ArchiveError extends Schema.TaggedError<ArchiveError>()("ArchiveError", {
  file: Schema.String,
  line: Schema.optional(Schema.Int),
  reason: Schema.String
}) {
  override get message(): string {
    return `archive ${this.file}${this.line === undefined ? "" : `:${this.line}`}: ${this.reason}`
  }
}
