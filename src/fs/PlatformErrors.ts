/**
 * The one place a `PlatformError` (what the Effect `FileSystem` fails with) is classified into
 * our `FileErrorReason`, for the blob store, the archive's day files and data-directory setup.
 *
 * @since 0.6.0
 */
import { type PlatformError, systemError, type SystemErrorTag } from "effect/PlatformError"
import { DataDirectoryError, type FileErrorReason } from "../../schema/Errors.ts"
import { errnoOf } from "./Errno.ts"

/**
 * The errno code (`ENOTDIR`, `ENOSPC`, ...) of the Node error behind `error`, if there is one.
 *
 * @example
 * ```ts
 * fs.link(a, b).pipe(Effect.catchIf((e) => errnoCode(e) === "EXDEV", () => fs.rename(a, b)))
 * ```
 */
export const errnoCode = (error: PlatformError): string | undefined => errnoOf(error.reason.cause)

const tagByCode: Readonly<Record<string, SystemErrorTag>> = {
  ENOENT: "NotFound",
  EACCES: "PermissionDenied",
  EPERM: "PermissionDenied",
  EEXIST: "AlreadyExists",
  EISDIR: "BadResource",
  ENOTDIR: "BadResource",
  ELOOP: "BadResource",
  EBUSY: "Busy"
}

/**
 * The `PlatformError` the Effect `FileSystem` would give for a failed `node:fs` call, so errors
 * of the direct calls (`NodeFiles`) are classified like every other file error.
 *
 * @example
 * ```ts
 * Effect.tryPromise({ try: () => files.link(a, b), catch: (e) => fromNodeError("link", b, e) })
 * ```
 */
export const fromNodeError = (method: string, path: string, error: unknown): PlatformError => {
  const code = errnoOf(error)
  return systemError({
    _tag: (code === undefined ? undefined : tagByCode[code]) ?? "Unknown",
    module: "FileSystem",
    method,
    pathOrDescriptor: path,
    syscall: typeof error === "object" && error !== null && typeof Reflect.get(error, "syscall") === "string"
      ? String(Reflect.get(error, "syscall"))
      : undefined,
    cause: error
  })
}

/** Whether the error is ENOENT: the file or folder is not there. */
export const isNotFound = (error: PlatformError): boolean => error.reason._tag === "NotFound"

const reasonByCode: Readonly<Record<string, FileErrorReason>> = {
  EACCES: "permissionDenied",
  EPERM: "permissionDenied",
  EROFS: "readOnly",
  ENOSPC: "diskFull",
  EDQUOT: "diskFull",
  EFBIG: "diskFull",
  ENOTDIR: "notADirectory",
  EISDIR: "isADirectory",
  ENOENT: "notFound",
  EEXIST: "alreadyExists",
  EMFILE: "tooManyOpenFiles",
  ENFILE: "tooManyOpenFiles",
  EIO: "io"
}

const reasonByTag: Readonly<Partial<Record<PlatformError["reason"]["_tag"], FileErrorReason>>> = {
  NotFound: "notFound",
  PermissionDenied: "permissionDenied",
  AlreadyExists: "alreadyExists"
}

/** What went wrong, classified: the reason, the errno code, the path the error names (if any), the text. */
export interface ClassifiedFileError {
  readonly reason: FileErrorReason
  readonly code: string | null
  readonly path: string | undefined
  readonly detail: string
}

/**
 * Classifies `error` by its errno code, else by its tag. The detail names the errno code rather
 * than a descriptor number (`ENOSPC: no space left on device`, not `writeAll (25)`).
 */
export const classify = (error: PlatformError): ClassifiedFileError => {
  const code = errnoCode(error) ?? null
  const reason = error.reason
  const cause: unknown = reason.cause
  const causeMessage = typeof cause === "object" && cause !== null && "message" in cause && typeof cause.message === "string"
    ? cause.message
    : undefined
  return {
    reason: (code === null ? undefined : reasonByCode[code]) ?? reasonByTag[reason._tag] ?? "other",
    code,
    path: reason._tag !== "BadArgument" && typeof reason.pathOrDescriptor === "string" ? reason.pathOrDescriptor : undefined,
    detail: causeMessage ?? error.message
  }
}

/** The error of preparing the data directory `path` (or a folder inside it). */
export const dataDirectoryError = (path: string, error: PlatformError): DataDirectoryError => {
  const { reason, code, detail } = classify(error)
  return new DataDirectoryError({ path, reason, code, detail, cause: error })
}
