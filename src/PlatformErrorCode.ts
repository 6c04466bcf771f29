/**
 * The errno code behind a `PlatformError`, for the few decisions that need more than its
 * `reason` tag (ENOTDIR, EXDEV, ENOSPC, ...). The one copy shared by `DurableFile` and the
 * BlobStore.
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
