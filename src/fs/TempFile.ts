/**
 * Step 1 of a file appearing under its final name: the content is written to
 * `<dir>/.tmp.<128-bit random hex>`, opened exclusively (`wx`) and owner-only (0600), hashed on
 * the way, and fsynced. A failure or an interruption removes the temp file (only one this step
 * created: `wx` failing with EEXIST names someone else's).
 *
 * @since 0.7.0
 */
import { Effect, Stream } from "effect"
import type { PlatformError } from "effect/PlatformError"
import { randomBytes } from "node:crypto"
import { join } from "node:path"
import type { NodeFileHandle, NodeFilesShape } from "./NodeFiles.ts"
import { hashing, makeSha256, sha256Hex } from "./Sha256.ts"
import {
  closeQuietly,
  currentFiles,
  FILE_MODE,
  run,
  step,
  toPlatformError,
  unlessSuccess,
  unlinkQuietly,
  writeAll
} from "./Step.ts"

/** The prefix of temp files; 0.5 used the same one, so its leftovers are recognised. */
export const TEMP_PREFIX = ".tmp."

/** A fully written, fsynced temp file and what was hashed while writing it. */
export interface TempFile {
  readonly path: string
  /** Lowercase sha256 hex of the bytes written. */
  readonly sha256: string
  readonly size: number
}

/** Whether `name` is a temp file left by `writeTemp` (or by nerve-store 0.5). */
export const isTempName = (name: string): boolean => name.startsWith(TEMP_PREFIX)

/** A fresh temp name inside `directory`. */
export const tempPathIn = (directory: string): string => join(directory, TEMP_PREFIX + randomBytes(16).toString("hex"))

/** Creates `<directory>/.tmp.<hex>` (`wx`, 0600), writes `bytes`, fsyncs, closes; removes it on failure. */
export const createTempAsync = async (files: NodeFilesShape, directory: string, bytes: Uint8Array): Promise<string> => {
  const path = tempPathIn(directory)
  const handle = await step("open", path, () => files.open(path, "wx", FILE_MODE))
  try {
    await writeAll(handle, path, bytes)
    await step("sync", path, () => handle.sync())
  } catch (error) {
    await closeQuietly(handle)
    await unlinkQuietly(files, path)
    throw error
  }
  await step("close", path, () => handle.close()).catch(async (error) => {
    await unlinkQuietly(files, path)
    throw error
  })
  return path
}

/**
 * Creates `path` (`wx`, 0600), writes every chunk of `content`, fsyncs and closes it. On failure
 * or interruption the file is removed — but only a file we created.
 */
const streamInto = <E, R>(files: NodeFilesShape, path: string, content: Stream.Stream<Uint8Array, E, R>) => {
  let opened = false
  const open = Effect.tryPromise({
    try: async () => {
      const handle = await step("open", path, () => files.open(path, "wx", FILE_MODE))
      opened = true
      return handle
    },
    catch: toPlatformError(path)
  })
  const fill = (handle: NodeFileHandle) =>
    Effect.andThen(
      Stream.runForEach(content, (chunk) => Effect.tryPromise({ try: () => writeAll(handle, path, chunk), catch: toPlatformError(path) })),
      Effect.tryPromise({ try: () => step("sync", path, () => handle.sync()), catch: toPlatformError(path) })
    )
  const written = Effect.acquireUseRelease(open, fill, (handle) => Effect.promise(() => closeQuietly(handle)))
  return Effect.onExit(written, unlessSuccess(Effect.suspend(() => opened ? Effect.promise(() => unlinkQuietly(files, path)) : Effect.void)))
}

/**
 * Streams `content` into a new fsynced temp file (0600) inside `directory` (which must exist),
 * hashing it on the way. A failure of `content` is passed through unchanged (and removes the
 * temp file).
 *
 * @example
 * ```ts
 * const temp = yield* writeTemp(dir, Stream.make(bytes)) // { path: "<dir>/.tmp.…", sha256, size }
 * ```
 */
export const writeTemp = <E, R>(
  directory: string,
  content: Stream.Stream<Uint8Array, E, R>
): Effect.Effect<TempFile, E | PlatformError, R> =>
  Effect.flatMap(currentFiles, (files) =>
    Effect.suspend(() => {
      const path = tempPathIn(directory)
      const sum = makeSha256()
      return Effect.map(streamInto(files, path, hashing(content, sum)), () => ({ path, ...sum.result() }))
    }))

/**
 * `writeTemp` for content already in one buffer: open `wx` (0600), write, fsync, close, as one
 * step. `sha256` is computed after the write, so a caller that hashed `bytes` before can compare
 * the two to detect a buffer changed during the write.
 *
 * @example
 * ```ts
 * const temp = yield* writeTempBytes(dir, new TextEncoder().encode("hello"))
 * ```
 */
export const writeTempBytes = (directory: string, bytes: Uint8Array): Effect.Effect<TempFile, PlatformError> =>
  Effect.map(
    run(directory, (files) => createTempAsync(files, directory, bytes)),
    (path) => ({ path, sha256: sha256Hex(bytes), size: bytes.byteLength })
  )
