/**
 * Touching a blob's file without ever following a symbolic link out of the root: the shard
 * folder is `lstat`ed (a link there is refused) and the blob itself is opened with `O_NOFOLLOW`
 * (and `O_NONBLOCK`, so a FIFO planted under a blob name cannot hang a read). The two run side by
 * side, on every read and every open: nothing is remembered between calls, so a shard folder
 * swapped for a link after a first read is refused on the next one (issue 19). A file opened
 * through a linked shard folder is closed unread.
 *
 * @since 0.7.0
 */
import { Effect, type Scope } from "effect"
import type { BlobDigest } from "../../schema/Blob.ts"
import { BlobNotFound, type BlobStoreError } from "../../schema/Errors.ts"
import type { NodeFileHandle, NodeFilesShape } from "../fs/NodeFiles.ts"
import { errnoOf } from "../fs/Errno.ts"
import { READ_FLAGS } from "../fs/OpenRead.ts"
import { fromNodeError } from "../fs/PlatformErrors.ts"
import type { BlobEnv } from "./BlobEnv.ts"
import { classifyPlatformError, isAbsent, symbolicLinkRefused } from "./BlobEnv.ts"

/** What a path is, without following a link. ENOTDIR on the way counts as missing. */
export type EntryKind = "missing" | "directory" | "file" | "symlink" | "other"

const readFlags = READ_FLAGS
const codeOf = errnoOf

/** A failure that already is the typed error to report. */
class Typed {
  readonly error: BlobNotFound | BlobStoreError
  constructor(error: BlobNotFound | BlobStoreError) {
    this.error = error
  }
}

/** `lstat`'s verdict on `path`; other failures reject. */
export const kindOfAsync = (files: NodeFilesShape, path: string): Promise<EntryKind> =>
  files.lstat(path).then(
    (info) => info.isSymbolicLink() ? "symlink" : info.isDirectory() ? "directory" : info.isFile() ? "file" : "other",
    (error: unknown) => {
      const code = codeOf(error)
      if (code === "ENOENT" || code === "ENOTDIR") return "missing"
      throw error
    }
  )

/** What `path` is, without following a link, as an Effect. */
export const kindOf = (env: BlobEnv, path: string, operation: string): Effect.Effect<EntryKind, BlobStoreError> =>
  Effect.tryPromise({
    try: () => kindOfAsync(env.files, path),
    catch: (error) => classifyPlatformError(operation, path, fromNodeError("stat", path, error))
  })

/**
 * Fails with the refusal when the blob's shard folder is a symbolic link; `"absent"` when it is
 * missing or not a folder (no blob can be under it).
 */
export const checkShard = (env: BlobEnv, digest: BlobDigest, operation: string): Effect.Effect<"present" | "absent", BlobStoreError> => {
  const shard = env.paths.shardDir(digest)
  return Effect.flatMap(kindOf(env, shard, operation), (kind) =>
    kind === "symlink"
      ? Effect.fail(symbolicLinkRefused(operation, shard))
      : Effect.succeed(kind === "directory" ? "present" : "absent"))
}

/** The shard folder's kind, looked up afresh (`lstat`) on every call. */
const shardKindAsync = (env: BlobEnv, shard: string): Promise<EntryKind> => kindOfAsync(env.files, shard)

const openAsync = async (env: BlobEnv, digest: BlobDigest, operation: string): Promise<NodeFileHandle> => {
  const shard = env.paths.shardDir(digest)
  const file = env.paths.blobPath(digest)
  const [kind, opened] = await Promise.allSettled([shardKindAsync(env, shard), env.files.open(file, readFlags)])
  const refuse = (error: BlobNotFound | BlobStoreError) => {
    if (opened.status === "fulfilled") void opened.value.close().catch(() => undefined)
    return new Typed(error)
  }
  if (kind.status === "fulfilled" && kind.value === "symlink") throw refuse(symbolicLinkRefused(operation, shard))
  if (kind.status === "rejected") throw refuse(classifyPlatformError(operation, shard, fromNodeError("stat", shard, kind.reason)))
  if (opened.status === "rejected") {
    const error = fromNodeError("open", file, opened.reason)
    if (codeOf(opened.reason) === "ELOOP") throw new Typed(symbolicLinkRefused(operation, file))
    throw new Typed(isAbsent(error) ? new BlobNotFound({ digest }) : classifyPlatformError(operation, file, error))
  }
  return opened.value
}

const toTyped = (operation: string, path: string) => (error: unknown): BlobNotFound | BlobStoreError =>
  error instanceof Typed ? error.error : classifyPlatformError(operation, path, fromNodeError("read", path, error))

/** Opens the blob for reading, closed when the scope ends. */
export const openBlob = (
  env: BlobEnv,
  digest: BlobDigest,
  operation: string
): Effect.Effect<NodeFileHandle, BlobNotFound | BlobStoreError, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.tryPromise({ try: () => openAsync(env, digest, operation), catch: toTyped(operation, env.paths.blobPath(digest)) }),
    (handle) => Effect.promise(() => handle.close().catch(() => undefined))
  )

/** Reads `length` bytes at `position` into `buffer`; how many were read. */
export const readChunk = (
  handle: NodeFileHandle,
  buffer: Uint8Array,
  position: number,
  path: string,
  operation: string
): Effect.Effect<number, BlobStoreError> =>
  Effect.tryPromise({
    try: () => handle.read(buffer, 0, buffer.byteLength, position).then((r) => r.bytesRead),
    catch: (error) => classifyPlatformError(operation, path, fromNodeError("read", path, error))
  })

/** The typed error of a failed read of the blob file. */
const readFailure = (operation: string, digest: BlobDigest, file: string, cause: unknown): BlobNotFound | BlobStoreError => {
  if (codeOf(cause) === "ELOOP") return symbolicLinkRefused(operation, file)
  const error = fromNodeError("readFile", file, cause)
  return isAbsent(error) ? new BlobNotFound({ digest }) : classifyPlatformError(operation, file, error)
}

/** Receives the blob's bytes, or the typed error of reading them. */
export type BlobFileCallback = (result: Uint8Array | BlobNotFound | BlobStoreError) => void

/**
 * Reads the whole blob file, opened without following links (`O_NOFOLLOW`), and hands the bytes
 * (or the typed error) to `done`: one `readFile` (open, fstat, read, close), with an `lstat` of
 * the shard folder beside it on every read; a linked folder is refused even if the read found a
 * file. Callback
 * style, so a verified read is one `Effect.callback` whose fiber resumes straight from the file
 * system's callback (`BlobRead.readVerified`).
 */
export const readBlobFile = (env: BlobEnv, digest: BlobDigest, operation: string, done: BlobFileCallback): void => {
  const shard = env.paths.shardDir(digest)
  const file = env.paths.blobPath(digest)
  const readResult = (error: unknown, bytes: Uint8Array | undefined): Uint8Array | BlobNotFound | BlobStoreError =>
    bytes !== undefined && (error === null || error === undefined) ? bytes : readFailure(operation, digest, file, error)
  // The lstat and the read run side by side; whichever finishes second decides.
  let shardCheck: { readonly refused: BlobStoreError | undefined } | undefined
  let read: Uint8Array | BlobNotFound | BlobStoreError | undefined
  const settle = () => {
    if (shardCheck !== undefined && read !== undefined) done(shardCheck.refused ?? read)
  }
  shardKindAsync(env, shard).then(
    (kind) => {
      shardCheck = { refused: kind === "symlink" ? symbolicLinkRefused(operation, shard) : undefined }
      settle()
    },
    (error: unknown) => {
      shardCheck = { refused: classifyPlatformError(operation, shard, fromNodeError("stat", shard, error)) }
      settle()
    }
  )
  env.files.readFile(file, { flag: readFlags }, (error, bytes) => {
    read = readResult(error, bytes)
    settle()
  })
}
