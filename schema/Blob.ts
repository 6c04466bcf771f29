/**
 * The public data of the BlobStore: digests, stats, the `verifyAll` report, `gc` options and
 * result, and `BlobStoreError` (an I/O failure naming the operation and the path).
 *
 * `InvalidDigest`, `BlobNotFound` and `DigestMismatch` live in `./Errors.ts` with the other errors.
 *
 * @since 0.6.0
 */
import { Duration, Effect, Schema, SchemaTransformation } from "effect"
import type { PlatformError } from "effect/PlatformError"
import { InvalidDigest, InvalidInput } from "./Errors.ts"

const digestPattern = /^[0-9a-f]{64}$/

/**
 * A blob's name: the lowercase sha256 hex of its bytes (64 characters), branded so that only a
 * parsed or computed digest can reach code that builds a path from it.
 *
 * @example
 * ```ts
 * const d: BlobDigest = BlobDigest.make("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
 * ```
 */
export const BlobDigest = Schema.String.pipe(
  Schema.check(Schema.isPattern(digestPattern, { message: "expected 64 lowercase hex characters" })),
  Schema.brand("BlobDigest")
)
export type BlobDigest = typeof BlobDigest.Type

/**
 * Decodes user input into a `BlobDigest`: trims and lowercases first, then checks the pattern.
 *
 * @example
 * ```ts
 * Schema.decodeUnknownSync(BlobDigestFromString)("  E3B0C442…B855 ") // "e3b0c442…b855"
 * ```
 */
export const BlobDigestFromString = Schema.String.pipe(
  Schema.decodeTo(
    BlobDigest,
    SchemaTransformation.transform({
      decode: (input: string) => input.trim().toLowerCase(),
      encode: (digest: string) => digest
    })
  )
)

/**
 * Normalises `input` (trim, lowercase) and checks it is 64 hex characters; anything else fails
 * with `InvalidDigest` before any path can be built from it (`"../../etc/passwd"` never reaches
 * the file system).
 *
 * @example
 * ```ts
 * const digest = yield* parseDigest(" AB…") // Effect<BlobDigest, InvalidDigest>
 * ```
 */
export const parseDigest = (input: string): Effect.Effect<BlobDigest, InvalidDigest> => {
  // typeof guard: callers outside TypeScript (the CLI, JSON) may pass anything.
  if (typeof input !== "string") return Effect.fail(new InvalidDigest({ input: String(input) }))
  if (digestPattern.test(input)) return Effect.succeed(BlobDigest.make(input, { disableChecks: true }))
  const normalised = input.trim().toLowerCase()
  return digestPattern.test(normalised)
    ? Effect.succeed(BlobDigest.make(normalised, { disableChecks: true }))
    : Effect.fail(new InvalidDigest({ input }))
}

/** Whether `input` is already a canonical digest (64 lowercase hex characters). */
export const isBlobDigest = (input: string): input is BlobDigest => digestPattern.test(input)

/** Size (bytes) and modification time of a stored blob. */
export const BlobStat = Schema.Struct({
  digest: BlobDigest,
  size: Schema.Int.pipe(Schema.check(Schema.isGreaterThanOrEqualTo(0))),
  mtime: Schema.Date
})
export type BlobStat = typeof BlobStat.Type

/** A blob whose bytes hash to its name. */
export const BlobOk = Schema.TaggedStruct("Ok", {
  digest: BlobDigest,
  size: Schema.Int
})
export type BlobOk = typeof BlobOk.Type

/**
 * A blob whose bytes hash to `actual`, not to its name. It was moved to `quarantinedTo`
 * (under `<root>/quarantine/`), or `null` when it had already disappeared (another process
 * quarantined or repaired it first).
 */
export const BlobMismatch = Schema.TaggedStruct("Mismatch", {
  digest: BlobDigest,
  actual: Schema.String,
  path: Schema.String,
  quarantinedTo: Schema.NullOr(Schema.String)
})
export type BlobMismatch = typeof BlobMismatch.Type

/** A blob that could not be read (permission, I/O error, a folder where a file should be). */
export const BlobUnreadable = Schema.TaggedStruct("Unreadable", {
  digest: BlobDigest,
  path: Schema.String,
  reason: Schema.String
})
export type BlobUnreadable = typeof BlobUnreadable.Type

/** The result of checking one blob. */
export const BlobCheck = Schema.Union([BlobOk, BlobMismatch, BlobUnreadable])
export type BlobCheck = typeof BlobCheck.Type

/** What `verifyAll` found: one entry per blob (in digest order) and the totals. */
export const VerifyReport = Schema.Struct({
  entries: Schema.Array(BlobCheck),
  totals: Schema.Struct({
    checked: Schema.Int,
    ok: Schema.Int,
    mismatch: Schema.Int,
    unreadable: Schema.Int,
    /** Bytes of the blobs that verified. */
    bytes: Schema.Int
  })
})
export type VerifyReport = typeof VerifyReport.Type

/**
 * Options of `gc`.
 *
 * - `tempOlderThan`: temp files (`.tmp.*`) whose mtime is at least this old are removed
 *   (default 1 hour). Keep it well above the time a write takes: a younger temp file may belong to
 *   a write in progress, in this process or another.
 * - `live`: when given, every blob whose digest is not in it is removed. The caller must make
 *   sure no blob it still needs is written between computing the set and running `gc`.
 */
export interface GcOptions {
  readonly live?: Iterable<BlobDigest> | ReadonlySet<BlobDigest>
  readonly tempOlderThan?: Duration.Input
}

/** The default age after which `gc` removes temp files. */
export const DEFAULT_TEMP_MAX_AGE: Duration.Duration = Duration.hours(1)

/** Converts `tempOlderThan` to milliseconds, rejecting negative or malformed durations. */
export const tempMaxAgeMillis = (options: GcOptions): Effect.Effect<number, InvalidInput> => {
  if (options.tempOlderThan === undefined) return Effect.succeed(Duration.toMillis(DEFAULT_TEMP_MAX_AGE))
  const duration = Duration.fromInput(options.tempOlderThan)
  if (duration._tag === "None") {
    return Effect.fail(new InvalidInput({ field: "tempOlderThan", reason: "not a duration" }))
  }
  const millis = Duration.toMillis(duration.value)
  return millis >= 0
    ? Effect.succeed(millis)
    : Effect.fail(new InvalidInput({ field: "tempOlderThan", reason: "must not be negative" }))
}

/** What `gc` removed. `bytesFreed` counts temp files and blobs. */
export const GcResult = Schema.Struct({
  removedTemps: Schema.Array(Schema.String),
  removedBlobs: Schema.Array(BlobDigest),
  bytesFreed: Schema.Int
})
export type GcResult = typeof GcResult.Type

/**
 * Why an I/O operation of the blob store failed: `permissionDenied` (EACCES, EPERM), `readOnly`
 * (EROFS), `diskFull` (ENOSPC, EDQUOT), `notADirectory` (a file where a folder should be),
 * `isADirectory`, `notFound`, `tooManyOpenFiles`, `io` (EIO), or `other`.
 */
export const BlobStoreErrorReason = Schema.Literals([
  "permissionDenied",
  "readOnly",
  "diskFull",
  "notADirectory",
  "isADirectory",
  "notFound",
  "tooManyOpenFiles",
  "io",
  "other"
])
export type BlobStoreErrorReason = typeof BlobStoreErrorReason.Type

const reasonByCode: Record<string, BlobStoreErrorReason> = {
  EACCES: "permissionDenied",
  EPERM: "permissionDenied",
  EROFS: "readOnly",
  ENOSPC: "diskFull",
  EDQUOT: "diskFull",
  ENOTDIR: "notADirectory",
  EISDIR: "isADirectory",
  ENOENT: "notFound",
  EMFILE: "tooManyOpenFiles",
  ENFILE: "tooManyOpenFiles",
  EIO: "io"
}

const errnoCode = (error: PlatformError): string | null => {
  const cause: unknown = error.reason.cause
  if (typeof cause !== "object" || cause === null) return null
  const code: unknown = Reflect.get(cause, "code")
  return typeof code === "string" ? code : null
}

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
  detail: Schema.String
}) {
  override get message(): string {
    return `${this.operation} failed on ${this.path} (${this.reason}${this.code === null ? "" : `, ${this.code}`}): ${this.detail}`
  }

  /** Classifies a `PlatformError`; `path` is used when the error does not name one itself. */
  static fromPlatformError(operation: string, path: string, error: PlatformError): BlobStoreError {
    const code = errnoCode(error)
    const reason = error.reason
    const reported = reason._tag !== "BadArgument" && typeof reason.pathOrDescriptor === "string"
      ? reason.pathOrDescriptor
      : path
    const classified: BlobStoreErrorReason = code !== null
      ? reasonByCode[code] ?? "other"
      : reason._tag === "NotFound"
      ? "notFound"
      : reason._tag === "PermissionDenied"
      ? "permissionDenied"
      : "other"
    return new BlobStoreError({ operation, path: reported, reason: classified, code, detail: error.message })
  }
}
