/**
 * The blob references of the log (SPEC §CLI, "Blob references"): a row references a blob when
 * its JSON payload has a `blob` / `blobs` field, or a thread message's `meta.blob` / `meta.blobs`
 * — a digest or an array of digests. `blobs refs` lists them and `blobs gc --from-logs` keeps
 * them; both read every row in SQLite (`LogStore.stream`) and every archived day
 * (`LogArchive.readDay`), so a blob only an archived row points to is kept too.
 *
 * @since 0.7.0
 */
import { Effect, Option, Schema, Stream } from "effect"
import { type ArchivedDay, type BlobDigest, isBlobDigest, LogArchive, type LogEntry, LogStore } from "../index.ts"

/** What one payload references: canonical digests, and how many values were not digests. */
export interface PayloadRefs {
  readonly digests: ReadonlyArray<BlobDigest>
  readonly invalid: number
}

/**
 * A payload as the convention reads it: an object with `blob` / `blobs` and maybe a `meta` object
 * holding them; any other JSON (or bad JSON) references nothing.
 */
const RefsPayload = Schema.fromJsonString(Schema.Struct({
  blob: Schema.optional(Schema.Unknown),
  blobs: Schema.optional(Schema.Unknown),
  meta: Schema.optional(Schema.Unknown)
}))
const decodePayload = Schema.decodeUnknownOption(RefsPayload)

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value)

/** The values of `blob` and `blobs` in `object` (a string, or an array of them). */
const fieldValues = (object: { readonly blob?: unknown; readonly blobs?: unknown }): ReadonlyArray<unknown> =>
  [object.blob, object.blobs].flatMap((value) => (value === undefined ? [] : Array.isArray(value) ? value : [value]))

/**
 * The digests a payload references, normalised as every digest input (trim, lowercase). The
 * `meta` of any object payload counts (a thread message's is the documented place): a larger
 * live set only keeps more blobs, never removes one a row points to.
 *
 * @example
 * ```ts
 * payloadRefs(JSON.stringify({ role: "tool", content: "…", meta: { blob: "AB…" } })) // { digests: ["ab…"], invalid: 0 }
 * ```
 */
export const payloadRefs = (payload: string | null): PayloadRefs => {
  if (payload === null || !payload.includes("blob")) return { digests: [], invalid: 0 }
  const decoded = decodePayload(payload)
  if (Option.isNone(decoded)) return { digests: [], invalid: 0 }
  const parsed = decoded.value
  const values = [...fieldValues(parsed), ...(isObject(parsed.meta) ? fieldValues(parsed.meta) : [])]
  const digests: Array<BlobDigest> = []
  let invalid = 0
  for (const value of values) {
    const text = typeof value === "string" ? value.trim().toLowerCase() : ""
    if (isBlobDigest(text)) digests.push(text)
    else invalid++
  }
  return { digests, invalid }
}

/** What a scan of the log found. */
export interface RefScan {
  /** Referenced digests, sorted. */
  readonly digests: ReadonlyArray<BlobDigest>
  /** Rows read: in SQLite, and in archived days. */
  readonly sqliteRows: number
  readonly archivedRows: number
  /** Rows that reference at least one blob. */
  readonly referencingRows: number
  /** `blob`/`blobs` values that are not digests. */
  readonly invalid: number
  /** Archived days read, and those that could not be read (their references are unknown). */
  readonly days: number
  readonly unreadableDays: ReadonlyArray<{ readonly day: string; readonly reason: string }>
}

/** Days whose file cannot be read as it was recorded. */
const UNREADABLE: ReadonlySet<ArchivedDay["status"]> = new Set(["missing", "mismatch", "quarantined"])

/** Scans SQLite and every archived day for blob references. */
export const scan = Effect.gen(function*() {
  const log = yield* LogStore
  const archive = yield* LogArchive
  const found = new Set<BlobDigest>()
  let referencingRows = 0
  let invalid = 0
  const take = (row: LogEntry) =>
    Effect.sync(() => {
      const refs = payloadRefs(row.payload)
      if (refs.digests.length > 0) referencingRows++
      invalid += refs.invalid
      for (const digest of refs.digests) found.add(digest)
    })
  const sqliteRows = yield* log.stream({}).pipe(Stream.tap(take), Stream.runCount)
  let archivedRows = 0
  const unreadableDays: Array<{ day: string; reason: string }> = []
  const days = yield* archive.days()
  for (const day of days) {
    if (UNREADABLE.has(day.status)) {
      unreadableDays.push({ day: day.day, reason: `its file is ${day.status}` })
      continue
    }
    const read = yield* archive.readDay(day.day).pipe(Stream.tap(take), Stream.runCount, Effect.result)
    if (read._tag === "Success") archivedRows += read.success
    else unreadableDays.push({ day: day.day, reason: read.failure.message })
  }
  return {
    digests: [...found].sort(),
    sqliteRows,
    archivedRows,
    referencingRows,
    invalid,
    days: days.length,
    unreadableDays
  } satisfies RefScan
})
