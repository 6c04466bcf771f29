/**
 * The file-system calls the durable steps (`DurableFile`) and the blob store's hot paths make,
 * straight on `node:fs/promises`: each protocol step is one `Effect.tryPromise` around a short
 * async function instead of one Effect `FileSystem` call (and one scope) per syscall, which is
 * where a 4 KiB durable write spent a fifth of its time (see docs/DECISIONS.md).
 *
 * Who uses them: every file step of `src/fs/` (temp file, publish, sweep, opening a stored file
 * for reading), for the blob store and the archive's day files alike — the `NodeFiles` service
 * when one is provided, else `nodeFiles`. A test provides a wrapped `NodeFiles` to fail chosen
 * calls (`FaultyFiles` in `test/support/FaultyFileSystem.ts`). The Effect `FileSystem` is never
 * used by a file step.
 * Failures are turned into the same `PlatformError` the Effect `FileSystem` gives
 * (`fromNodeError`), so callers classify them in one place.
 *
 * @since 0.7.0
 */
import { Context } from "effect"
import * as fs from "node:fs"
import type { Dirent } from "node:fs"
import * as fsp from "node:fs/promises"

/** An open file: the subset of Node's `FileHandle` the store uses. */
export interface NodeFileHandle {
  readonly write: (buffer: Uint8Array, offset?: number, length?: number, position?: number | null) => Promise<{ readonly bytesWritten: number }>
  readonly read: (buffer: Uint8Array, offset: number, length: number, position: number | null) => Promise<{ readonly bytesRead: number }>
  readonly sync: () => Promise<void>
  readonly stat: () => Promise<{ readonly size: number; readonly mtimeMs: number; readonly isFile: () => boolean }>
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
  /**
   * `lstat` on the calling thread (throws like `fs.lstatSync`): for the one check made on every
   * blob read, the shard folder's, where a thread-pool round trip cost a fifth of the read.
   */
  readonly lstatSync: (path: string) => NodeLstat
  readonly readdir: (path: string, options: { readonly withFileTypes: true }) => Promise<Array<Dirent>>
  /** Callback style, like `node:fs`: a read resumes its fiber straight from the callback. */
  readonly readFile: (path: string, options: { readonly flag: number }, callback: (error: unknown, bytes?: Uint8Array) => void) => void
}

/**
 * The direct file calls every file step makes; without this service, `nodeFiles`.
 *
 * @example
 * ```ts
 * program.pipe(Effect.provideService(NodeFiles, nodeFiles))
 * ```
 */
export class NodeFiles extends Context.Service<NodeFiles, NodeFilesShape>()("@uncaged/nerve-store/fs/NodeFiles") {}

/** The largest file `readFile` reads with one `read`; larger ones go through `fs.readFile` (512 KiB chunks). */
const ONE_READ_LIMIT = 512 * 1024

/**
 * `fs.readFile`'s steps (open, fstat, read) for a small regular file, handing the bytes over as
 * soon as they are read: the descriptor is closed in the background instead of before the
 * callback, which saves one of the four thread-pool round trips of a 4 KiB read (~15%). A read
 * descriptor has nothing to flush, so its close cannot fail in a way that matters to the reader.
 * Anything else — not a regular file (a folder, a FIFO), empty, or larger than `ONE_READ_LIMIT` —
 * is read by `fs.readFile` itself, so its behaviour (and errors) stay Node's.
 */
const readFileEarlyClose: NodeFilesShape["readFile"] = (path, options, callback) =>
  fs.open(path, options.flag, (openError, fd) => {
    if (openError !== null) return callback(openError)
    const closeInBackground = () => fs.close(fd, () => undefined)
    fs.fstat(fd, (statError, stats) => {
      if (statError !== null) {
        closeInBackground()
        return callback(statError)
      }
      const size = stats.size
      if (!stats.isFile() || size === 0 || size > ONE_READ_LIMIT) {
        closeInBackground()
        return fs.readFile(path, { flag: options.flag }, (error, bytes) => callback(error, bytes))
      }
      // Not from Buffer's shared pool: the caller gets the whole ArrayBuffer, and nothing else in it.
      const buffer = Buffer.allocUnsafeSlow(size)
      const fill = (offset: number): void =>
        void fs.read(fd, buffer, offset, size - offset, offset, (readError, bytesRead) => {
          if (readError !== null) {
            closeInBackground()
            return callback(readError)
          }
          const end = offset + bytesRead
          if (bytesRead > 0 && end < size) return fill(end)
          closeInBackground()
          // A file that shrank since the fstat: what was there (the digest check will say so).
          callback(null, end === size ? buffer : buffer.subarray(0, end))
        })
      fill(0)
    })
  })

/**
 * `node:fs/promises`, except `lstat` and `readFile`, which use the callback API: a verified
 * 4 KiB read is mostly `readFile`, and the callback API skips the promise machinery (measured
 * ~10–15% faster per read). `readFile` also returns before its descriptor is closed
 * (`readFileEarlyClose`).
 */
export const nodeFiles: NodeFilesShape = {
  open: (path, flags, mode) => fsp.open(path, flags, mode),
  link: (existingPath, newPath) => fsp.link(existingPath, newPath),
  unlink: (path) => fsp.unlink(path),
  rename: (oldPath, newPath) => fsp.rename(oldPath, newPath),
  mkdir: (path, options) => fsp.mkdir(path, options),
  readdir: (path, options) => fsp.readdir(path, options),
  lstat: (path) => new Promise((resolve, reject) => fs.lstat(path, (error, stats) => error === null ? resolve(stats) : reject(error))),
  lstatSync: (path) => fs.lstatSync(path),
  readFile: readFileEarlyClose
}
