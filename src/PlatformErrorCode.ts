/**
 * Questions asked of a `PlatformError` by the file-handling code (`DurableFile`, the BlobStore,
 * the archive's day files): was the file missing, and which errno code is behind it
 * (ENOTDIR, EXDEV, ENOSPC, ...) when the `reason` tag is not enough.
 *
 * @since 0.6.0
 */
import type { PlatformError } from "effect/PlatformError"

/**
 * The errno code (`ENOTDIR`, `ENOSPC`, ...) of the Node error behind `error`, if there is one.
 *
 * @example
 * ```ts
 * fs.link(a, b).pipe(Effect.catchIf((e) => errnoCode(e) === "EXDEV", () => fs.rename(a, b)))
 * ```
 */
export const errnoCode = (error: PlatformError): string | undefined => {
  const cause: unknown = error.reason.cause
  if (typeof cause !== "object" || cause === null) return undefined
  const code: unknown = Reflect.get(cause, "code")
  return typeof code === "string" ? code : undefined
}

/** Whether the error is ENOENT: the file or folder is not there. */
export const isNotFound = (error: PlatformError): boolean => error.reason._tag === "NotFound"
