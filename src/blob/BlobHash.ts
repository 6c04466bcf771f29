/**
 * Hashing for the blob store: the one-shot sha256 of a buffer (as a `BlobDigest`) and the
 * chunked sha256 of a file. Incremental hashing of streams stays next to the streams
 * (`DurableFile.writeTemp`, `BlobRead.streamVerified`).
 *
 * @since 0.6.0
 */
import { Effect, type FileSystem } from "effect"
import type { PlatformError } from "effect/PlatformError"
import { createHash, hash } from "node:crypto"
import { BlobDigest } from "../../schema/Blob.ts"

/** Chunk size of `stream` and of hashing a file. */
export const CHUNK_SIZE = 64 * 1024

/**
 * The digest of `bytes`: their lowercase sha256 hex, which is a `BlobDigest` by construction.
 *
 * @example
 * ```ts
 * digestOf(new Uint8Array(0)) // "e3b0c442…b855"
 * ```
 */
export const digestOf = (bytes: Uint8Array): BlobDigest => BlobDigest.make(sha256Hex(bytes), { disableChecks: true })

/**
 * The lowercase sha256 hex of `bytes`, in one call (`crypto.hash`: no `Hash` object, a few µs
 * less than `createHash(...).update(...).digest(...)` for a small blob).
 */
export const sha256Hex = (bytes: Uint8Array): string => hash("sha256", bytes, "hex")

/** A finished sha256 (lowercase hex) as a `BlobDigest`. */
export const digestOfHex = (hex: string): BlobDigest => BlobDigest.make(hex, { disableChecks: true })

/** The sha256 and size of a file, read in fixed-size chunks through one reused buffer. */
export const hashFile = (
  fs: FileSystem.FileSystem,
  file: string
): Effect.Effect<{ readonly sha256: string; readonly size: number }, PlatformError> =>
  Effect.scoped(Effect.gen(function*() {
    const handle = yield* fs.open(file, { flag: "r" })
    const hash = createHash("sha256")
    const buffer = new Uint8Array(CHUNK_SIZE)
    let size = 0
    while (true) {
      const read = yield* handle.read(buffer)
      if (read === 0) break
      hash.update(buffer.subarray(0, read))
      size += read
    }
    return { sha256: hash.digest("hex"), size }
  }))
