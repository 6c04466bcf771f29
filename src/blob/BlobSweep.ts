/**
 * Operations over the whole blob tree (cacache's `lib/verify.js` is the model): `list`,
 * `verifyAll` and `gc`. They walk the root one shard folder at a time, in name order, so memory
 * holds one folder listing, never the whole tree.
 *
 * What counts as a blob: `<root>/<2 lowercase hex>/<62 lowercase hex>`. Everything else is not a
 * blob and is left alone — except temp files (`.tmp.*`, in the root or a shard folder, also those
 * left by nerve-store 0.5), which `gc` removes once they are old enough. `quarantine/` is never
 * listed, verified or collected.
 *
 * @since 0.6.0
 */
import { Clock, Duration, Effect, Option, Result, Stream } from "effect"
import type { BlobCheck, BlobDigest, GcOptionsInput, GcResult, VerifyReport } from "../../schema/Blob.ts"
import { DEFAULT_TEMP_MAX_AGE, GcOptions } from "../../schema/Blob.ts"
import type { BlobStoreError, InvalidInput } from "../../schema/Errors.ts"
import { isTempName } from "../fs/DurableFile.ts"
import { inputDecoder } from "../domain/Validate.ts"
import type { BlobEnv } from "./BlobEnv.ts"
import { isNotFound } from "../fs/PlatformErrors.ts"
import { ioError, isNotADirectory } from "./BlobEnv.ts"
import { digestOfEntry, isShardName } from "./BlobPath.ts"
import { hashBlob, quarantineMismatch } from "./BlobVerify.ts"

/** How many blobs `verifyAll` hashes at once. */
const VERIFY_CONCURRENCY = 4

/** `gc`'s options, decoded: the live set (canonical digests) if any, and the temp age in ms. */
export interface GcPlan {
  readonly live: ReadonlySet<BlobDigest> | undefined
  readonly tempMaxAgeMs: number
}

const decodeGcOptionsInput = inputDecoder(GcOptions, "options")

/**
 * Decodes `gc`'s options (shared by both implementations, so they reject the same input): a bad
 * `tempOlderThan` or a `live` entry that is not a digest fails with `InvalidInput` naming the
 * field (`options.tempOlderThan`, `options.live.3`).
 */
export const decodeGcOptions = (options: GcOptionsInput | undefined): Effect.Effect<GcPlan, InvalidInput> =>
  Effect.map(decodeGcOptionsInput(options ?? {}), (decoded) => ({
    live: decoded.live === undefined ? undefined : new Set(decoded.live),
    tempMaxAgeMs: Duration.toMillis(decoded.tempOlderThan ?? DEFAULT_TEMP_MAX_AGE)
  }))

/**
 * The names in `directory`, sorted. A missing folder is empty; with `skipNonFolder`, so is a
 * plain file where a shard folder should be (it is not a blob, and must not stop a sweep).
 */
const readNames = (
  env: BlobEnv,
  directory: string,
  operation: string,
  skipNonFolder: boolean
): Effect.Effect<ReadonlyArray<string>, BlobStoreError> =>
  env.fs.readDirectory(directory).pipe(
    Effect.map((names) => names.sort()),
    Effect.catchIf(
      (error) => isNotFound(error) || (skipNonFolder && isNotADirectory(error)),
      () => Effect.succeed<ReadonlyArray<string>>([])
    ),
    Effect.mapError(ioError(operation, directory))
  )

const digestsIn = (shard: string, names: ReadonlyArray<string>): Array<BlobDigest> => {
  const digests: Array<BlobDigest> = []
  for (const name of names) {
    const digest = digestOfEntry(shard, name)
    if (digest !== undefined) digests.push(digest)
  }
  return digests
}

/** Every stored digest, in order, one shard folder at a time. */
export const listDigests = (env: BlobEnv, operation: string): Stream.Stream<BlobDigest, BlobStoreError> =>
  Stream.fromIterableEffect(
    Effect.map(readNames(env, env.paths.root, operation, false), (names) => names.filter(isShardName))
  ).pipe(
    Stream.flatMap((shard) =>
      Stream.fromIterableEffect(
        Effect.map(readNames(env, env.paths.inRoot(shard), operation, true), (names) => digestsIn(shard, names))
      )
    )
  )

/** Hashes one blob for `verifyAll`; `undefined` when it vanished since it was listed. */
const checkForReport = (
  env: BlobEnv,
  digest: BlobDigest,
  operation: string
): Effect.Effect<BlobCheck | undefined, BlobStoreError> =>
  Effect.gen(function*() {
    const hashed = yield* Effect.result(hashBlob(env, digest, operation))
    if (Result.isFailure(hashed)) {
      const error = hashed.failure
      if (error._tag === "BlobNotFound") return undefined
      return { _tag: "Unreadable", digest, path: env.paths.blobPath(digest), reason: error.message } satisfies BlobCheck
    }
    const { sha256, size } = hashed.success
    if (sha256 === digest) return { _tag: "Ok", digest, size } satisfies BlobCheck
    return yield* quarantineMismatch(env, digest, sha256, operation)
  })

/** Re-hashes every blob; corrupt ones are quarantined. Entries are in digest order. */
export const verifyAll = (env: BlobEnv, operation: string): Effect.Effect<VerifyReport, BlobStoreError> =>
  listDigests(env, operation).pipe(
    Stream.mapEffect((digest) => checkForReport(env, digest, operation), { concurrency: VERIFY_CONCURRENCY }),
    Stream.runCollect,
    Effect.map((checks) => {
      const entries: Array<BlobCheck> = []
      const totals = { checked: 0, ok: 0, mismatch: 0, unreadable: 0, bytes: 0 }
      for (const check of checks) {
        if (check === undefined) continue
        entries.push(check)
        totals.checked++
        if (check._tag === "Ok") {
          totals.ok++
          totals.bytes += check.size
        } else if (check._tag === "Mismatch") totals.mismatch++
        else totals.unreadable++
      }
      return { entries, totals }
    })
  )

/** Removes `file` and returns its size, or `undefined` if it is already gone or `keep` says so. */
const removeFile = (
  env: BlobEnv,
  file: string,
  operation: string,
  keep: (mtimeMs: number) => boolean
): Effect.Effect<number | undefined, BlobStoreError> =>
  Effect.gen(function*() {
    const info = yield* env.fs.stat(file).pipe(
      Effect.map(Option.some),
      Effect.catchIf(isNotFound, () => Effect.succeed(Option.none()))
    )
    if (Option.isNone(info)) return undefined
    const mtimeMs = Option.match(info.value.mtime, { onNone: () => 0, onSome: (date) => date.getTime() })
    if (keep(mtimeMs)) return undefined
    const removed = yield* env.fs.remove(file).pipe(
      Effect.as(true),
      Effect.catchIf(isNotFound, () => Effect.succeed(false))
    )
    return removed ? Number(info.value.size) : undefined
  }).pipe(Effect.mapError(ioError(operation, file)))

/**
 * Removes temp files at least `tempOlderThan` old (by mtime, against the Effect `Clock`) from
 * the root and every shard folder, and, when `live` is given, every blob not in it.
 */
export const gc = (
  env: BlobEnv,
  options: GcOptionsInput | undefined,
  operation: string
): Effect.Effect<GcResult, InvalidInput | BlobStoreError> =>
  Effect.gen(function*() {
    const { live, tempMaxAgeMs } = yield* decodeGcOptions(options)
    const cutoff = (yield* Clock.currentTimeMillis) - tempMaxAgeMs
    const removedTemps: Array<string> = []
    const removedBlobs: Array<BlobDigest> = []
    let bytesFreed = 0
    const youngTemp = (mtimeMs: number) => mtimeMs > cutoff

    const sweepTemp = (file: string) =>
      Effect.map(removeFile(env, file, operation, youngTemp), (size) => {
        if (size === undefined) return
        removedTemps.push(file)
        bytesFreed += size
      })

    const rootNames = yield* readNames(env, env.paths.root, operation, false)
    for (const name of rootNames) {
      if (isTempName(name)) yield* sweepTemp(env.paths.inRoot(name))
    }
    for (const shard of rootNames) {
      if (!isShardName(shard)) continue
      const names = yield* readNames(env, env.paths.inRoot(shard), operation, true)
      for (const name of names) {
        if (isTempName(name)) {
          yield* sweepTemp(env.paths.inShard(shard, name))
          continue
        }
        if (live === undefined) continue
        const digest = digestOfEntry(shard, name)
        if (digest === undefined || live.has(digest)) continue
        const size = yield* removeFile(env, env.paths.blobPath(digest), operation, () => false)
        if (size === undefined) continue
        removedBlobs.push(digest)
        bytesFreed += size
      }
    }
    return { removedTemps, removedBlobs, bytesFreed }
  })
