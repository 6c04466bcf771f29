/**
 * The one place the errno code of a failed `node:fs` call is read (`ENOENT`, `ELOOP`, ...).
 *
 * @since 0.7.0
 */

/**
 * The errno code a Node error carries, if it is one.
 *
 * @example
 * ```ts
 * errnoOf(Object.assign(new Error("gone"), { code: "ENOENT" })) // "ENOENT"
 * errnoOf("not an error") // undefined
 * ```
 */
export const errnoOf = (error: unknown): string | undefined => {
  const code: unknown = typeof error === "object" && error !== null ? Reflect.get(error, "code") : undefined
  return typeof code === "string" ? code : undefined
}
