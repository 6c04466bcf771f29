/**
 * What the file-system BlobStore's pieces share: the Effect `FileSystem` and `Path` services
 * (also as a context, for `DurableFile`), the root's paths, and the mapping of a `PlatformError`
 * to the typed `BlobStoreError` / `BlobNotFound`.
 *
 * @since 0.6.0
 */
import { Context, Effect, FileSystem, Path } from "effect"
import type { PlatformError } from "effect/PlatformError"
import { BlobStoreError, type BlobStoreErrorReason } from "../../schema/Blob.ts"
import { BlobNotFound } from "../../schema/Errors.ts"
import { errnoCode, isNotFound } from "../PlatformErrorCode.ts"
import type { BlobPaths } from "./BlobPath.ts"
import { makeBlobPaths } from "./BlobPath.ts"

/** The services and paths one blob root works with. */
export interface BlobEnv {
  readonly fs: FileSystem.FileSystem
  readonly path: Path.Path
  readonly paths: BlobPaths
  /** `FileSystem` and `Path`, to provide to `DurableFile`'s functions. */
  readonly context: Context.Context<FileSystem.FileSystem | Path.Path>
}

/** Builds the environment of the blob root `root` from the current `FileSystem` and `Path`. */
export const makeBlobEnv = (root: string): Effect.Effect<BlobEnv, never, FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const context = Context.make(FileSystem.FileSystem, fs).pipe(Context.add(Path.Path, path))
    return { fs, path, paths: makeBlobPaths(path, root), context }
  })

const reasonByCode: Record<string, BlobStoreErrorReason> = {
  EACCES: "permissionDenied",
  EPERM: "permissionDenied",
  EROFS: "readOnly",
  ENOSPC: "diskFull",
  EDQUOT: "diskFull",
  ENOTDIR: "notADirectory",
  EISDIR: "isADirectory",
  ENOENT: "notFound",
  EMFILE: "tooManyOpenFiles",
  ENFILE: "tooManyOpenFiles",
  EIO: "io"
}

/**
 * Classifies a `PlatformError` as a `BlobStoreError` of `operation`: the reason from the errno
 * code (else from the error's own tag), the path the error names (else `path`).
 */
export const classifyPlatformError = (operation: string, path: string, error: PlatformError): BlobStoreError => {
  const code = errnoCode(error) ?? null
  const reason = error.reason
  const reported = reason._tag !== "BadArgument" && typeof reason.pathOrDescriptor === "string"
    ? reason.pathOrDescriptor
    : path
  const classified: BlobStoreErrorReason = code !== null
    ? reasonByCode[code] ?? "other"
    : reason._tag === "NotFound"
    ? "notFound"
    : reason._tag === "PermissionDenied"
    ? "permissionDenied"
    : "other"
  return new BlobStoreError({ operation, path: reported, reason: classified, code, detail: error.message })
}

/** `PlatformError` → `BlobStoreError` naming the operation (and `path` when the error has none). */
export const ioError = (operation: string, path: string) => (error: PlatformError): BlobStoreError =>
  classifyPlatformError(operation, path, error)

/** Like `ioError`, but always names `path` (for steps whose error names another file, e.g. link's source). */
export const ioErrorAt = (operation: string, path: string) => (error: PlatformError): BlobStoreError => {
  const classified = classifyPlatformError(operation, path, error)
  const { operation: op, reason, code, detail } = classified
  return classified.path === path ? classified : new BlobStoreError({ operation: op, path, reason, code, detail })
}

/** Whether a platform error is ENOTDIR (a plain file sits where a folder should be). */
export const isNotADirectory = (error: PlatformError): boolean => errnoCode(error) === "ENOTDIR"

/**
 * Whether looking up a blob's file shows it is not there: ENOENT, or ENOTDIR (a plain file sits
 * where its shard folder should be, so no blob can be under it).
 */
export const isAbsent = (error: PlatformError): boolean => isNotFound(error) || isNotADirectory(error)

/** Like `ioError`, but a lookup that shows the blob is absent (`isAbsent`) is `BlobNotFound`. */
export const ioErrorOrNotFound = (operation: string, path: string, digest: string) =>
(error: PlatformError): BlobStoreError | BlobNotFound =>
  isAbsent(error) ? new BlobNotFound({ digest }) : classifyPlatformError(operation, path, error)
