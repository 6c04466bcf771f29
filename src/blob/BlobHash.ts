/**
 * Digests for the blob store: the sha256 of a buffer (as a `BlobDigest`) and the chunked sha256
 * of a file opened without following a link. The hashing itself is `src/fs/Sha256.ts`.
 *
 * @since 0.6.0
 */
import { Effect } from "effect"
import type { PlatformError } from "effect/PlatformError"
import { BlobDigest } from "../../schema/Blob.ts"
import type { NodeFilesShape } from "../fs/NodeFiles.ts"
import { openForRead, refusedDetail } from "../fs/OpenRead.ts"
import { HASH_CHUNK_SIZE, hashHandle, type Sha256Sum, sha256Hex } from "../fs/Sha256.ts"
import { closeQuietly, errnoError, runWith, StepFailure } from "../fs/Step.ts"

export { sha256Hex } from "../fs/Sha256.ts"

/** Chunk size of `stream` and of hashing a file. */
export const CHUNK_SIZE = HASH_CHUNK_SIZE

/**
 * The digest of `bytes`: their lowercase sha256 hex, which is a `BlobDigest` by construction.
 *
 * @example
 * ```ts
 * digestOf(new Uint8Array(0)) // "e3b0c442…b855"
 * ```
 */
export const digestOf = (bytes: Uint8Array): BlobDigest => BlobDigest.make(sha256Hex(bytes), { disableChecks: true })

/** A finished sha256 (lowercase hex) as a `BlobDigest`. */
export const digestOfHex = (hex: string): BlobDigest => BlobDigest.make(hex, { disableChecks: true })

/**
 * The sha256 and size of the file `file`, opened like every stored file (`openForRead`: a link,
 * a FIFO or a device is refused, never read) and read in fixed-size chunks.
 */
export const hashFile = (files: NodeFilesShape, file: string): Effect.Effect<Sha256Sum, PlatformError> =>
  runWith(files, file, async () => {
    const opened = await openForRead(files, file)
    if (opened._tag === "Missing") throw new StepFailure("open", file, errnoError("ENOENT", `no such file, '${file}'`))
    if (opened._tag !== "Opened") throw new StepFailure("open", file, errnoError(opened._tag === "SymbolicLink" ? "ELOOP" : "EINVAL", refusedDetail(opened)))
    try {
      return await hashHandle(opened.handle)
    } finally {
      await closeQuietly(opened.handle)
    }
  })
