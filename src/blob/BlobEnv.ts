/**
 * What the file-system BlobStore's pieces share: the Effect `FileSystem` and `Path` services and
 * the direct file calls (`NodeFiles`, also as a context, for `DurableFile`), the root's paths,
 * and the mapping of a `PlatformError` to the typed `BlobStoreError` / `BlobNotFound`.
 *
 * @since 0.6.0
 */
import { Context, Effect, FileSystem, Option, Path } from "effect"
import type { PlatformError } from "effect/PlatformError"
import { BlobNotFound, BlobStoreError } from "../../schema/Errors.ts"
import { NodeFiles, nodeFiles, type NodeFilesShape } from "../fs/NodeFiles.ts"
import { classify, errnoCode, isNotFound } from "../fs/PlatformErrors.ts"
import type { BlobPaths } from "./BlobPath.ts"
import { makeBlobPaths } from "./BlobPath.ts"

/** The services and paths one blob root works with. */
export interface BlobEnv {
  readonly fs: FileSystem.FileSystem
  readonly path: Path.Path
  readonly paths: BlobPaths
  /** The direct file calls of the hot paths and of every check that must not follow a link. */
  readonly files: NodeFilesShape
  /** `FileSystem`, `Path` and `NodeFiles`, to provide to `DurableFile`'s functions. */
  readonly context: Context.Context<FileSystem.FileSystem | Path.Path | NodeFiles>
}

/** Builds the environment of the blob root `root` from the current `FileSystem` and `Path`. */
export const makeBlobEnv = (root: string): Effect.Effect<BlobEnv, never, FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const files = Option.getOrElse(yield* Effect.serviceOption(NodeFiles), () => nodeFiles)
    const context = Context.make(FileSystem.FileSystem, fs).pipe(Context.add(Path.Path, path), Context.add(NodeFiles, files))
    return { fs, path, paths: makeBlobPaths(path, root), files, context }
  })

/**
 * Classifies a `PlatformError` as a `BlobStoreError` of `operation`, naming the path the error
 * names (else `path`).
 */
export const classifyPlatformError = (operation: string, path: string, error: PlatformError): BlobStoreError => {
  const { reason, code, path: named, detail } = classify(error)
  return new BlobStoreError({ operation, path: named ?? path, reason, code, detail, cause: error })
}

/** `PlatformError` → `BlobStoreError` naming the operation (and `path` when the error has none). */
export const ioError = (operation: string, path: string) => (error: PlatformError): BlobStoreError =>
  classifyPlatformError(operation, path, error)

/** Like `ioError`, but always names `path` (for steps whose error names another file, e.g. link's source). */
export const ioErrorAt = (operation: string, path: string) => (error: PlatformError): BlobStoreError => {
  const classified = classifyPlatformError(operation, path, error)
  return classified.path === path ? classified : new BlobStoreError({ ...classified, path })
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

/** Whether the error is ELOOP: `O_NOFOLLOW` met a symbolic link. */
export const isSymbolicLinkError = (error: PlatformError): boolean => errnoCode(error) === "ELOOP"

/** The detail of every refusal to follow a link. */
export const SYMLINK_DETAIL = "a symbolic link: the blob store never follows a link out of its root"

/** The error of meeting a symbolic link where a shard folder, a blob or `quarantine/` should be. */
export const symbolicLinkRefused = (operation: string, path: string): BlobStoreError =>
  new BlobStoreError({ operation, path, reason: "other", code: "ELOOP", detail: SYMLINK_DETAIL })
