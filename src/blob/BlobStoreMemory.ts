/**
 * The BlobStore in a `Map`, for tests of code that uses the store: the same digests, the same
 * errors for invalid digests and missing blobs, the same listing order and `gc` behaviour. Bytes
 * are copied in and out, so a caller that reuses its buffers cannot change a stored blob — which
 * is why a memory blob is never corrupt, and `verify` always reports `Ok`. There are no temp
 * files: `gc` only removes blobs outside the live set.
 *
 * @since 0.6.0
 */
import * as Metrics from "../Metrics.ts"
import { Clock, Effect, Layer, Stream } from "effect"
import { hashStream } from "../fs/Sha256.ts"
import type { BlobCheck, BlobDigest, BlobOk, BlobStat, GcOptionsInput } from "../../schema/Blob.ts"
import { parseDigest } from "../../schema/Blob.ts"
import { BlobNotFound } from "../../schema/Errors.ts"
import { BlobStore, type BlobStoreShape } from "../BlobStore.ts"
import { CHUNK_SIZE, digestOf, digestOfHex } from "./BlobHash.ts"
import { decodeGcOptions } from "./BlobSweep.ts"

interface Entry {
  readonly bytes: Uint8Array
  readonly mtimeMs: number
}

const utf8 = new TextEncoder()

/**
 * Builds an empty in-memory BlobStore.
 *
 * @example
 * ```ts
 * const blobs = yield* make
 * ```
 */
export const make: Effect.Effect<BlobStoreShape> = Effect.sync((): BlobStoreShape => {
  const blobs = new Map<BlobDigest, Entry>()

  const store = (digest: BlobDigest, bytes: Uint8Array) =>
    Effect.map(Clock.currentTimeMillis, (mtimeMs) => {
      if (!blobs.has(digest)) blobs.set(digest, { bytes, mtimeMs })
      return digest
    })

  const lookup = (input: string) =>
    Effect.flatMap(parseDigest(input), (digest) => {
      const entry = blobs.get(digest)
      return entry === undefined ? Effect.fail(new BlobNotFound({ digest })) : Effect.succeed({ digest, entry })
    })

  const sorted = (): Array<BlobDigest> => [...blobs.keys()].sort()

  return {
    write: Effect.fn("BlobStore.write")(function*(content: string | Uint8Array) {
      const bytes = typeof content === "string" ? utf8.encode(content) : content.slice()
      yield* Metrics.recordBlobWritten(bytes.byteLength)
      return yield* store(digestOf(bytes), bytes)
    }),
    writeStream: (content) =>
      Effect.gen(function*() {
        const chunks: Array<Uint8Array> = []
        const { sha256, size } = yield* hashStream(Stream.map(content, (chunk) => {
          chunks.push(chunk.slice())
          return chunk
        }))
        const bytes = new Uint8Array(size)
        let offset = 0
        for (const chunk of chunks) {
          bytes.set(chunk, offset)
          offset += chunk.byteLength
        }
        return yield* store(digestOfHex(sha256), bytes)
      }).pipe(Effect.withSpan("BlobStore.writeStream")),
    read: Effect.fn("BlobStore.read")(function*(input: string) {
      const bytes = (yield* lookup(input)).entry.bytes.slice()
      yield* Metrics.recordBlobRead(bytes.byteLength)
      return bytes
    }),
    stream: (input) =>
      Stream.unwrap(Effect.map(lookup(input), ({ entry }) => {
        const chunks: Array<Uint8Array> = []
        for (let offset = 0; offset < entry.bytes.byteLength; offset += CHUNK_SIZE) {
          chunks.push(entry.bytes.slice(offset, offset + CHUNK_SIZE))
        }
        return Stream.fromIterable(chunks)
      })).pipe(Stream.withSpan("BlobStore.stream")),
    exists: Effect.fn("BlobStore.exists")(function*(input: string) {
      return blobs.has(yield* parseDigest(input))
    }),
    verify: Effect.fn("BlobStore.verify")(function*(input: string) {
      const { digest, entry } = yield* lookup(input)
      const ok: BlobOk = { _tag: "Ok", digest, size: entry.bytes.byteLength }
      return ok
    }),
    stat: Effect.fn("BlobStore.stat")(function*(input: string) {
      const { digest, entry } = yield* lookup(input)
      const stat: BlobStat = { digest, size: entry.bytes.byteLength, mtime: new Date(entry.mtimeMs) }
      return stat
    }),
    delete: Effect.fn("BlobStore.delete")(function*(input: string) {
      return blobs.delete(yield* parseDigest(input))
    }),
    list: () => Stream.suspend(() => Stream.fromIterable(sorted())).pipe(Stream.withSpan("BlobStore.list")),
    verifyAll: Effect.fn("BlobStore.verifyAll")(function*() {
      const entries: Array<BlobCheck> = []
      let bytes = 0
      for (const digest of sorted()) {
        const size = blobs.get(digest)?.bytes.byteLength ?? 0
        entries.push({ _tag: "Ok", digest, size })
        bytes += size
      }
      const n = entries.length
      return { entries, suspicious: [], totals: { checked: n, ok: n, mismatch: 0, unreadable: 0, bytes } }
    }),
    gc: Effect.fn("BlobStore.gc")(function*(options?: GcOptionsInput) {
      const { live } = yield* decodeGcOptions(options) // same decoding as the file store
      const removedBlobs: Array<BlobDigest> = []
      let bytesFreed = 0
      if (live !== undefined) {
        for (const digest of sorted()) {
          if (live.has(digest)) continue
          bytesFreed += blobs.get(digest)?.bytes.byteLength ?? 0
          blobs.delete(digest)
          removedBlobs.push(digest)
        }
      }
      return { removedTemps: [], removedBlobs, bytesFreed, suspicious: [] }
    })
  }
})

/** Blobs in a `Map`, with the same observable behaviour; a fresh, empty store for each provide. */
export const layer: Layer.Layer<BlobStore> = Layer.effect(BlobStore, make)
