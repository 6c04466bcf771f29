/**
 * Reading and writing the bytes of a day file: the 0.5 line format, optional gzip, and the
 * sha256 check against the manifest.
 *
 * @since 0.6.0
 */
import * as NodeStream from "@effect/platform-node/NodeStream"
import { Array as Arr, Effect, Result, Schema, Stream } from "effect"
import { createGunzip, createGzip } from "node:zlib"
import { ArchiveLineJson, archiveLineToLogEntry } from "../../schema/Archive.ts"
import { ArchiveError } from "../../schema/Errors.ts"
import type { LogEntry } from "../../schema/LogEntry.ts"
import { describeIssue } from "../domain/Validate.ts"
import { hashing, hashStream, makeSha256 } from "../fs/Sha256.ts"
import type { DayFileStore } from "./DayFileStore.ts"

/** A decoded line and its 1-based line number in the file. */
export interface DayLine {
  readonly line: number
  readonly entry: LogEntry
}

/** A size and sha256 the file may have (the manifest's, or a pending publish's). */
export interface Expected {
  readonly sha256: string
  readonly bytes: number
}

const decodeLine = Schema.decodeUnknownResult(ArchiveLineJson)
const reasonOf = (cause: unknown): string => (cause instanceof Error ? cause.message : String(cause))

/** The sha256 and size of a byte stream. */
export const hashContent = <E>(content: Stream.Stream<Uint8Array, E>): Effect.Effect<Expected, E> =>
  Effect.map(hashStream(content), ({ sha256, size }) => ({ sha256, bytes: size }))

/**
 * The longest line a day file may have, in UTF-16 code units of its decoded text: a line is one
 * JavaScript string, and V8 cannot make a string of 2^29 - 24 units or more (a longer line died
 * with `RangeError: Invalid string length`). A longer line fails with `ArchiveError`, before it
 * is assembled.
 */
export const MAX_LINE_CHARS = 500 * 1024 * 1024

/** Options of reading a day file. */
export interface DecodeOptions {
  /** The longest line accepted (default `MAX_LINE_CHARS`); tests use a small one. */
  readonly maxLineChars?: number
}

/**
 * `text` unchanged, failing as soon as a line grows past `maxLineChars` (counted across chunks,
 * before `splitLines` joins them into one string).
 */
const boundLines = (file: string, maxLineChars: number) => <E>(text: Stream.Stream<string, E>): Stream.Stream<string, E | ArchiveError> =>
  Stream.suspend(() => {
    let open = 0
    let line = 1
    const tooLong = () =>
      Effect.fail(
        new ArchiveError({
          file,
          line,
          reason: "corrupt",
          detail: `a line longer than ${maxLineChars} characters (the longest a day file line may be): not read`
        })
      )
    return Stream.mapEffect(text, (chunk) => {
      let start = 0
      for (let i = chunk.indexOf("\n"); i >= 0; i = chunk.indexOf("\n", start)) {
        if (open + i - start > maxLineChars) return tooLong()
        open = 0
        line++
        start = i + 1
      }
      open += chunk.length - start
      return open > maxLineChars ? tooLong() : Effect.succeed(chunk)
    })
  })

/** Compresses a byte stream with gzip. */
export const gzip = <E>(file: string) => (bytes: Stream.Stream<Uint8Array, E>): Stream.Stream<Uint8Array, E | ArchiveError> =>
  NodeStream.pipeThroughDuplex(bytes, {
    evaluate: () => createGzip({ level: 6 }),
    onError: (cause) => new ArchiveError({ file, reason: "other", detail: `gzip failed: ${reasonOf(cause)}`, cause })
  })

/** The detail of an `ArchiveError` for a file that is not what the manifest recorded. */
export const MISMATCH_DETAIL = "content does not match the manifest"

/**
 * UTF-8 text of a byte stream, failing on the first invalid sequence (0.5 files with invalid UTF-8
 * are reported, never read as U+FFFD).
 */
const decodeUtf8 = (file: string) => <E>(bytes: Stream.Stream<Uint8Array, E>): Stream.Stream<string, E | ArchiveError> =>
  Stream.suspend(() => {
    const decoder = new TextDecoder("utf-8", { fatal: true })
    let offset = 0
    const decode = (chunk: Uint8Array | undefined): Effect.Effect<string, ArchiveError> =>
      Effect.try({
        try: () => (chunk === undefined ? decoder.decode() : decoder.decode(chunk, { stream: true })),
        catch: (cause) =>
          new ArchiveError({
            file,
            reason: "corrupt",
            detail: `invalid UTF-8 in the ${offset === 0 ? "first" : `bytes after offset ${offset} of the`} file`,
            cause
          })
      }).pipe(Effect.tap(() => Effect.sync(() => void (offset += chunk?.byteLength ?? 0))))
    return Stream.concat(
      Stream.mapEffect(bytes, (chunk) => decode(chunk)),
      Stream.fromEffect(decode(undefined))
    ).pipe(Stream.filter((text) => text !== ""))
  })

/**
 * The decoded lines of the stored file `name`, in file order. A line that is not a valid archive
 * line fails with `ArchiveError { file, line, reason }`; with `expected`, the file's sha256 and
 * size are checked at the end against each accepted identity (a mismatch fails after the last line).
 */
export const readDayLines = (
  store: DayFileStore,
  name: string,
  expected?: ReadonlyArray<Expected>,
  options?: DecodeOptions
): Stream.Stream<DayLine, ArchiveError> => decodeDayFile(store.describe(name), name, store.read(name), expected, options)

/**
 * Fails when a file of `bytes` bytes cannot be any of the `expected` identities: checked before
 * the file is read, so a file grown or swapped on disk is refused without reading it.
 */
export const checkSize = (file: string, bytes: number, expected: ReadonlyArray<Expected>): Effect.Effect<void, ArchiveError> => {
  if (expected.some((e) => e.bytes === bytes)) return Effect.void
  const wanted = expected.map((e) => `${e.bytes} bytes`).join(" or ")
  return Effect.fail(
    new ArchiveError({
      file,
      reason: "corrupt",
      detail: `${MISMATCH_DETAIL} (${bytes} bytes on disk; expected ${wanted === "" ? "a recorded file" : wanted}): not read`
    })
  )
}

/** {@link readDayLines} of content already opened (`raw`), for the file `file` named `name`. */
export const decodeDayFile = (
  file: string,
  name: string,
  content: Stream.Stream<Uint8Array, ArchiveError>,
  expected?: ReadonlyArray<Expected>,
  options?: DecodeOptions
): Stream.Stream<DayLine, ArchiveError> =>
  Stream.suspend(() => {
    const sum = makeSha256()
    const raw = hashing(content, sum)
    const bytes = name.endsWith(".gz")
      ? NodeStream.pipeThroughDuplex(raw, {
        evaluate: () => createGunzip(),
        onError: (cause) => new ArchiveError({ file, reason: "corrupt", detail: `not a valid gzip file: ${reasonOf(cause)}`, cause })
      })
      : raw
    const lines = bytes.pipe(
      decodeUtf8(file),
      boundLines(file, options?.maxLineChars ?? MAX_LINE_CHARS),
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
      const { sha256: actual, size } = sum.result()
      if (expected.some((e) => actual === e.sha256 && size === e.bytes)) return Effect.void
      const wanted = expected.map((e) => `${e.sha256}, ${e.bytes} bytes`).join(" or ")
      return Effect.fail(
        new ArchiveError({
          file,
          reason: "corrupt",
          detail: `${MISMATCH_DETAIL} (sha256 ${actual}, ${size} bytes; expected ${wanted === "" ? "a recorded file" : wanted})`
        })
      )
    })
    return Stream.concat(lines, Stream.fromEffectDrain(verify))
  })
