/**
 * Folders of the durable protocol: creating one durably (0700, parent fsynced), fsyncing one so
 * names created or removed in it survive a power loss, and opening a final name's folder for the
 * publish, refusing a symbolic link when asked to.
 *
 * @since 0.7.0
 */
import type { Effect } from "effect"
import type { PlatformError } from "effect/PlatformError"
import { constants } from "node:fs"
import { dirname } from "node:path"
import type { NodeFileHandle, NodeFilesShape } from "./NodeFiles.ts"
import { closeQuietly, codeOf, DIRECTORY_MODE, errnoError, run, step, StepFailure } from "./Step.ts"

/** Options of `publish` and `createNoClobber` about the final name's folder. */
export interface PublishOptions {
  /**
   * When the final name's folder does not exist, create it (durably, see `makeDirectoryDurable`)
   * and try once more. Without it, a missing folder fails the publish.
   */
  readonly createDirectory?: boolean
  /**
   * Refuse (ELOOP) when the final name's folder is a symbolic link, instead of following it:
   * the blob store never follows a link out of its root.
   */
  readonly noFollowDirectory?: boolean
}

const directoryFlags = constants.O_RDONLY | (constants.O_DIRECTORY ?? 0)
const noFollowDirectoryFlags = directoryFlags | (constants.O_NOFOLLOW ?? 0)

/** Opens a folder for fsync ("r"); with `noFollow`, a symbolic link fails with ELOOP. */
export const openDirectory = async (files: NodeFilesShape, directory: string, noFollow: boolean): Promise<NodeFileHandle> => {
  if (!noFollow) return step("open", directory, () => files.open(directory, "r"))
  try {
    return await step("open", directory, () => files.open(directory, noFollowDirectoryFlags))
  } catch (error) {
    // Linux reports a link met with O_DIRECTORY | O_NOFOLLOW as ENOTDIR; say what it is.
    if (codeOf(error) !== "ENOTDIR") throw error
    const isLink = await files.lstat(directory).then((info) => info.isSymbolicLink(), () => false)
    if (!isLink) throw error
    throw new StepFailure("open", directory, errnoError("ELOOP", `a symbolic link, not followed, '${directory}'`))
  }
}

/** fsyncs an open folder, then closes it. */
const syncAndClose = async (folder: NodeFileHandle, directory: string): Promise<void> => {
  try {
    await step("sync", directory, () => folder.sync())
  } finally {
    await closeQuietly(folder)
  }
}

/** fsyncs `directory` (opened and closed here). */
export const syncDirectoryAsync = async (files: NodeFilesShape, directory: string): Promise<void> =>
  syncAndClose(await openDirectory(files, directory, false), directory)

/** Creates `directory` (0700, with missing parents) and fsyncs its parent. */
export const makeDirectoryDurableAsync = async (files: NodeFilesShape, directory: string): Promise<void> => {
  await step("makeDirectory", directory, () => files.mkdir(directory, { recursive: true, mode: DIRECTORY_MODE }))
  await syncDirectoryAsync(files, dirname(directory))
}

/** Opens the final name's folder, creating it first when asked to and it is missing. */
export const openTargetDirectory = async (
  files: NodeFilesShape,
  directory: string,
  options: PublishOptions | undefined
): Promise<NodeFileHandle> => {
  const noFollow = options?.noFollowDirectory === true
  try {
    return await openDirectory(files, directory, noFollow)
  } catch (error) {
    if (options?.createDirectory !== true || codeOf(error) !== "ENOENT") throw error
    await makeDirectoryDurableAsync(files, directory)
    return await openDirectory(files, directory, noFollow)
  }
}

/**
 * Creates `directory` (and missing parents, all 0700) and fsyncs its parent, so the new folder
 * survives a power loss. An existing folder is fine (its mode is left as it is).
 *
 * @example
 * ```ts
 * yield* makeDirectoryDurable(path.join(root, "quarantine"))
 * ```
 */
export const makeDirectoryDurable = (directory: string): Effect.Effect<void, PlatformError> =>
  run(directory, (files) => makeDirectoryDurableAsync(files, directory))

/**
 * fsyncs a folder so that names created or removed in it are durable.
 *
 * @example
 * ```ts
 * yield* syncDirectory(archiveDir) // after removing a day file
 * ```
 */
export const syncDirectory = (directory: string): Effect.Effect<void, PlatformError> =>
  run(directory, (files) => syncDirectoryAsync(files, directory))
