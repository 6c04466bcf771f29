/**
 * The BlobStore on the Effect `FileSystem`: blobs at `<root>/<2 hex>/<62 hex>`. The root folder
 * is created by the first write; reading from a root that does not exist finds nothing.
 *
 * @since 0.6.0
 */
import { Effect, type FileSystem, Layer, Option, type Path, Stream } from "effect"
import type { BlobStat, GcOptionsInput } from "../../schema/Blob.ts"
import { parseDigest } from "../../schema/Blob.ts"
import { BlobStore, type BlobStoreShape } from "../BlobStore.ts"
import { ioError, ioErrorOrNotFound, isAbsent, makeBlobEnv } from "./BlobEnv.ts"
import { readVerified, streamVerified } from "./BlobRead.ts"
import { gc, listDigests, verifyAll } from "./BlobSweep.ts"
import { checkBlob } from "./BlobVerify.ts"
import { writeBytes, writeStream } from "./BlobWrite.ts"

const utf8 = new TextEncoder()

/**
 * Builds a file-system BlobStore on `root`.
 *
 * @example
 * ```ts
 * const blobs = yield* make("/var/lib/nerve/blobs")
 * ```
 */
export const make = (
  root: string
): Effect.Effect<BlobStoreShape, never, FileSystem.FileSystem | Path.Path> =>
  Effect.map(makeBlobEnv(root), (env): BlobStoreShape => {
    const { fs, paths } = env
    return {
      write: Effect.fn("BlobStore.write")(function*(content: string | Uint8Array) {
        return yield* writeBytes(env, typeof content === "string" ? utf8.encode(content) : content, "BlobStore.write")
      }),
      writeStream: (content) => writeStream(env, content, "BlobStore.writeStream").pipe(Effect.withSpan("BlobStore.writeStream")),
      read: Effect.fn("BlobStore.read")(function*(input: string) {
        return yield* readVerified(env, yield* parseDigest(input), "BlobStore.read")
      }),
      stream: (input) =>
        Stream.unwrap(Effect.map(parseDigest(input), (digest) => streamVerified(env, digest, "BlobStore.stream"))).pipe(
          Stream.withSpan("BlobStore.stream")
        ),
      exists: Effect.fn("BlobStore.exists")(function*(input: string) {
        const file = paths.blobPath(yield* parseDigest(input))
        return yield* fs.exists(file).pipe(
          Effect.catchIf(isAbsent, () => Effect.succeed(false)),
          Effect.mapError(ioError("BlobStore.exists", file))
        )
      }),
      verify: Effect.fn("BlobStore.verify")(function*(input: string) {
        return yield* checkBlob(env, yield* parseDigest(input), "BlobStore.verify")
      }),
      stat: Effect.fn("BlobStore.stat")(function*(input: string) {
        const digest = yield* parseDigest(input)
        const file = paths.blobPath(digest)
        const info = yield* fs.stat(file).pipe(Effect.mapError(ioErrorOrNotFound("BlobStore.stat", file, digest)))
        const stat: BlobStat = {
          digest,
          size: Number(info.size),
          mtime: Option.getOrElse(info.mtime, () => new Date(0))
        }
        return stat
      }),
      delete: Effect.fn("BlobStore.delete")(function*(input: string) {
        const file = paths.blobPath(yield* parseDigest(input))
        return yield* fs.remove(file).pipe(
          Effect.as(true),
          Effect.catchIf(isAbsent, () => Effect.succeed(false)),
          Effect.mapError(ioError("BlobStore.delete", file))
        )
      }),
      list: () => listDigests(env, "BlobStore.list").pipe(Stream.withSpan("BlobStore.list")),
      verifyAll: Effect.fn("BlobStore.verifyAll")(function*() {
        return yield* verifyAll(env, "BlobStore.verifyAll")
      }),
      gc: Effect.fn("BlobStore.gc")(function*(options?: GcOptionsInput) {
        return yield* gc(env, options, "BlobStore.gc")
      })
    }
  })

/** Blobs in the folder `root` (created by the first write) on the Effect `FileSystem` in context. */
export const layer = (root: string): Layer.Layer<BlobStore, never, FileSystem.FileSystem | Path.Path> =>
  Layer.effect(BlobStore, make(root))
