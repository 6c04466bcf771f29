/**
 * How a file step runs: a short async function over the direct `node:fs` calls (`NodeFiles`),
 * wrapped in one `Effect.tryPromise` whose failure is the `PlatformError` the Effect
 * `FileSystem` would give (`fromNodeError`). Every step of `src/fs/` runs this way, for blobs and
 * archive days alike: there is no second implementation on the Effect `FileSystem` (see
 * docs/DECISIONS.md, `## fs`).
 *
 * The calls are the `NodeFiles` service when one is provided (tests provide `FaultyFiles` to fail
 * chosen calls), else `node:fs` itself (`nodeFiles`). A `FileSystem` in context is never used by
 * a file step.
 *
 * @since 0.7.0
 */
import { Effect, type Exit, Option } from "effect"
import type { PlatformError } from "effect/PlatformError"
import { errnoOf } from "./Errno.ts"
import { type NodeFileHandle, NodeFiles, nodeFiles, type NodeFilesShape } from "./NodeFiles.ts"
import { fromNodeError } from "./PlatformErrors.ts"

/** Permissions of every file the store creates: owner read/write only. */
export const FILE_MODE = 0o600
/** Permissions of every folder the store creates: owner only. */
export const DIRECTORY_MODE = 0o700

/** A failed call inside a step: which call, on which path. */
export class StepFailure {
  readonly method: string
  readonly path: string
  readonly cause: unknown
  constructor(method: string, path: string, cause: unknown) {
    this.method = method
    this.path = path
    this.cause = cause
  }
}

/** Runs `call`, labelling a rejection with the call and path it belongs to. */
export const step = async <A>(method: string, path: string, call: () => Promise<A>): Promise<A> => {
  try {
    return await call()
  } catch (cause) {
    throw cause instanceof StepFailure ? cause : new StepFailure(method, path, cause)
  }
}

/** A Node error with an errno `code`, as a call would reject with. */
export const errnoError = (code: string, message: string): Error => Object.assign(new Error(`${code}: ${message}`), { code })

/** The errno code behind a rejection of a step (labelled or not). */
export const codeOf = (error: unknown): string | undefined => errnoOf(error instanceof StepFailure ? error.cause : error)

/** A rejection of a step as a `PlatformError` (`fallbackPath` when it was not labelled). */
export const toPlatformError = (fallbackPath: string) => (error: unknown): PlatformError =>
  error instanceof StepFailure
    ? fromNodeError(error.method, error.path, error.cause)
    : fromNodeError("unknown", fallbackPath, error)

/** The direct calls in context: the provided `NodeFiles`, else `node:fs` itself. */
export const currentFiles: Effect.Effect<NodeFilesShape> = Effect.map(
  Effect.serviceOption(NodeFiles),
  Option.getOrElse(() => nodeFiles)
)

/** One step (an async function over `files`) as an Effect failing with a `PlatformError`. */
export const runWith = <A>(files: NodeFilesShape, path: string, body: (files: NodeFilesShape) => Promise<A>): Effect.Effect<A, PlatformError> =>
  Effect.tryPromise({ try: () => body(files), catch: toPlatformError(path) })

/** `runWith` on the calls in context. */
export const run = <A>(path: string, body: (files: NodeFilesShape) => Promise<A>): Effect.Effect<A, PlatformError> =>
  Effect.flatMap(currentFiles, (files) => runWith(files, path, body))

/** Writes all of `bytes` at the handle's position (a short write is continued, never lost). */
export const writeAll = async (handle: NodeFileHandle, path: string, bytes: Uint8Array): Promise<void> => {
  let offset = 0
  while (offset < bytes.byteLength) {
    const { bytesWritten } = await step("writeAll", path, () => handle.write(bytes, offset, bytes.byteLength - offset, null))
    if (bytesWritten === 0) throw new StepFailure("writeAll", path, errnoError("EIO", "write returned 0 bytes"))
    offset += bytesWritten
  }
}

export const closeQuietly = (handle: NodeFileHandle): Promise<void> => handle.close().catch(() => undefined)
export const unlinkQuietly = (files: NodeFilesShape, path: string): Promise<void> => files.unlink(path).catch(() => undefined)

/** Removes `path` with `unlink`: whether it was there (a missing file is not an error). */
export const unlinkIfPresent = (files: NodeFilesShape, path: string): Promise<boolean> =>
  files.unlink(path).then(() => true, (error: unknown) => {
    if (codeOf(error) === "ENOENT") return false
    throw new StepFailure("remove", path, error)
  })

/** Runs `cleanup` when `exit` is not a success (a failure, a defect or an interruption). */
export const unlessSuccess = (cleanup: Effect.Effect<void>) => (exit: Exit.Exit<unknown, unknown>): Effect.Effect<void> =>
  exit._tag === "Success" ? Effect.void : cleanup
