/**
 * Public operations built with `Effect.fn`, without the per-call call-site capture.
 *
 * @since 0.7.0
 */

const stackTraceLimitWritable = Object.getOwnPropertyDescriptor(Error, "stackTraceLimit")?.writable === true

/**
 * Calls an `Effect.fn` operation without capturing its call site. `Effect.fn` records where it
 * was called by constructing an `Error` on every call unless `Error.stackTraceLimit` is 0; that
 * capture (6–8 µs, more on a loaded machine) costs more than the rest of a hot operation's
 * overhead together (docs/PERFORMANCE.md). The span and the definition site stay; only the
 * caller's file and line are missing from a failure's trace. The limit is restored before any
 * other code runs (the call only builds the Effect, synchronously).
 *
 * @example
 * ```ts
 * const read = withoutCallSite(Effect.fn("BlobStore.read")(function*(input: string) { ... }))
 * ```
 */
export const withoutCallSite = <Args extends ReadonlyArray<unknown>, R>(operation: (...args: Args) => R): (...args: Args) => R => {
  if (!stackTraceLimitWritable) return operation
  return (...args) => {
    const limit = Error.stackTraceLimit
    Error.stackTraceLimit = 0
    try {
      return operation(...args)
    } finally {
      Error.stackTraceLimit = limit
    }
  }
}
