/**
 * Checking one stored blob against its name, and quarantining it when it does not match: a
 * corrupt copy is moved to `<root>/quarantine/` (kept for inspection), never silently deleted.
 * Used by `verify`, `verifyAll` and by writes that find a corrupt copy to repair.
 *
 * **Racing a repair.** Between hashing a corrupt copy and moving it away, a concurrent `write` of
 * the same content (this process or another) may quarantine that copy itself and publish a good
 * one under the blob name. Moving "whatever is under the name now" would then quarantine the good
 * copy. So the move comes first and the check second: the file under the blob name is renamed
 * into quarantine (atomic — exactly one file is moved, and no writer can change it afterwards),
 * the quarantined copy is hashed, and if it turns out good it is put back with a no-clobber link
 * (`EEXIST` means another good copy already took the name) and the check reports `Ok`. A good
 * copy is therefore never left only in quarantine; for the moment between the rename and the
 * link, a concurrent read may find no blob.
 *
 * @since 0.6.0
 */
import * as Metrics from "../Metrics.ts"
import { Clock, Effect } from "effect"
import type { BlobDigest, BlobMismatch, BlobOk } from "../../schema/Blob.ts"
import { type BlobNotFound, BlobStoreError } from "../../schema/Errors.ts"
import { DIRECTORY_MODE, placeNoClobber, syncDirectory } from "../fs/DurableFile.ts"
import { runWith, step, unlinkIfPresent } from "../fs/Step.ts"
import type { BlobEnv } from "./BlobEnv.ts"
import { fromNodeError, isNotFound } from "../fs/PlatformErrors.ts"
import { classifyPlatformError, ioError, symbolicLinkRefused } from "./BlobEnv.ts"
import { checkShard, kindOf, openBlob } from "./BlobFiles.ts"
import { hashFile } from "./BlobHash.ts"
import { hashHandle } from "../fs/Sha256.ts"

/** The sha256 and size of the stored blob. */
export const hashBlob = (
  env: BlobEnv,
  digest: BlobDigest,
  operation: string
): Effect.Effect<{ readonly sha256: string; readonly size: number }, BlobNotFound | BlobStoreError> => {
  const file = env.paths.blobPath(digest)
  return Effect.scoped(Effect.flatMap(openBlob(env, digest, operation), (handle) =>
    Effect.tryPromise({
      try: () => hashHandle(handle),
      catch: (error) => classifyPlatformError(operation, file, fromNodeError("read", file, error))
    })))
}

/**
 * Renames the file under the blob name to a fresh name in the quarantine folder (not yet
 * fsynced). Returns the new path, or `null` if no file was there any more.
 */
const moveToQuarantine = (env: BlobEnv, digest: BlobDigest, operation: string): Effect.Effect<string | null, BlobStoreError> =>
  Effect.gen(function*() {
    const { paths } = env
    const file = paths.blobPath(digest)
    const target = paths.quarantinePath(digest, yield* Clock.currentTimeMillis)
    // Neither the shard folder nor quarantine/ may be a link: the move must stay inside the root.
    if ((yield* checkShard(env, digest, operation)) === "absent") return null
    yield* runWith(env.files, paths.quarantineDir, (files) =>
      step("makeDirectory", paths.quarantineDir, () => files.mkdir(paths.quarantineDir, { recursive: true, mode: DIRECTORY_MODE }))).pipe(
        Effect.mapError(ioError(operation, paths.quarantineDir))
      )
    const kind = yield* kindOf(env, paths.quarantineDir, operation)
    if (kind === "symlink") return yield* Effect.fail(symbolicLinkRefused(operation, paths.quarantineDir))
    if (kind !== "directory") {
      return yield* new BlobStoreError({
        operation,
        path: paths.quarantineDir,
        reason: "notADirectory",
        code: null,
        detail: "quarantine/ is not a folder"
      })
    }
    return yield* runWith(env.files, file, (files) => step("rename", file, () => files.rename(file, target))).pipe(
      Effect.as<string | null>(target),
      Effect.catchIf(isNotFound, () => Effect.succeed(null)),
      Effect.mapError(ioError(operation, file))
    )
  })

/** fsyncs the quarantine folder and the blob's shard folder, so the move is durable. */
const syncMove = (env: BlobEnv, digest: BlobDigest, operation: string): Effect.Effect<void, BlobStoreError> =>
  Effect.provideContext(
    Effect.andThen(syncDirectory(env.paths.quarantineDir), syncDirectory(env.paths.shardDir(digest))),
    env.context
  ).pipe(Effect.mapError(ioError(operation, env.paths.quarantineDir)))

/**
 * Puts the quarantined copy `moved` back under the blob name unless a copy is already there.
 * The quarantine name is then dropped if `moved` is now the blob, or — with `dropDuplicate`, for
 * a copy known to be good — if another copy already held the name.
 */
const putBack = (
  env: BlobEnv,
  digest: BlobDigest,
  moved: string,
  operation: string,
  dropDuplicate: boolean
): Effect.Effect<void, BlobStoreError> =>
  Effect.gen(function*() {
    const file = env.paths.blobPath(digest)
    // "existed": a writer published a (good) copy meanwhile.
    const outcome = yield* Effect.provideContext(placeNoClobber(moved, file), env.context).pipe(
      Effect.mapError(ioError(operation, file))
    )
    if (outcome === "existed" && !dropDuplicate) return yield* syncMove(env, digest, operation)
    yield* runWith(env.files, moved, (files) => unlinkIfPresent(files, moved)).pipe(Effect.mapError(ioError(operation, moved)))
    yield* syncMove(env, digest, operation)
  })

/**
 * The blob `digest` hashed to `actual` when it was checked. Moves the file under its name into
 * quarantine and hashes the moved copy: still wrong → `Mismatch` (quarantined, durably); right
 * after all (a concurrent write repaired the blob in between) → put back, `Ok`.
 */
export const quarantineMismatch = (
  env: BlobEnv,
  digest: BlobDigest,
  actual: string,
  operation: string
): Effect.Effect<BlobOk | BlobMismatch, BlobStoreError> =>
  Effect.gen(function*() {
    yield* Metrics.recordDigestMismatch
    const path = env.paths.blobPath(digest)
    const moved = yield* moveToQuarantine(env, digest, operation)
    // Gone already: another verify or write moved it first.
    if (moved === null) return { _tag: "Mismatch", digest, actual, path, quarantinedTo: null } satisfies BlobMismatch
    const rehashed = yield* hashFile(env.files, moved).pipe(
      Effect.mapError(ioError(operation, moved)),
      // Unknown content must not stay only in quarantine: reads verify, so putting it back is safe.
      Effect.tapError(() => Effect.ignore(putBack(env, digest, moved, operation, false)))
    )
    if (rehashed.sha256 === digest) {
      yield* putBack(env, digest, moved, operation, true)
      yield* Effect.logDebug("BlobStore: a concurrent write repaired the blob being quarantined; kept it").pipe(
        Effect.annotateLogs({ digest })
      )
      return { _tag: "Ok", digest, size: rehashed.size } satisfies BlobOk
    }
    yield* syncMove(env, digest, operation)
    yield* Effect.logWarning("BlobStore: quarantined a corrupt blob").pipe(
      Effect.annotateLogs({ digest, quarantinedTo: moved })
    )
    return { _tag: "Mismatch", digest, actual: rehashed.sha256, path, quarantinedTo: moved } satisfies BlobMismatch
  })

/** Re-hashes the blob; a mismatch is quarantined and reported (not failed). */
export const checkBlob = (
  env: BlobEnv,
  digest: BlobDigest,
  operation: string
): Effect.Effect<BlobOk | BlobMismatch, BlobNotFound | BlobStoreError> =>
  Effect.flatMap(
    hashBlob(env, digest, operation),
    ({ sha256, size }): Effect.Effect<BlobOk | BlobMismatch, BlobStoreError> =>
      sha256 === digest
        ? Effect.succeed<BlobOk>({ _tag: "Ok", digest, size })
        : quarantineMismatch(env, digest, sha256, operation)
  )
