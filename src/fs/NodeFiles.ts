/**
 * The file-system calls the durable steps (`DurableFile`) and the blob store's hot paths make,
 * straight on `node:fs/promises`: each protocol step is one `Effect.tryPromise` around a short
 * async function instead of one Effect `FileSystem` call (and one scope) per syscall, which is
 * where a 4 KiB durable write spent a fifth of its time (see docs/DECISIONS.md).
 *
 * `NodeFiles` is a `Context.Reference` whose default is `node:fs/promises` itself, so nothing has
 * to provide it; a test provides a wrapped one to fail chosen calls on cue
 * (`test/support/FaultyFileSystem.ts` does it with the same controller as its `FileSystem`).
 * Failures are turned into the same `PlatformError` the Effect `FileSystem` gives
 * (`fromNodeError`), so callers classify them in one place.
 *
 * @since 0.7.0
 */
import { Context } from "effect"
import type { Dirent } from "node:fs"
import * as fsp from "node:fs/promises"

/** An open file: the subset of Node's `FileHandle` the store uses. */
export interface NodeFileHandle {
  readonly write: (buffer: Uint8Array, offset?: number, length?: number, position?: number | null) => Promise<{ readonly bytesWritten: number }>
  readonly read: (buffer: Uint8Array, offset: number, length: number, position: number | null) => Promise<{ readonly bytesRead: number }>
  readonly sync: () => Promise<void>
  readonly stat: () => Promise<{ readonly size: number; readonly mtimeMs: number }>
  readonly close: () => Promise<void>
}

/** What `lstat` reports (links are not followed). */
export interface NodeLstat {
  readonly size: number
  readonly mtimeMs: number
  readonly isFile: () => boolean
  readonly isDirectory: () => boolean
  readonly isSymbolicLink: () => boolean
}

/** The calls, as `node:fs/promises` spells them. */
export interface NodeFilesShape {
  readonly open: (path: string, flags: string | number, mode?: number) => Promise<NodeFileHandle>
  readonly link: (existingPath: string, newPath: string) => Promise<void>
  readonly unlink: (path: string) => Promise<void>
  readonly rename: (oldPath: string, newPath: string) => Promise<void>
  readonly mkdir: (path: string, options: { readonly recursive: boolean; readonly mode: number }) => Promise<string | undefined>
  readonly lstat: (path: string) => Promise<NodeLstat>
  readonly readdir: (path: string, options: { readonly withFileTypes: true }) => Promise<Array<Dirent>>
}

/**
 * The file calls in use; `node:fs/promises` unless a test provides a wrapped set.
 *
 * @example
 * ```ts
 * const files = yield* NodeFiles
 * yield* Effect.tryPromise({ try: () => files.unlink(path), catch: (e) => fromNodeError("unlink", path, e) })
 * ```
 */
export const NodeFiles = Context.Reference<NodeFilesShape>("@uncaged/nerve-store/fs/NodeFiles", {
  defaultValue: () => fsp
})
