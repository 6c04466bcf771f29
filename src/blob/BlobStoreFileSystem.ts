/**
 * The BlobStore on the Effect `FileSystem`: blobs at `<root>/<2 hex>/<62 hex>`. The root folder
 * is created by the first write; reading from a root that does not exist finds nothing.
 *
 * @since 0.6.0
 */
import * as Metrics from "../Metrics.ts"
import { Clock, Duration, Effect, type FileSystem, Layer, type Path, Stream } from "effect"
import type { BlobDigest, BlobStat, GcOptionsInput } from "../../schema/Blob.ts"
import { DEFAULT_TEMP_MAX_AGE, parseDigest } from "../../schema/Blob.ts"
import { BlobNotFound } from "../../schema/Errors.ts"
import { withoutCallSite } from "../domain/Operation.ts"
import { removeFile } from "../fs/DurableFile.ts"
import { fromNodeError } from "../fs/PlatformErrors.ts"
import { BlobStore, type BlobStoreShape } from "../BlobStore.ts"
import { type BlobEnv, ioError, ioErrorOrNotFound, isAbsent, makeBlobEnv, symbolicLinkRefused } from "./BlobEnv.ts"
import { checkShard, kindOf } from "./BlobFiles.ts"
import { readVerified, streamVerified } from "./BlobRead.ts"
import { gc, listDigests, sweepTemps, verifyAll } from "./BlobSweep.ts"
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
  Effect.gen(function*() {
    const env = yield* makeBlobEnv(root)
    yield* sweepOnOpen(env)
    const { files, paths } = env

    /** The blob's entry, without following a link: missing, a file, or refused. */
    const lookup = Effect.fnUntraced(function*(digest: BlobDigest, operation: string) {
      if ((yield* checkShard(env, digest, operation)) === "absent") return "missing" as const
      const file = paths.blobPath(digest)
      const kind = yield* kindOf(env, file, operation)
      if (kind === "symlink") return yield* Effect.fail(symbolicLinkRefused(operation, file))
      return kind
    })

    return {
      write: withoutCallSite(Effect.fn("BlobStore.write")(function*(content: string | Uint8Array) {
        // A string is encoded into bytes nobody else holds (`owned`: written without a copy).
        const owned = typeof content === "string"
        const bytes = owned ? utf8.encode(content) : content
        const digest = yield* writeBytes(env, bytes, "BlobStore.write", { owned })
        yield* Metrics.recordBlobWritten(bytes.byteLength)
        yield* Effect.annotateCurrentSpan({ digest, bytes: bytes.byteLength })
        return digest
      })),
      writeStream: (content) =>
        writeStream(env, content, "BlobStore.writeStream").pipe(
          Effect.tap((digest) => Effect.annotateCurrentSpan({ digest })),
          Effect.withSpan("BlobStore.writeStream")
        ),
      read: withoutCallSite(Effect.fn("BlobStore.read")(function*(input: string) {
        const digest = yield* parseDigest(input)
        const bytes = yield* readVerified(env, digest, "BlobStore.read")
          .pipe(Effect.tapError((error) => error._tag === "DigestMismatch" ? Metrics.recordDigestMismatch : Effect.void))
        yield* Metrics.recordBlobRead(bytes.byteLength)
        yield* Effect.annotateCurrentSpan({ digest, bytes: bytes.byteLength })
        return bytes
      })),
      stream: (input) =>
        Stream.unwrap(Effect.map(parseDigest(input), (digest) =>
          streamVerified(env, digest, "BlobStore.stream").pipe(Stream.withSpan("BlobStore.stream", { attributes: { digest } })))),
      exists: withoutCallSite(Effect.fn("BlobStore.exists")(function*(input: string) {
        const digest = yield* parseDigest(input)
        yield* Effect.annotateCurrentSpan({ digest })
        return (yield* lookup(digest, "BlobStore.exists")) !== "missing"
      })),
      verify: withoutCallSite(Effect.fn("BlobStore.verify")(function*(input: string) {
        const digest = yield* parseDigest(input)
        yield* Effect.annotateCurrentSpan({ digest })
        return yield* checkBlob(env, digest, "BlobStore.verify")
      })),
      stat: withoutCallSite(Effect.fn("BlobStore.stat")(function*(input: string) {
        const digest = yield* parseDigest(input)
        yield* Effect.annotateCurrentSpan({ digest })
        const file = paths.blobPath(digest)
        if ((yield* lookup(digest, "BlobStore.stat")) === "missing") return yield* new BlobNotFound({ digest })
        const info = yield* Effect.tryPromise({
          try: () => files.lstat(file),
          catch: (error) => ioErrorOrNotFound("BlobStore.stat", file, digest)(fromNodeError("stat", file, error))
        })
        const stat: BlobStat = { digest, size: info.size, mtime: new Date(info.mtimeMs) }
        return stat
      })),
      delete: withoutCallSite(Effect.fn("BlobStore.delete")(function*(input: string) {
        const digest = yield* parseDigest(input)
        yield* Effect.annotateCurrentSpan({ digest })
        // A linked shard folder is refused; a blob name that is itself a link is removed as a link.
        if ((yield* checkShard(env, digest, "BlobStore.delete")) === "absent") return false
        const file = paths.blobPath(digest)
        return yield* Effect.provideContext(removeFile(file), env.context).pipe(
          Effect.catchIf(isAbsent, () => Effect.succeed(false)),
          Effect.mapError(ioError("BlobStore.delete", file))
        )
      })),
      list: () => listDigests(env, "BlobStore.list").pipe(Stream.withSpan("BlobStore.list")),
      verifyAll: Effect.fn("BlobStore.verifyAll")(function*() {
        const report = yield* verifyAll(env, "BlobStore.verifyAll")
        yield* Effect.annotateCurrentSpan({ blobs: report.totals.checked, bytes: report.totals.bytes })
        return report
      }),
      gc: Effect.fn("BlobStore.gc")(function*(options?: GcOptionsInput) {
        const result = yield* gc(env, options, "BlobStore.gc")
        yield* Effect.annotateCurrentSpan({ removedBlobs: result.removedBlobs.length, bytes: result.bytesFreed })
        return result
      })
    } satisfies BlobStoreShape
  })

/**
 * Removes temp files left by killed writers, with `gc`'s default rule (older than
 * `DEFAULT_TEMP_MAX_AGE` by the Effect `Clock`). A failure does not stop the store from opening:
 * it is logged, and `gc` can sweep later.
 */
const sweepOnOpen = (env: BlobEnv): Effect.Effect<void> =>
  Effect.gen(function*() {
    const cutoff = (yield* Clock.currentTimeMillis) - Duration.toMillis(DEFAULT_TEMP_MAX_AGE)
    const swept = yield* sweepTemps(env, cutoff, "BlobStore.open")
    if (swept.removed.length > 0) {
      yield* Effect.logInfo("BlobStore: removed temp files of killed writers").pipe(Effect.annotateLogs({ files: swept.removed.length }))
    }
  }).pipe(Effect.catch((error) => Effect.logWarning("BlobStore: could not sweep temp files on open", error)))

/** Blobs in the folder `root` (created by the first write) on the Effect `FileSystem` in context. */
export const layer = (root: string): Layer.Layer<BlobStore, never, FileSystem.FileSystem | Path.Path> =>
  Layer.effect(BlobStore, make(root))
