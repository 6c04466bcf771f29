/**
 * Verified reads (cacache's `lib/content/read.js` is the model): every byte handed out has been
 * hashed and compared with the blob's name. `read` checks before returning; `stream` hashes as it
 * goes and fails at the end with `DigestMismatch`.
 *
 * @since 0.6.0
 */
import { Effect, Stream } from "effect"
import { createHash } from "node:crypto"
import type { BlobDigest } from "../../schema/Blob.ts"
import type { BlobStoreError } from "../../schema/Errors.ts"
import { type BlobNotFound, DigestMismatch } from "../../schema/Errors.ts"
import type { BlobEnv } from "./BlobEnv.ts"
import { ioErrorOrNotFound } from "./BlobEnv.ts"
import { CHUNK_SIZE, digestOf } from "./BlobHash.ts"

/** The blob's bytes, after checking that they hash to `digest`. */
export const readVerified = (
  env: BlobEnv,
  digest: BlobDigest,
  operation: string
): Effect.Effect<Uint8Array, BlobNotFound | DigestMismatch | BlobStoreError> => {
  const file = env.paths.blobPath(digest)
  return env.fs.readFile(file).pipe(
    Effect.mapError(ioErrorOrNotFound(operation, file, digest)),
    Effect.flatMap((bytes) => {
      const actual = digestOf(bytes)
      return actual === digest ? Effect.succeed(bytes) : Effect.fail(new DigestMismatch({ digest, actual, path: file }))
    })
  )
}

/**
 * The blob's bytes as a stream, hashed as they pass; after the last chunk the stream fails with
 * `DigestMismatch` if they did not hash to `digest`. A consumer must not act on the bytes
 * (execute, forward, trust) before the stream has ended successfully.
 */
export const streamVerified = (
  env: BlobEnv,
  digest: BlobDigest,
  operation: string
): Stream.Stream<Uint8Array, BlobNotFound | DigestMismatch | BlobStoreError> =>
  Stream.suspend(() => {
    const file = env.paths.blobPath(digest)
    const hash = createHash("sha256")
    const check = Effect.suspend(() => {
      const actual = hash.digest("hex")
      return actual === digest ? Effect.void : Effect.fail(new DigestMismatch({ digest, actual, path: file }))
    })
    return env.fs.stream(file, { chunkSize: CHUNK_SIZE }).pipe(
      Stream.mapError(ioErrorOrNotFound(operation, file, digest)),
      Stream.map((chunk) => {
        hash.update(chunk)
        return chunk
      }),
      Stream.concat(Stream.fromEffectDrain(check))
    )
  })
