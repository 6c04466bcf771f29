/**
 * Reading and writing the bytes of a day file: the 0.5 line format, optional gzip, and the
 * sha256 check against the manifest.
 *
 * @since 0.6.0
 */
import * as NodeStream from "@effect/platform-node/NodeStream"
import { Array as Arr, Effect, Result, Schema, Stream } from "effect"
import { createHash } from "node:crypto"
import { createGunzip, createGzip } from "node:zlib"
import { ArchiveLineJson, archiveLineToLogEntry } from "../../schema/Archive.ts"
import { ArchiveError } from "../../schema/Errors.ts"
import type { LogEntry } from "../../schema/LogEntry.ts"
import { describeIssue } from "../domain/Validate.ts"
import type { DayFileStore } from "./DayFileStore.ts"

/** A decoded line and its 1-based line number in the file. */
export interface DayLine {
  readonly line: number
  readonly entry: LogEntry
}

/** What the manifest says the file must be. */
export interface Expected {
  readonly sha256: string
  readonly bytes: number
}

const decodeLine = Schema.decodeUnknownResult(ArchiveLineJson)
const reasonOf = (cause: unknown): string => (cause instanceof Error ? cause.message : String(cause))

/** Compresses a byte stream with gzip. */
export const gzip = <E>(file: string) => (bytes: Stream.Stream<Uint8Array, E>): Stream.Stream<Uint8Array, E | ArchiveError> =>
  NodeStream.pipeThroughDuplex(bytes, {
    evaluate: () => createGzip({ level: 6 }),
    onError: (cause) => new ArchiveError({ file, reason: "other", detail: `gzip failed: ${reasonOf(cause)}`, cause })
  })

/**
 * The decoded lines of the stored file `name`, in file order. A line that is not a valid archive
 * line fails with `ArchiveError { file, line, reason }`; with `expected`, the file's size is
 * checked first and its sha256 at the end (a mismatch fails after the last line).
 */
export const readDayLines = (
  store: DayFileStore,
  name: string,
  expected?: Expected
): Stream.Stream<DayLine, ArchiveError> =>
  Stream.suspend(() => {
    const file = store.describe(name)
    const hash = createHash("sha256")
    let size = 0
    const raw = store.read(name).pipe(Stream.map((chunk) => {
      hash.update(chunk)
      size += chunk.byteLength
      return chunk
    }))
    const bytes = name.endsWith(".gz")
      ? NodeStream.pipeThroughDuplex(raw, {
        evaluate: () => createGunzip(),
        onError: (cause) => new ArchiveError({ file, reason: "corrupt", detail: `not a valid gzip file: ${reasonOf(cause)}`, cause })
      })
      : raw
    const lines = bytes.pipe(
      Stream.decodeText(),
      Stream.splitLines,
      Stream.map((text, index) => ({ text, line: index + 1 })),
      Stream.filter(({ text }) => text.trim() !== ""),
      Stream.mapArrayEffect((chunk) => {
        const out: Array<DayLine> = []
        for (const { line, text } of chunk) {
          const decoded = decodeLine(text)
          if (Result.isFailure(decoded)) {
            const { field, reason } = describeIssue(decoded.failure.issue, "")
            const at = field === "" ? reason : `${field}: ${reason}`
            return Effect.fail(new ArchiveError({ file, line, reason: "corrupt", detail: `malformed archive line: ${at}` }))
          }
          out.push({ line, entry: archiveLineToLogEntry(decoded.success) })
        }
        // Every line of the non-empty chunk was pushed (or we failed above), so `out` is non-empty.
        return Arr.isReadonlyArrayNonEmpty(out)
          ? Effect.succeed(out)
          : Effect.fail(new ArchiveError({ file, reason: "corrupt", detail: "a chunk of lines decoded to nothing" }))
      })
    )
    const verify = Effect.suspend(() => {
      if (expected === undefined) return Effect.void
      const actual = hash.digest("hex")
      if (actual === expected.sha256 && size === expected.bytes) return Effect.void
      return Effect.fail(
        new ArchiveError({
          file,
          reason: "corrupt",
          detail: `content does not match the manifest (sha256 ${actual}, ${size} bytes; expected ${expected.sha256}, ${expected.bytes} bytes)`
        })
      )
    })
    return Stream.concat(lines, Stream.fromEffectDrain(verify))
  })
