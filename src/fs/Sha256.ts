/**
 * The one place nerve-store hashes content: the sha256 of a buffer, of a stream as it passes, of
 * a whole stream, and of an open file read in chunks. Blobs and archive days alike.
 *
 * @since 0.7.0
 */
import { Effect, Stream } from "effect"
import { createHash, hash } from "node:crypto"
import type { NodeFileHandle } from "./NodeFiles.ts"

/** A finished hash: lowercase sha256 hex and the number of bytes hashed. */
export interface Sha256Sum {
  readonly sha256: string
  readonly size: number
}

/** A running sha256 and byte count. `result` may be taken once. */
export interface Sha256Running {
  readonly update: (chunk: Uint8Array) => void
  readonly result: () => Sha256Sum
}

/**
 * The lowercase sha256 hex of `bytes`, in one call (`crypto.hash`: no `Hash` object, a few µs
 * less than `createHash(...).update(...).digest(...)` for a small buffer).
 *
 * @example
 * ```ts
 * sha256Hex(new Uint8Array(0)) // "e3b0c442…b855"
 * ```
 */
export const sha256Hex = (bytes: Uint8Array): string => hash("sha256", bytes, "hex")

/** A new running sha256. */
export const makeSha256 = (): Sha256Running => {
  const running = createHash("sha256")
  let size = 0
  return {
    update: (chunk) => {
      running.update(chunk)
      size += chunk.byteLength
    },
    result: () => ({ sha256: running.digest("hex"), size })
  }
}

/**
 * `content` unchanged, each chunk added to `sum` as it passes (read `sum.result()` after the
 * stream has ended).
 *
 * @example
 * ```ts
 * const sum = makeSha256()
 * yield* Stream.runDrain(hashing(content, sum))
 * sum.result() // { sha256, size }
 * ```
 */
export const hashing = <E, R>(content: Stream.Stream<Uint8Array, E, R>, sum: Sha256Running): Stream.Stream<Uint8Array, E, R> =>
  Stream.map(content, (chunk) => {
    sum.update(chunk)
    return chunk
  })

/** The sha256 and size of every byte of `content`. */
export const hashStream = <E, R>(content: Stream.Stream<Uint8Array, E, R>): Effect.Effect<Sha256Sum, E, R> =>
  Effect.suspend(() => {
    const sum = makeSha256()
    return Effect.map(Stream.runDrain(hashing(content, sum)), () => sum.result())
  })

/** Chunk size of hashing an open file. */
export const HASH_CHUNK_SIZE = 64 * 1024

/**
 * The sha256 and size of an open file from its start, read in `HASH_CHUNK_SIZE` chunks through
 * one reused buffer (explicit positions: the handle's own position is left alone).
 */
export const hashHandle = async (handle: NodeFileHandle): Promise<Sha256Sum> => {
  const sum = makeSha256()
  const buffer = new Uint8Array(HASH_CHUNK_SIZE)
  let position = 0
  while (true) {
    const { bytesRead } = await handle.read(buffer, 0, buffer.byteLength, position)
    if (bytesRead === 0) return sum.result()
    sum.update(buffer.subarray(0, bytesRead))
    position += bytesRead
  }
}
