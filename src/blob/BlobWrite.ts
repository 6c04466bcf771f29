/**
 * The publish protocol of a blob (cacache's `lib/content/write.js` and git's
 * `finalize_object_file` are the models). The bytes go through `DurableFile`, the one place a
 * file appears under its final name:
 *
 * 1. `write(bytes)` knows its digest up front: `createNoClobber` opens the shard folder (refusing
 *    a symbolic link, creating it 0700 when missing), writes a fresh `.tmp.<128-bit hex>` file
 *    (`wx`, 0600) beside the blob name, fsyncs it, links it to `<2 hex>/<62 hex>` without
 *    clobbering, drops the temp name and fsyncs the folder — one step, one round of `node:fs`
 *    calls. What is written is what was hashed: a private copy of the caller's bytes (or, above
 *    `SNAPSHOT_LIMIT`, the caller's buffer, hashed again before the link). `writeStream` learns
 *    its digest only at the last byte, so its temp file is in the root folder (same file system,
 *    so the link still works), hashed on the way (`writeTemp`), then `publish(..., "no-clobber")`.
 * 2. If the name already existed (content written before, or by a concurrent writer, fiber or
 *    process), the stored copy is re-hashed. A good copy makes the write a no-op (idempotent);
 *    a corrupt one is moved to `quarantine/` and ours is published in its place, so writing
 *    repairs it. (`writeStream` checks before publishing, while it still has its temp file.)
 *
 * A failure at any step removes our temp file, and nothing partial is ever visible under a blob
 * name (a failed folder fsync after the link leaves the complete blob, not yet durable).
 *
 * @since 0.6.0
 */
import { Effect, Stream } from "effect"
import { isPlatformError, type PlatformError } from "effect/PlatformError"
import type { BlobDigest } from "../../schema/Blob.ts"
import { BlobStoreError } from "../../schema/Errors.ts"
import { createNoClobber, makeDirectoryDurable, publish, type PublishOutcome, removeFile, type TempFile, writeTemp } from "../fs/DurableFile.ts"
import type { BlobEnv } from "./BlobEnv.ts"
import { isNotFound } from "../fs/PlatformErrors.ts"
import { classifyPlatformError, ioError, ioErrorAt, isSymbolicLinkError, symbolicLinkRefused } from "./BlobEnv.ts"
import { digestOf, digestOfHex } from "./BlobHash.ts"
import { checkBlob } from "./BlobVerify.ts"

/** Wraps a failure of the caller's stream so it passes through untouched (even a PlatformError). */
class SourceFailure<E> {
  readonly _tag = "BlobStore/SourceFailure"
  readonly error: E
  constructor(error: E) {
    this.error = error
  }
}

/** Whether a good copy of `digest` is already stored. A corrupt copy is quarantined first. */
const hasGoodCopy = (env: BlobEnv, digest: BlobDigest, operation: string): Effect.Effect<boolean, BlobStoreError> =>
  checkBlob(env, digest, operation).pipe(
    Effect.map((check) => check._tag === "Ok"),
    Effect.catchTag("BlobNotFound", () => Effect.succeed(false))
  )

/** Creates `directory` (and the root) durably, then runs `attempt` once more. */
const retryInNewDirectory = <A, E, R>(
  env: BlobEnv,
  directory: string,
  attempt: Effect.Effect<A, E, R>
): Effect.Effect<A, E | PlatformError, R> =>
  Effect.andThen(Effect.provideContext(makeDirectoryDurable(directory), env.context), attempt)

/**
 * `writeTemp` in `directory`; when the folder is missing (ENOENT before the source was read),
 * creates it and tries once more.
 */
const writeTempIn = <E, R>(
  env: BlobEnv,
  directory: string,
  content: Stream.Stream<Uint8Array, E, R>
): Effect.Effect<TempFile, E | PlatformError, R> => {
  let started = false
  const source = Stream.suspend(() => {
    started = true
    return content
  })
  const attempt = Effect.provideContext(writeTemp(directory, source), env.context)
  return attempt.pipe(
    Effect.catchIf(
      (error): error is PlatformError => isPlatformError(error) && isNotFound(error) && !started,
      () => retryInNewDirectory(env, directory, attempt)
    )
  )
}

/**
 * Publishes the temp file as the blob `digest` (no clobber), creating a missing shard folder.
 * On failure the temp file is gone (`publish` removes it).
 */
const publishBlob = (
  env: BlobEnv,
  tempPath: string,
  digest: BlobDigest,
  operation: string
): Effect.Effect<PublishOutcome, BlobStoreError> => {
  const finalPath = env.paths.blobPath(digest)
  return Effect.provideContext(
    publish(tempPath, finalPath, "no-clobber", { createDirectory: true, noFollowDirectory: true }),
    env.context
  ).pipe(
    Effect.mapError((error) =>
      isSymbolicLinkError(error) ? symbolicLinkRefused(operation, env.paths.shardDir(digest)) : ioErrorAt(operation, finalPath)(error)
    )
  )
}

/** Removes our temp file if `self` fails or is interrupted. */
const cleanupOnFailure = <A, E, R>(env: BlobEnv, tempPath: string, self: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Effect.onExit(self, (exit) => exit._tag === "Success" ? Effect.void : Effect.ignore(removeTemp(env, tempPath)))

/** Removes a temp file of ours (a missing one is fine). */
const removeTemp = (env: BlobEnv, tempPath: string): Effect.Effect<boolean, PlatformError> =>
  Effect.provideContext(removeFile(tempPath), env.context)

/** How many times `writeBytes` replaces a corrupt copy before giving up (another writer keeps corrupting it). */
const MAX_REPAIRS = 3

/**
 * Inputs up to this size are copied before they are hashed and written (copying 4 KiB costs
 * ~2 µs; hashing them again after the write, ~20 µs). Larger ones are written from the caller's
 * buffer and hashed again after the write, instead of doubling their memory.
 */
export const SNAPSHOT_LIMIT = 1024 * 1024

/**
 * Stores `content`. The digest is known up front, so the temp file goes straight into the shard
 * folder and is published at once; only when the name already exists is the stored copy
 * re-hashed (and, if corrupt, quarantined and replaced). New content thus costs no more I/O than
 * the durable steps themselves; a duplicate costs a temp write and a hash of the stored copy.
 *
 * What is hashed is what is written: `owned` bytes (nobody else holds them, e.g. a string the
 * store encoded) and copies of inputs up to `SNAPSHOT_LIMIT` cannot change meanwhile. A larger
 * caller's buffer must not change until the Effect completes: the bytes are hashed again after
 * the temp write, and a change is a defect (nothing is published).
 */
export const writeBytes = (
  env: BlobEnv,
  content: Uint8Array,
  operation: string,
  options?: { readonly owned?: boolean }
): Effect.Effect<BlobDigest, BlobStoreError> =>
  Effect.suspend(() => {
    const owned = options?.owned === true
    const snapshot = owned || content.byteLength <= SNAPSHOT_LIMIT
    const bytes = snapshot && !owned ? Buffer.from(content) : content
    const digest = digestOf(bytes)
    const finalPath = env.paths.blobPath(digest)
    const create = createNoClobber(finalPath, bytes, {
      createDirectory: true,
      noFollowDirectory: true,
      files: env.files,
      ...(snapshot ? {} : { expectedSha256: digest })
    }).pipe(Effect.mapError((error) => isSymbolicLinkError(error) ? symbolicLinkRefused(operation, env.paths.shardDir(digest)) : ioErrorAt(operation, finalPath)(error)))
    const attempt = (repairs: number): Effect.Effect<BlobDigest, BlobStoreError> =>
      Effect.flatMap(create, (outcome) => {
        if (outcome === "created") return Effect.succeed(digest)
        if (outcome === "changed") return Effect.die(`BlobStore.write: the bytes changed while they were being written (${digest})`)
        // "existed": the stored copy is trusted only after re-hashing it; a corrupt one is
        // quarantined by checkBlob, and the next attempt publishes ours in its place.
        return Effect.flatMap(hasGoodCopy(env, digest, operation), (good) => {
          if (good) return Effect.succeed(digest)
          if (repairs < MAX_REPAIRS) return attempt(repairs + 1)
          return Effect.fail(
            new BlobStoreError({
              operation,
              path: finalPath,
              reason: "other",
              code: null,
              detail: `the stored copy was corrupt again after ${MAX_REPAIRS} repairs`
            })
          )
        })
      })
    return attempt(0)
  })

/** Stores the bytes of `content` in constant memory; the caller's stream errors pass through as they are. */
export const writeStream = <E, R>(
  env: BlobEnv,
  content: Stream.Stream<Uint8Array, E, R>,
  operation: string
): Effect.Effect<BlobDigest, E | BlobStoreError, R> =>
  Effect.gen(function*() {
    const root = env.paths.root
    const wrapped = Stream.mapError(content, (error) => new SourceFailure(error))
    const temp = yield* writeTempIn(env, root, wrapped).pipe(
      Effect.mapError((error): E | BlobStoreError =>
        error instanceof SourceFailure ? error.error : classifyPlatformError(operation, root, error)
      )
    )
    const digest = digestOfHex(temp.sha256)
    return yield* cleanupOnFailure(
      env,
      temp.path,
      Effect.gen(function*() {
        if (yield* hasGoodCopy(env, digest, operation)) {
          yield* removeTemp(env, temp.path).pipe(Effect.mapError(ioError(operation, temp.path)))
          return digest
        }
        yield* publishBlob(env, temp.path, digest, operation)
        return digest
      })
    )
  })
