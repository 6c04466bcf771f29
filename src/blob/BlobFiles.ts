/**
 * Touching a blob's file without ever following a symbolic link out of the root: the shard
 * folder is `lstat`ed (a link there is refused) and the blob itself is opened with `O_NOFOLLOW`
 * (and `O_NONBLOCK`, so a FIFO planted under a blob name cannot hang a read). The shard check is
 * made on every read and every open: nothing is remembered between calls, so a shard folder
 * swapped for a link after a first read is refused on the next one (issue 19).
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

/**
 * The refusal of the blob's shard folder, looked at afresh on every call (never remembered): a
 * symbolic link is refused, a failed look is the error; a missing folder (or a file in its place)
 * is no refusal — the open then finds no blob. One synchronous `lstat` (a cached directory entry,
 * ~1 µs; see docs/DECISIONS.md `## fs`).
 */
const shardRefusal = (env: BlobEnv, digest: BlobDigest, operation: string): BlobStoreError | undefined => {
  const shard = env.paths.shardDir(digest)
  try {
    return env.files.lstatSync(shard).isSymbolicLink() ? symbolicLinkRefused(operation, shard) : undefined
  } catch (error) {
    const code = codeOf(error)
    if (code === "ENOENT" || code === "ENOTDIR") return undefined
    return classifyPlatformError(operation, shard, fromNodeError("stat", shard, error))
  }
}

const openAsync = async (env: BlobEnv, digest: BlobDigest, operation: string): Promise<NodeFileHandle> => {
  const refused = shardRefusal(env, digest, operation)
  if (refused !== undefined) throw new Typed(refused)
  const file = env.paths.blobPath(digest)
  try {
    return await env.files.open(file, readFlags)
  } catch (cause) {
    const error = fromNodeError("open", file, cause)
    if (codeOf(cause) === "ELOOP") throw new Typed(symbolicLinkRefused(operation, file))
    throw new Typed(isAbsent(error) ? new BlobNotFound({ digest }) : classifyPlatformError(operation, file, error))
  }
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
 * (or the typed error) to `done`: one `readFile` (open, fstat, read, close) and, every time, the
 * shard folder's check (`shardRefusal`), which refuses a linked folder even if the read found a
 * file. Callback style, so a verified read is one
 * `Effect.callback` whose fiber resumes straight from the file system's callback
 * (`BlobRead.readVerified`).
 */
export const readBlobFile = (env: BlobEnv, digest: BlobDigest, operation: string, done: BlobFileCallback): void => {
  const file = env.paths.blobPath(digest)
  // The read is dispatched to the thread pool first; the shard folder is checked on this thread
  // while the pool opens the file, and decides before the bytes are handed over (the callback
  // cannot run before this function returns).
  let checked: { readonly refused: BlobStoreError | undefined } | undefined
  const check = () => (checked ??= { refused: shardRefusal(env, digest, operation) }).refused
  env.files.readFile(file, { flag: readFlags }, (error, bytes) =>
    done(check() ?? (bytes !== undefined && (error === null || error === undefined) ? bytes : readFailure(operation, digest, file, error))))
  check()
}
