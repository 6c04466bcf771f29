/**
 * Verified reads (cacache's `lib/content/read.js` is the model): every byte handed out has been
 * hashed and compared with the blob's name. `read` checks before returning; `stream` hashes as it
 * goes and fails at the end with `DigestMismatch`.
 *
 * @since 0.6.0
 */
import { Effect, Option, Stream } from "effect"
import type { BlobDigest } from "../../schema/Blob.ts"
import type { BlobStoreError } from "../../schema/Errors.ts"
import { type BlobNotFound, DigestMismatch } from "../../schema/Errors.ts"
import type { BlobEnv } from "./BlobEnv.ts"
import { openBlob, readBlobFile, readChunk } from "./BlobFiles.ts"
import { CHUNK_SIZE, sha256Hex } from "./BlobHash.ts"
import { hashing, makeSha256 } from "../fs/Sha256.ts"

/**
 * The blob's bytes, after checking that they hash to `digest`: one `Effect.callback` around the
 * whole read (`readBlobFile`), hashed in one call when the bytes arrive.
 */
export const readVerified = (
  env: BlobEnv,
  digest: BlobDigest,
  operation: string
): Effect.Effect<Uint8Array, BlobNotFound | DigestMismatch | BlobStoreError> =>
  Effect.callback((resume) =>
    readBlobFile(env, digest, operation, (result) => {
      if (!(result instanceof Uint8Array)) return resume(Effect.fail(result))
      const actual = sha256Hex(result)
      resume(actual === digest ? Effect.succeed(result) : Effect.fail(new DigestMismatch({ digest, actual, path: env.paths.blobPath(digest) })))
    })
  )

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
    const sum = makeSha256()
    const check = Effect.suspend(() => {
      const actual = sum.result().sha256
      return actual === digest ? Effect.void : Effect.fail(new DigestMismatch({ digest, actual, path: file }))
    })
    const chunks = Stream.unwrap(Effect.map(openBlob(env, digest, operation), (handle) =>
      Stream.paginate(0, (position: number) => {
        // A fresh buffer per chunk: the consumer may keep it.
        const buffer = new Uint8Array(CHUNK_SIZE)
        return Effect.map(readChunk(handle, buffer, position, file, operation), (read) =>
          [
            read === 0 ? [] : [buffer.subarray(0, read)],
            read === 0 ? Option.none<number>() : Option.some(position + read)
          ] as const)
      })))
    return hashing(chunks, sum).pipe(Stream.concat(Stream.fromEffectDrain(check)))
  })
