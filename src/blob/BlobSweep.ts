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
import { Clock, Duration, Effect, Result, Stream } from "effect"
import type { Dirent } from "node:fs"
import type { BlobCheck, BlobDigest, BlobSuspicious, GcOptionsInput, GcResult, VerifyReport } from "../../schema/Blob.ts"
import { DEFAULT_TEMP_MAX_AGE, GcOptions } from "../../schema/Blob.ts"
import type { BlobStoreError, InvalidInput } from "../../schema/Errors.ts"
import { sweepTempFiles } from "../fs/DurableFile.ts"
import { inputDecoder } from "../domain/Validate.ts"
import type { BlobEnv } from "./BlobEnv.ts"
import { errnoOf } from "../fs/Errno.ts"
import { fromNodeError, isNotFound } from "../fs/PlatformErrors.ts"
import { toPlatformError, unlinkIfPresent } from "../fs/Step.ts"
import { ioError, isNotADirectory, SYMLINK_DETAIL } from "./BlobEnv.ts"
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

/** A name in a folder and what it is (links are not followed). */
interface Entry {
  readonly name: string
  readonly kind: "directory" | "file" | "symlink" | "other"
}

const kindOfDirent = (entry: Dirent): Entry["kind"] =>
  entry.isSymbolicLink() ? "symlink" : entry.isDirectory() ? "directory" : entry.isFile() ? "file" : "other"

/**
 * The entries of `directory`, sorted by name. A missing folder is empty; with `skipNonFolder`,
 * so is a plain file where a shard folder should be (it is not a blob, and must not stop a sweep).
 */
const readEntries = (
  env: BlobEnv,
  directory: string,
  operation: string,
  skipNonFolder: boolean
): Effect.Effect<ReadonlyArray<Entry>, BlobStoreError> =>
  Effect.tryPromise({
    try: () => env.files.readdir(directory, { withFileTypes: true }),
    catch: (error) => fromNodeError("readDirectory", directory, error)
  }).pipe(
    Effect.map((entries) =>
      entries.map((entry): Entry => ({ name: entry.name, kind: kindOfDirent(entry) })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    ),
    Effect.catchIf(
      (error) => isNotFound(error) || (skipNonFolder && isNotADirectory(error)),
      () => Effect.succeed<ReadonlyArray<Entry>>([])
    ),
    Effect.mapError(ioError(operation, directory))
  )

/** A blob found in a shard folder: its digest and what its entry is. */
interface Found {
  readonly digest: BlobDigest
  readonly kind: Entry["kind"]
}

const suspiciousShard = (path: string): BlobSuspicious => ({
  path,
  reason: `a symbolic link where a shard folder should be: not followed (${SYMLINK_DETAIL})`
})

/**
 * The real shard folders of the root, in order. A shard name that is a symbolic link is handed
 * to `onSuspicious` and never entered.
 */
const shards = (
  env: BlobEnv,
  operation: string,
  onSuspicious: (found: BlobSuspicious) => void
): Effect.Effect<ReadonlyArray<string>, BlobStoreError> =>
  Effect.map(readEntries(env, env.paths.root, operation, false), (entries) => {
    const names: Array<string> = []
    for (const entry of entries) {
      if (!isShardName(entry.name)) continue
      const shard = env.paths.inRoot(entry.name)
      if (entry.kind === "symlink") onSuspicious(suspiciousShard(shard))
      else if (entry.kind === "directory") names.push(entry.name)
    }
    return names
  })

/** Every blob entry of every real shard folder, in digest order, one folder at a time. */
const walk = (env: BlobEnv, operation: string, onSuspicious: (found: BlobSuspicious) => void): Stream.Stream<Found, BlobStoreError> =>
  Stream.fromIterableEffect(shards(env, operation, onSuspicious)).pipe(
    Stream.flatMap((shard) =>
      Stream.fromIterableEffect(
        Effect.map(readEntries(env, env.paths.inRoot(shard), operation, true), (entries) => {
          const found: Array<Found> = []
          for (const entry of entries) {
            const digest = digestOfEntry(shard, entry.name)
            if (digest !== undefined) found.push({ digest, kind: entry.kind })
          }
          return found
        })
      )
    )
  )

/** Every stored digest, in order, one shard folder at a time (links are skipped, never followed). */
export const listDigests = (env: BlobEnv, operation: string): Stream.Stream<BlobDigest, BlobStoreError> =>
  Stream.suspend(() => {
    const skipped: Array<BlobSuspicious> = []
    return walk(env, operation, (found) => void skipped.push(found)).pipe(
      Stream.filter((found) => found.kind === "file"),
      Stream.map((found) => found.digest),
      Stream.concat(Stream.fromEffectDrain(Effect.suspend(() =>
        skipped.length === 0
          ? Effect.void
          : Effect.logWarning("BlobStore: skipped symbolic links in the blob root").pipe(
            Effect.annotateLogs({ paths: skipped.map((s) => s.path) })
          )
      )))
    )
  })

/** Hashes one blob for `verifyAll`; `undefined` when it vanished since it was listed. */
const checkForReport = (
  env: BlobEnv,
  found: Found,
  operation: string
): Effect.Effect<BlobCheck | undefined, BlobStoreError> =>
  Effect.gen(function*() {
    const { digest } = found
    const path = env.paths.blobPath(digest)
    if (found.kind === "symlink") {
      return { _tag: "Unreadable", digest, path, reason: `a symbolic link under a blob name: not followed (${SYMLINK_DETAIL})` } satisfies BlobCheck
    }
    const hashed = yield* Effect.result(hashBlob(env, digest, operation))
    if (Result.isFailure(hashed)) {
      const error = hashed.failure
      if (error._tag === "BlobNotFound") return undefined
      return { _tag: "Unreadable", digest, path, reason: error.message } satisfies BlobCheck
    }
    const { sha256, size } = hashed.success
    if (sha256 === digest) return { _tag: "Ok", digest, size } satisfies BlobCheck
    return yield* quarantineMismatch(env, digest, sha256, operation)
  })

/** Re-hashes every blob; corrupt ones are quarantined. Entries are in digest order. */
export const verifyAll = (env: BlobEnv, operation: string): Effect.Effect<VerifyReport, BlobStoreError> =>
  Effect.suspend(() => {
    const suspicious: Array<BlobSuspicious> = []
    return walk(env, operation, (found) => void suspicious.push(found)).pipe(
      Stream.mapEffect((found) => checkForReport(env, found, operation), { concurrency: VERIFY_CONCURRENCY }),
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
        return { entries, suspicious, totals }
      })
    )
  })

/** Removes the blob entry `file` (a link is removed as a link) and returns its size, or `undefined` if it is gone. */
const removeEntry = (env: BlobEnv, file: string, operation: string): Effect.Effect<number | undefined, BlobStoreError> =>
  Effect.tryPromise({
    try: async () => {
      const info = await env.files.lstat(file).catch((error: unknown) => {
        if (errnoOf(error) === "ENOENT") return undefined
        throw error
      })
      if (info === undefined) return undefined
      return (await unlinkIfPresent(env.files, file)) ? info.size : undefined
    },
    catch: (error) => ioError(operation, file)(toPlatformError(file)(error))
  })

/** What `sweepTemps` removed. */
export interface TempSweep {
  readonly removed: ReadonlyArray<string>
  readonly bytes: number
  readonly suspicious: ReadonlyArray<BlobSuspicious>
}

/**
 * The one temp-file rule of the blob store (`gc` and the sweep when the store opens): removes
 * temp files (`.tmp.*`) last modified before `cutoffMs` from the root and every real shard
 * folder (`DurableFile.sweepTempFiles`). Linked shard folders are reported, not entered.
 */
export const sweepTemps = (env: BlobEnv, cutoffMs: number, operation: string): Effect.Effect<TempSweep, BlobStoreError> =>
  Effect.gen(function*() {
    const suspicious: Array<BlobSuspicious> = []
    const folders = [env.paths.root, ...(yield* shards(env, operation, (found) => void suspicious.push(found))).map(env.paths.inRoot)]
    const removed: Array<string> = []
    let bytes = 0
    for (const folder of folders) {
      const swept = yield* Effect.provideContext(sweepTempFiles(folder, cutoffMs), env.context).pipe(
        Effect.catchIf(isNotADirectory, () => Effect.succeed({ removed: [], bytes: 0 })),
        Effect.mapError(ioError(operation, folder))
      )
      removed.push(...swept.removed)
      bytes += swept.bytes
    }
    return { removed, bytes, suspicious }
  })

/**
 * Removes temp files at least `tempOlderThan` old (by mtime, against the Effect `Clock`) from
 * the root and every shard folder, and, when `live` is given, every blob not in it. Shard
 * folders that are symbolic links are reported in `suspicious` and never entered.
 */
export const gc = (
  env: BlobEnv,
  options: GcOptionsInput | undefined,
  operation: string
): Effect.Effect<GcResult, InvalidInput | BlobStoreError> =>
  Effect.gen(function*() {
    const { live, tempMaxAgeMs } = yield* decodeGcOptions(options)
    const cutoff = (yield* Clock.currentTimeMillis) - tempMaxAgeMs
    const temps = yield* sweepTemps(env, cutoff, operation)
    const removedBlobs: Array<BlobDigest> = []
    let bytesFreed = temps.bytes
    if (live !== undefined) {
      const blobs = yield* Stream.runCollect(walk(env, operation, () => undefined))
      for (const { digest } of blobs) {
        if (live.has(digest)) continue
        const size = yield* removeEntry(env, env.paths.blobPath(digest), operation)
        if (size === undefined) continue
        removedBlobs.push(digest)
        bytesFreed += size
      }
    }
    return { removedTemps: temps.removed, removedBlobs, bytesFreed, suspicious: temps.suspicious }
  })
