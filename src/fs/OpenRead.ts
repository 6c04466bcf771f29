/**
 * Opening a stored file for reading, the one way every stored file is opened (blobs and archive
 * days alike): `O_NOFOLLOW` (a symbolic link under a stored name is refused with ELOOP, never
 * followed to `/dev/zero` or out of the store), `O_NONBLOCK` (a FIFO planted under a stored name
 * opens at once instead of blocking a thread-pool thread for good), then `fstat` of the opened
 * descriptor: anything but a regular file (a FIFO, a device, a socket, a folder) is closed unread
 * and reported as `NotRegular`.
 *
 * @since 0.7.0
 */
import { constants } from "node:fs"
import type { NodeFileHandle, NodeFilesShape } from "./NodeFiles.ts"
import { closeQuietly, codeOf, step } from "./Step.ts"

/** The flags of every read of a stored file. */
export const READ_FLAGS = constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0) | (constants.O_NONBLOCK ?? 0)

/** What opening found. */
export type OpenedForRead =
  | { readonly _tag: "Opened"; readonly handle: NodeFileHandle; readonly size: number }
  | { readonly _tag: "Missing" }
  | { readonly _tag: "SymbolicLink" }
  | { readonly _tag: "NotRegular" }

const MISSING: OpenedForRead = { _tag: "Missing" }
const SYMBOLIC_LINK: OpenedForRead = { _tag: "SymbolicLink" }
const NOT_REGULAR: OpenedForRead = { _tag: "NotRegular" }

/**
 * Opens `path` for reading (see the module doc). ENOENT is `Missing`; other failures reject with
 * a `StepFailure`. The caller closes an `Opened` handle.
 */
export const openForRead = async (files: NodeFilesShape, path: string): Promise<OpenedForRead> => {
  let handle: NodeFileHandle
  try {
    handle = await step("open", path, () => files.open(path, READ_FLAGS))
  } catch (error) {
    const code = codeOf(error)
    if (code === "ENOENT") return MISSING
    if (code === "ELOOP") return SYMBOLIC_LINK
    throw error
  }
  try {
    const info = await step("stat", path, () => handle.stat())
    if (info.isFile()) return { _tag: "Opened", handle, size: info.size }
  } catch (error) {
    await closeQuietly(handle)
    throw error
  }
  await closeQuietly(handle)
  return NOT_REGULAR
}

/** A short description of what a refused entry is, for error details. */
export const refusedDetail = (opened: { readonly _tag: "SymbolicLink" | "NotRegular" }): string =>
  opened._tag === "SymbolicLink"
    ? "a symbolic link: stored files are never followed"
    : "not a regular file (a FIFO, a device, a socket or a folder): not read"
