/**
 * The BlobStore service: content-addressable files named by the lowercase sha256 hex of their
 * bytes, stored at `<root>/<2 hex>/<62 hex>` and verified against their name whenever they are
 * read.
 *
 * The pieces, each in its own module under `src/blob/`: `BlobPath` (digest → path),
 * `BlobWrite` (the publish protocol, through `DurableFile`), `BlobFiles` (opening a blob without
 * following a link), `BlobRead` (verified read and stream), `BlobVerify` (check one blob,
 * quarantine), `BlobSweep` (list, verifyAll, gc, the temp sweep), and the two implementations
 * `BlobStoreFileSystem` and `BlobStoreMemory`.
 *
 * The file-system store never follows a symbolic link out of its root: a linked shard folder,
 * blob name or `quarantine/` is refused (`BlobStoreError` with code `ELOOP`) or reported
 * (`suspicious` in `verifyAll` and `gc`). Everything it creates is owner-only (0600 / 0700), and
 * temp files of killed writers older than `DEFAULT_TEMP_MAX_AGE` are swept when it opens.
 *
 * @since 0.6.0
 */
import { Context, type Effect, type Stream } from "effect"
import type {
  BlobDigest,
  BlobMismatch,
  BlobOk,
  BlobStat,
  GcOptionsInput,
  GcResult,
  VerifyReport
} from "../schema/Blob.ts"
import type { BlobNotFound, BlobStoreError, DigestMismatch, InvalidDigest, InvalidInput } from "../schema/Errors.ts"

/**
 * The operations of the blob store. Every operation that takes a digest accepts any string,
 * normalises it (trim, lowercase) and fails with `InvalidDigest` unless it is 64 hex characters —
 * before any path is built. I/O failures are `BlobStoreError { operation, path, reason }`.
 */
export interface BlobStoreShape {
  /**
   * Stores `content` (a string is stored as UTF-8) and returns its digest. Durable when it
   * completes; writing content that is already stored is a no-op that also repairs a corrupt
   * copy (which is quarantined). Do not change the bytes until the Effect completes.
   */
  readonly write: (content: string | Uint8Array) => Effect.Effect<BlobDigest, BlobStoreError>
  /**
   * Stores the bytes of `content` in constant memory, hashing them as they are written. A
   * failure of `content` is passed through unchanged and stores nothing.
   */
  readonly writeStream: <E, R>(content: Stream.Stream<Uint8Array, E, R>) => Effect.Effect<BlobDigest, E | BlobStoreError, R>
  /** The blob's bytes, after checking that they hash to `digest`. */
  readonly read: (
    digest: string
  ) => Effect.Effect<Uint8Array, InvalidDigest | BlobNotFound | DigestMismatch | BlobStoreError>
  /**
   * The blob's bytes as a stream, in constant memory. The bytes are hashed as they pass and the
   * stream fails **after the last chunk** with `DigestMismatch` if they do not match: a consumer
   * must not act on the bytes (execute, forward, mark as trusted) before the stream has ended
   * successfully. Use `read` for small blobs.
   */
  readonly stream: (
    digest: string
  ) => Stream.Stream<Uint8Array, InvalidDigest | BlobNotFound | DigestMismatch | BlobStoreError>
  /** Whether a blob is stored under `digest` (not verified; see `verify`). */
  readonly exists: (digest: string) => Effect.Effect<boolean, InvalidDigest | BlobStoreError>
  /** Re-hashes one blob. A corrupt blob is quarantined and reported as `Mismatch` (not failed). */
  readonly verify: (
    digest: string
  ) => Effect.Effect<BlobOk | BlobMismatch, InvalidDigest | BlobNotFound | BlobStoreError>
  /** Size and modification time of a blob. */
  readonly stat: (digest: string) => Effect.Effect<BlobStat, InvalidDigest | BlobNotFound | BlobStoreError>
  /** Removes a blob; `true` if it was there, `false` if it was not. */
  readonly delete: (digest: string) => Effect.Effect<boolean, InvalidDigest | BlobStoreError>
  /** Every stored digest in ascending order, skipping temp files, stray files and `quarantine/`. */
  readonly list: () => Stream.Stream<BlobDigest, BlobStoreError>
  /**
   * Re-hashes every blob: one entry per blob (`Ok`, `Mismatch` — now quarantined —, or
   * `Unreadable`, e.g. a blob name that is a symbolic link), the totals, and `suspicious`: what it
   * refused to enter (a shard folder that is a symbolic link).
   */
  readonly verifyAll: () => Effect.Effect<VerifyReport, BlobStoreError>
  /**
   * Removes temp files older than `tempOlderThan` (default 1 hour) and, when `live` is given,
   * every blob not in it (a blob name that is a link is removed as a link; linked shard folders
   * are listed in `suspicious` and never entered). Reports what it removed and the bytes freed.
   * The options are decoded with the `GcOptions` schema first: a bad `tempOlderThan` or a `live`
   * entry that is not a digest fails with `InvalidInput` naming the field, and nothing is removed.
   */
  readonly gc: (options?: GcOptionsInput) => Effect.Effect<GcResult, InvalidInput | BlobStoreError>
}

/**
 * The blob store. Provide it with `NerveStoreLive` / `NerveStoreMemory` from
 * `@uncaged/nerve-store/layers`, or with `BlobStoreFileSystem(root)` / `BlobStoreMemory` from there.
 *
 * @example
 * ```ts
 * const program = Effect.gen(function*() {
 *   const blobs = yield* BlobStore
 *   const digest = yield* blobs.write("hello")
 *   return new TextDecoder().decode(yield* blobs.read(digest))
 * }).pipe(Effect.provide(BlobStoreMemory))
 * ```
 */
export class BlobStore extends Context.Service<BlobStore, BlobStoreShape>()("@uncaged/nerve-store/BlobStore") {}
