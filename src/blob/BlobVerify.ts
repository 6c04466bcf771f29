/**
 * Checking one stored blob against its name, and quarantining it when it does not match: a
 * corrupt copy is moved to `<root>/quarantine/` (kept for inspection), never silently deleted.
 * Used by `verify`, `verifyAll` and by writes that find a corrupt copy to repair.
 *
 * @since 0.6.0
 */
import { Clock, Effect } from "effect"
import type { BlobDigest, BlobMismatch, BlobOk, BlobStoreError } from "../../schema/Blob.ts"
import type { BlobNotFound } from "../../schema/Errors.ts"
import { syncDirectory } from "../DurableFile.ts"
import type { BlobEnv } from "./BlobEnv.ts"
import { ioError, ioErrorOrNotFound, isNotFound } from "./BlobEnv.ts"
import { hashFile } from "./BlobRead.ts"

/** The sha256 and size of the stored blob. */
export const hashBlob = (
  env: BlobEnv,
  digest: BlobDigest,
  operation: string
): Effect.Effect<{ readonly sha256: string; readonly size: number }, BlobNotFound | BlobStoreError> => {
  const file = env.paths.blobPath(digest)
  return hashFile(env.fs, file).pipe(Effect.mapError(ioErrorOrNotFound(operation, file, digest)))
}

/**
 * Moves the blob file to a fresh name in the quarantine folder and makes the move durable.
 * Returns the new path, or `null` if the file was already gone (another process moved it).
 */
export const quarantine = (
  env: BlobEnv,
  digest: BlobDigest,
  operation: string
): Effect.Effect<string | null, BlobStoreError> =>
  Effect.gen(function*() {
    const { fs, paths } = env
    const file = paths.blobPath(digest)
    const target = paths.quarantinePath(digest, yield* Clock.currentTimeMillis)
    yield* fs.makeDirectory(paths.quarantineDir, { recursive: true }).pipe(
      Effect.mapError(ioError(operation, paths.quarantineDir))
    )
    const moved = yield* fs.rename(file, target).pipe(
      Effect.as(true),
      Effect.catchIf(isNotFound, () => Effect.succeed(false)),
      Effect.mapError(ioError(operation, file))
    )
    if (!moved) return null
    yield* Effect.provideContext(
      Effect.andThen(syncDirectory(paths.quarantineDir), syncDirectory(paths.shardDir(digest))),
      env.context
    ).pipe(Effect.mapError(ioError(operation, paths.quarantineDir)))
    yield* Effect.logWarning("BlobStore: quarantined a corrupt blob").pipe(
      Effect.annotateLogs({ digest, quarantinedTo: target })
    )
    return target
  })

/** Re-hashes the blob; a mismatch is quarantined and reported (not failed). */
export const checkBlob = (
  env: BlobEnv,
  digest: BlobDigest,
  operation: string
): Effect.Effect<BlobOk | BlobMismatch, BlobNotFound | BlobStoreError> =>
  Effect.flatMap(hashBlob(env, digest, operation), ({ sha256, size }): Effect.Effect<BlobOk | BlobMismatch, BlobStoreError> =>
    sha256 === digest
      ? Effect.succeed<BlobOk>({ _tag: "Ok", digest, size })
      : Effect.map(quarantine(env, digest, operation), (quarantinedTo): BlobMismatch => ({
        _tag: "Mismatch",
        digest,
        actual: sha256,
        path: env.paths.blobPath(digest),
        quarantinedTo
      })))
