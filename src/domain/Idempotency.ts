/**
 * Idempotency keys as pure decisions: what a keyed request is compared on (its fingerprint), how
 * long a key is remembered, and what a stored key means for a new request.
 *
 * @since 0.8.0
 */

/** How long an idempotency key is remembered: 7 days. */
export const IDEMPOTENCY_RETENTION_MS = 7 * 24 * 60 * 60 * 1000

/** JSON with object keys sorted, so two equal requests give one string whatever their key order. */
export const canonicalJson = (value: unknown): string =>
  JSON.stringify(value, (_key, inner: unknown) =>
    inner !== null && typeof inner === "object" && !Array.isArray(inner)
      ? Object.fromEntries(Object.entries(inner).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : inner)

/** What a keyed request is compared on: its validated request as canonical JSON (the operation is compared apart). */
export const fingerprint = (request: unknown): string => canonicalJson(request)

/** Keys created before this time (by the Clock of the write that stored them) are pruned at `now`. */
export const pruneBefore = (now: number): number => now - IDEMPOTENCY_RETENTION_MS

/** A stored key, as a backend reads it. */
export interface StoredKey {
  readonly operation: string
  readonly request: string
  /** The stored result, as JSON text. */
  readonly result: unknown
}

/**
 * What a stored key means for a request: `replay` (same operation and fingerprint: return the
 * stored result, write nothing) or `conflict` (with the detail to report).
 */
export type KeyVerdict = { readonly _tag: "Replay" } | { readonly _tag: "Conflict"; readonly detail: string }

/** Judges a stored key against `operation` and `fingerprint` of a new request. */
export const judgeKey = (stored: StoredKey, operation: string, requestFingerprint: string): KeyVerdict =>
  stored.operation !== operation
    ? { _tag: "Conflict", detail: `the key was first used by ${stored.operation}, not ${operation}` }
    : stored.request !== requestFingerprint
    ? { _tag: "Conflict", detail: `the first request was ${stored.request}` }
    : { _tag: "Replay" }
