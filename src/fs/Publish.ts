/**
 * Step 2 of a file appearing under its final name — the one function that makes a file appear
 * there, for blobs and archive days alike (git's `finalize_object_file` is the model): the fsynced
 * temp file gets its final name (`rename` to replace, `link` not to clobber), the temp name is
 * dropped, and the folder is fsynced so the new name survives a power loss. A failure or an
 * interruption removes the temp file, so a caller never cleans up after either step.
 *
 * `createNoClobber` is both steps for one buffer in one go (the blob store's `write`).
 *
 * @since 0.7.0
 */
import { Effect } from "effect"
import type { PlatformError } from "effect/PlatformError"
import { dirname } from "node:path"
import { openTargetDirectory, type PublishOptions } from "./Directory.ts"
import type { NodeFileHandle, NodeFilesShape } from "./NodeFiles.ts"
import { sha256Hex } from "./Sha256.ts"
import {
  closeQuietly,
  codeOf,
  run,
  runWith,
  step,
  StepFailure,
  unlessSuccess,
  unlinkIfPresent,
  unlinkQuietly
} from "./Step.ts"
import { createTempAsync } from "./TempFile.ts"

/** `no-clobber`: an existing final file wins (content-addressed names). `replace`: ours wins. */
export type PublishMode = "no-clobber" | "replace"

/** Whether the final name was created by this call or was already there (`no-clobber` only). */
export type PublishOutcome = "created" | "existed"

const CREATED: PublishOutcome = "created"
const EXISTED: PublishOutcome = "existed"

// Where hard links are not supported (some FUSE, SMB and FAT file systems) we fall back to rename.
const linkUnsupportedCodes = new Set(["EPERM", "ENOTSUP", "EOPNOTSUPP", "ENOSYS", "EXDEV", "EMLINK"])

const placeNoClobberAsync = async (files: NodeFilesShape, source: string, target: string): Promise<PublishOutcome> => {
  try {
    // link(2) fails with EEXIST instead of replacing, which is exactly "no clobber".
    await step("link", target, () => files.link(source, target))
    return CREATED
  } catch (error) {
    const code = codeOf(error)
    if (code === "EEXIST") return EXISTED
    if (code === undefined || !linkUnsupportedCodes.has(code)) throw error
  }
  // rename would clobber, so look first; a racing writer of the same name wrote the same bytes.
  const exists = await files.lstat(target).then(() => true, (error: unknown) => {
    if (codeOf(error) === "ENOENT") return false
    throw new StepFailure("stat", target, error)
  })
  if (exists) return EXISTED
  await step("rename", target, () => files.rename(source, target))
  return CREATED
}

/**
 * Gives the fsynced temp file its final name in the already opened `folder`, drops the temp name
 * and fsyncs the folder, one after the other: the one folder fsync makes both the new name and
 * the removal durable. (Unlinking beside the fsync was measured slower: the journal commit the
 * fsync forces waits for the concurrent unlink, or the unlink lands in the next commit.) A crash
 * before the fsync leaves at most a temp file, which the sweep removes.
 */
const placeAndSync = async (
  files: NodeFilesShape,
  folder: NodeFileHandle,
  tempPath: string,
  finalPath: string,
  mode: PublishMode
): Promise<PublishOutcome> => {
  if (mode === "replace") {
    await step("rename", finalPath, () => files.rename(tempPath, finalPath))
    await step("sync", dirname(finalPath), () => folder.sync())
    return CREATED
  }
  const outcome = await placeNoClobberAsync(files, tempPath, finalPath)
  // The final name is complete by now: a temp name that cannot be dropped is only a leftover for
  // the sweep, not a failure of the publish.
  await unlinkQuietly(files, tempPath)
  await step("sync", dirname(finalPath), () => folder.sync())
  return outcome
}

const publishAsync = async (
  files: NodeFilesShape,
  tempPath: string,
  finalPath: string,
  mode: PublishMode,
  options: PublishOptions | undefined
): Promise<PublishOutcome> => {
  try {
    const folder = await openTargetDirectory(files, dirname(finalPath), options)
    try {
      return await placeAndSync(files, folder, tempPath, finalPath, mode)
    } finally {
      await closeQuietly(folder)
    }
  } catch (error) {
    await unlinkQuietly(files, tempPath)
    throw error
  }
}

/**
 * Gives the fsynced temp file `tempPath` the name `finalPath`, removes the temp name and fsyncs
 * the folder. With `no-clobber`, an existing `finalPath` is left untouched and the outcome is
 * `"existed"` — for content-addressed files "already there" is success. Whatever happens, the
 * temp name is gone when the Effect completes (on failure or interruption it is removed too).
 *
 * @example
 * ```ts
 * const temp = yield* writeTemp(dir, content)
 * const outcome = yield* publish(temp.path, path.join(dir, "2024-01-01.jsonl"), "replace")
 * ```
 */
export const publish = (
  tempPath: string,
  finalPath: string,
  mode: PublishMode,
  options?: PublishOptions
): Effect.Effect<PublishOutcome, PlatformError> =>
  Effect.onExit(
    run(finalPath, (files) => publishAsync(files, tempPath, finalPath, mode, options)),
    // An interruption while the promise runs: the temp name must not outlive the publish.
    unlessSuccess(Effect.ignore(run(tempPath, (files) => unlinkQuietly(files, tempPath))))
  )

/**
 * Both steps for one buffer, in one go: opens the final name's folder (refusing a symbolic link
 * with `noFollowDirectory`, creating it with `createDirectory`), writes `bytes` to a temp file
 * beside the final name, fsyncs it, links it to `finalPath` without clobbering, drops the temp
 * name and fsyncs the folder (whose handle is then closed in the background). With
 * `expectedSha256`, the bytes are hashed after the write and before the link; if they changed
 * meanwhile (a caller reused its buffer) nothing is published and the outcome is `"changed"`.
 * With `files`, those direct calls are made instead of the `NodeFiles` in context.
 *
 * @example
 * ```ts
 * const outcome = yield* createNoClobber(blobPath, bytes, { createDirectory: true, noFollowDirectory: true })
 * ```
 */
export const createNoClobber = (
  finalPath: string,
  bytes: Uint8Array,
  options?: PublishOptions & {
    readonly expectedSha256?: string
    /** The direct calls to make (the blob store passes its own); else `NodeFiles` in context. */
    readonly files?: NodeFilesShape
  }
): Effect.Effect<PublishOutcome | "changed", PlatformError> => {
  const body = async (files: NodeFilesShape): Promise<PublishOutcome | "changed"> => {
    const directory = dirname(finalPath)
    const folder = await openTargetDirectory(files, directory, options)
    try {
      const tempPath = await createTempAsync(files, directory, bytes)
      try {
        if (options?.expectedSha256 !== undefined && sha256Hex(bytes) !== options.expectedSha256) {
          await unlinkQuietly(files, tempPath)
          return "changed" as const
        }
        return await placeAndSync(files, folder, tempPath, finalPath, "no-clobber")
      } catch (error) {
        await unlinkQuietly(files, tempPath)
        throw error
      }
    } finally {
      // The folder's fsync (the last durable step) is done or failed by now: its handle is closed
      // without waiting, so the write completes one thread-pool round trip sooner.
      void closeQuietly(folder)
    }
  }
  return options?.files !== undefined ? runWith(options.files, finalPath, body) : run(finalPath, body)
}

/**
 * Gives the file `source` the additional name `target` without replacing an existing file:
 * `"created"` if `target` now names `source`'s file, `"existed"` if `target` was already there
 * (left untouched). After a link both names remain (the caller drops `source`); where links are
 * unsupported `source` is renamed. Nothing is fsynced and nothing is removed on failure.
 *
 * @example
 * ```ts
 * const outcome = yield* placeNoClobber(quarantined, blobPath) // put a copy back unless one is there
 * ```
 */
export const placeNoClobber = (source: string, target: string): Effect.Effect<PublishOutcome, PlatformError> =>
  run(target, (files) => placeNoClobberAsync(files, source, target))

/**
 * Removes `path` (a link is removed as a link); a missing file is not an error. Returns whether
 * it was there.
 *
 * @example
 * ```ts
 * const removed = yield* removeFile(temp.path)
 * ```
 */
export const removeFile = (path: string): Effect.Effect<boolean, PlatformError> =>
  run(path, (files) => unlinkIfPresent(files, path))
