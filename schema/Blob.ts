/**
 * The public data of the BlobStore: digests, stats, the `verifyAll` report, `gc` options and
 * result.
 *
 * Its errors (`InvalidDigest`, `BlobNotFound`, `DigestMismatch`, `BlobStoreError`) live in
 * `./Errors.ts` with the others.
 *
 * @since 0.6.0
 */
import { Duration, Effect, Schema, SchemaTransformation } from "effect"
import { InvalidDigest } from "./Errors.ts"

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

/**
 * Something in the blob tree that the store refused to follow or touch: a shard folder (or
 * `quarantine/`) that is a symbolic link. `reason` says what it is; nothing behind it was read,
 * moved or removed.
 */
export const BlobSuspicious = Schema.Struct({
  path: Schema.String,
  reason: Schema.String
})
export type BlobSuspicious = typeof BlobSuspicious.Type

/** The result of checking one blob. */
export const BlobCheck = Schema.Union([BlobOk, BlobMismatch, BlobUnreadable])
export type BlobCheck = typeof BlobCheck.Type

/**
 * What `verifyAll` found: one entry per blob (in digest order), the totals, and what it refused
 * to follow (`suspicious`: e.g. a shard folder that is a symbolic link; the file-system store
 * always sets it, a report built from single `verify` calls may leave it out).
 */
export const VerifyReport = Schema.Struct({
  entries: Schema.Array(BlobCheck),
  suspicious: Schema.optionalKey(Schema.Array(BlobSuspicious)),
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
 * A non-negative age, built from effect's `Schema.Duration` family: a `Duration`, a number of
 * milliseconds (`DurationFromMillis`, finite only: `NaN` would read as zero, which for `gc`
 * means "every temp file") or a string such as `"1 hour"` (`DurationFromString`).
 *
 * @example
 * ```ts
 * Schema.decodeUnknownSync(NonNegativeDurationInput)("90 minutes") // Duration.minutes(90)
 * ```
 */
export const NonNegativeDurationInput = Schema.Union([
  Schema.Duration,
  Schema.Finite.pipe(Schema.decodeTo(Schema.Duration, SchemaTransformation.durationFromMillis)),
  Schema.DurationFromString
]).pipe(
  Schema.check(Schema.makeFilter((duration: Duration.Duration) => !Duration.isNegative(duration) || "must not be negative"))
)

/**
 * Options of `gc`.
 *
 * - `tempOlderThan`: temp files (`.tmp.*`) whose mtime is at least this old are removed
 *   (default 1 hour). Keep it well above the time a write takes: a younger temp file may belong to
 *   a write in progress, in this process or another.
 * - `live`: when given, every blob whose digest is not in it is removed. Entries are normalised
 *   like every digest input (trim, lowercase); one that is not 64 hex characters rejects the
 *   whole call. The caller must make sure no blob it still needs is written between computing
 *   the set and running `gc`.
 *
 * Callers pass the encoded form (`GcOptionsInput`: plain strings); `gc` decodes it and fails
 * with `InvalidInput` naming the field (`options.tempOlderThan`, `options.live.3`).
 *
 * @example
 * ```ts
 * blobs.gc({ live: new Set(await referencedDigests()), tempOlderThan: "2 hours" })
 * ```
 */
export const GcOptions = Schema.Struct({
  live: Schema.optional(Schema.Union([Schema.Array(BlobDigestFromString), Schema.ReadonlySet(BlobDigestFromString)])),
  tempOlderThan: Schema.optional(NonNegativeDurationInput)
})
/** `gc`'s options once decoded: `live` holds canonical digests. */
export type GcOptions = typeof GcOptions.Type
/** `gc`'s options as a caller writes them: `live` may hold any strings (they are checked). */
export type GcOptionsInput = typeof GcOptions.Encoded

/** The default age after which `gc` removes temp files. */
export const DEFAULT_TEMP_MAX_AGE: Duration.Duration = Duration.hours(1)

/**
 * What `gc` removed. `bytesFreed` counts temp files and blobs. `suspicious` lists what it refused
 * to enter (a shard folder that is a symbolic link), so nothing outside the root is removed.
 */
export const GcResult = Schema.Struct({
  removedTemps: Schema.Array(Schema.String),
  removedBlobs: Schema.Array(BlobDigest),
  bytesFreed: Schema.Int,
  suspicious: Schema.Array(BlobSuspicious)
})
export type GcResult = typeof GcResult.Type
