/**
 * `nerve-store blobs put|get|stat|verify|gc`: the content-addressed blob store from a shell.
 * Content is streamed both ways (constant memory); `get` fails non-zero on a digest mismatch and
 * removes a partial `-o` file.
 *
 * @since 0.6.0
 */
import { Effect, FileSystem, Option, Stdio, Stream } from "effect"
import type { PlatformError } from "effect/PlatformError"
import { Argument, Command, Flag } from "effect/cli"
import { type BlobCheck, type BlobDigest, BlobStat, GcResult, parseDigest, type VerifyReport } from "../../schema/Blob.ts"
import { InvalidInput } from "../../schema/Errors.ts"
import { BlobStore } from "../BlobStore.ts"
import { classify } from "../fs/PlatformErrors.ts"
import * as DataDir from "./DataDir.ts"
import { CheckFailed } from "./Errors.ts"
import { fields, humanBytes, humanTime, table } from "./Format.ts"
import * as CliOutput from "./Output.ts"
import { parseDuration } from "./Parse.ts"
import * as Print from "./Print.ts"
import { Root } from "./Root.ts"

const digestArgument = Argument.String("digest").pipe(Argument.withDescription("a blob's sha256 (64 hex characters)"))

/** A file the user named could not be used: one line naming it. */
const fileError = (flag: string, path: string) => (error: PlatformError) => {
  const { reason, detail } = classify(error)
  return new InvalidInput({ field: flag, reason: `${path}: ${reason === "notFound" ? "no such file" : detail}` })
}

const put = Command.make("put", {
  file: Argument.String("file").pipe(Argument.withDescription("the file to store, or - for standard input"))
}, Effect.fn("cli.blobs.put")(function*({ file }) {
  const { dataDir, json } = yield* Root
  const fs = yield* FileSystem.FileSystem
  const stdio = yield* Stdio.Stdio
  if (file !== "-") {
    const info = yield* fs.stat(file).pipe(Effect.mapError(fileError("file", file)))
    if (info.type !== "File") return yield* new InvalidInput({ field: "file", reason: `${file}: not a file` })
  }
  const content = file === "-" ? stdio.stdin : fs.stream(file)
  yield* Effect.gen(function*() {
    const blobs = yield* BlobStore
    const digest = yield* blobs.writeStream(content.pipe(Stream.mapError(fileError("file", file))))
    const { size } = yield* blobs.stat(digest)
    yield* json ? Print.json(CliOutput.BlobPut, { digest, size }) : Print.line(digest)
  }).pipe(Effect.provide(DataDir.blobsWriting(dataDir)))
})).pipe(Command.withDescription("Stores a file (or standard input), streaming; prints its digest"))

const get = Command.make("get", {
  digest: digestArgument,
  output: Flag.String("output").pipe(Flag.withAlias("o"), Flag.withDescription("write to this file instead of standard output"), Flag.optional)
}, Effect.fn("cli.blobs.get")(function*({ digest: input, output }) {
  const { dataDir } = yield* Root
  const digest = yield* parseDigest(input)
  const fs = yield* FileSystem.FileSystem
  const stdio = yield* Stdio.Stdio
  yield* Effect.gen(function*() {
    const blobs = yield* BlobStore
    // Fails before anything is written when the blob is missing.
    yield* blobs.stat(digest)
    const bytes = blobs.stream(digest)
    if (Option.isNone(output)) return yield* Stream.run(bytes, stdio.stdout({ endOnDone: false }))
    const file = output.value
    yield* Stream.run(bytes, fs.sink(file, { flag: "w", mode: 0o600 })).pipe(
      // A blob that fails its check (or a failed write) leaves no partial file behind.
      Effect.onError(() => fs.remove(file, { force: true }).pipe(Effect.ignore)),
      Effect.catchTag("PlatformError", (error) => Effect.fail(fileError("--output", file)(error)))
    )
  }).pipe(Effect.provide(DataDir.blobsReading(dataDir)))
})).pipe(Command.withDescription("Writes a blob's bytes (verified) to standard output or -o FILE; fails on a digest mismatch"))

/** `blobs stat` for people. */
export const formatStat = (stat: BlobStat): string =>
  fields([["digest", stat.digest], ["size", `${humanBytes(stat.size)} (${stat.size} bytes)`], ["modified", humanTime(stat.mtime.getTime())]])

const stat = Command.make("stat", { digest: digestArgument }, Effect.fn("cli.blobs.stat")(function*({ digest: input }) {
  const { dataDir, json } = yield* Root
  const digest = yield* parseDigest(input)
  yield* Effect.gen(function*() {
    const found = yield* (yield* BlobStore).stat(digest)
    yield* json ? Print.json(BlobStat, found) : Print.line(formatStat(found))
  }).pipe(Effect.provide(DataDir.blobsReading(dataDir)))
})).pipe(Command.withDescription("Size and modification time of a blob"))

/** Checks one blob; with `dryRun` by streaming it (nothing is quarantined), else with `verify`. */
const check = (blobs: typeof BlobStore.Service, digest: BlobDigest, dryRun: boolean): Effect.Effect<BlobCheck> => {
  const checked: Effect.Effect<BlobCheck, unknown> = dryRun
    ? Stream.runFold(blobs.stream(digest), () => 0, (size, chunk) => size + chunk.length).pipe(
      Effect.map((size): BlobCheck => ({ _tag: "Ok", digest, size })),
      Effect.catchTag("DigestMismatch", (e) => Effect.succeed<BlobCheck>({ _tag: "Mismatch", digest, actual: e.actual, path: e.path, quarantinedTo: null }))
    )
    : blobs.verify(digest)
  return checked.pipe(
    Effect.catch((error) =>
      Effect.succeed<BlobCheck>({ _tag: "Unreadable", digest, path: "", reason: error instanceof Error ? error.message : String(error) })
    )
  )
}

/** The totals of a list of checks. */
const totals = (entries: ReadonlyArray<BlobCheck>): VerifyReport["totals"] => ({
  checked: entries.length,
  ok: entries.filter((e) => e._tag === "Ok").length,
  mismatch: entries.filter((e) => e._tag === "Mismatch").length,
  unreadable: entries.filter((e) => e._tag === "Unreadable").length,
  bytes: entries.reduce((sum, e) => sum + (e._tag === "Ok" ? e.size : 0), 0)
})

/** A verify report for people: the problems, then the totals. */
export const formatVerify = (result: CliOutput.BlobVerify): string => {
  const problems = result.report.entries.filter((e) => e._tag !== "Ok")
  const lines = problems.length === 0 ? [] : [table(
    [{ header: "DIGEST" }, { header: "PROBLEM" }],
    problems.map((e) =>
      [e.digest, e._tag === "Mismatch" ? `content hashes to ${e.actual}${e.quarantinedTo === null ? "" : `; moved to ${e.quarantinedTo}`}` : e._tag === "Unreadable" ? `unreadable: ${e.reason}` : ""]
    )
  )]
  const t = result.report.totals
  lines.push(`${t.checked} checked: ${t.ok} ok (${humanBytes(t.bytes)}), ${t.mismatch} corrupt, ${t.unreadable} unreadable${result.dryRun ? " (dry run: nothing quarantined)" : ""}`)
  return lines.join("\n")
}

const verify = Command.make("verify", {
  digests: Argument.String("digest").pipe(Argument.withDescription("blobs to check (or --all)"), Argument.variadic()),
  all: Flag.Boolean("all").pipe(Flag.withDescription("check every blob"), Flag.withDefault(false)),
  dryRun: Flag.Boolean("dry-run").pipe(Flag.withDescription("report only; do not quarantine corrupt blobs"), Flag.withDefault(false))
}, Effect.fn("cli.blobs.verify")(function*(flags) {
  const { dataDir, json } = yield* Root
  if (flags.all === (flags.digests.length > 0)) {
    return yield* new InvalidInput({ field: "digest", reason: "give blob digests or --all (not both)" })
  }
  const named = yield* Effect.forEach(flags.digests, parseDigest)
  yield* Effect.gen(function*() {
    const blobs = yield* BlobStore
    const digests = flags.all ? yield* Stream.runCollect(blobs.list()) : named
    const terminal = !json && (yield* Print.stdoutIsTerminal)
    const entries = yield* Effect.forEach(digests, (digest, i) =>
      Effect.tap(check(blobs, digest, flags.dryRun), () =>
        terminal ? Print.raw(`\rverifying ${i + 1}/${digests.length}`) : Effect.void))
    if (terminal && digests.length > 0) yield* Print.raw("\r\x1b[2K")
    const result: CliOutput.BlobVerify = { dryRun: flags.dryRun, report: { entries, totals: totals(entries) } }
    yield* json ? Print.json(CliOutput.BlobVerify, result) : Print.line(formatVerify(result))
    const bad = result.report.totals.mismatch + result.report.totals.unreadable
    if (bad > 0) return yield* new CheckFailed({ summary: `${bad} of ${entries.length} blob(s) failed verification` })
  }).pipe(Effect.provide(DataDir.blobsReading(dataDir)))
})).pipe(Command.withDescription("Re-hashes blobs; corrupt ones are moved to blobs/quarantine/ (exit 1 if any)"))

/** Reads a `--live` file: one digest per line; blank lines and `#` comments are skipped. */
const readLive = Effect.fnUntraced(function*(file: string) {
  const fs = yield* FileSystem.FileSystem
  const text = yield* fs.readFileString(file).pipe(Effect.mapError(fileError("--live", file)))
  const live: Array<BlobDigest> = []
  for (const [i, raw] of text.split("\n").entries()) {
    const entry = raw.trim()
    if (entry === "" || entry.startsWith("#")) continue
    live.push(yield* parseDigest(entry).pipe(
      Effect.mapError(() => new InvalidInput({ field: `--live ${file}`, reason: `line ${i + 1} is not a digest` }))
    ))
  }
  return live
})

/** `blobs gc` for people. */
export const formatGc = (result: GcResult): string =>
  `removed ${result.removedTemps.length} temp file(s) and ${result.removedBlobs.length} blob(s), freed ${humanBytes(result.bytesFreed)}`

const gc = Command.make("gc", {
  tempOlderThan: Flag.String("temp-older-than").pipe(Flag.withDescription("remove temp files at least this old (default 1h)"), Flag.withDefault("1h")),
  live: Flag.String("live").pipe(Flag.withDescription("a file of the digests to keep, one per line; every other blob is removed"), Flag.optional)
}, Effect.fn("cli.blobs.gc")(function*(flags) {
  const { dataDir, json } = yield* Root
  const tempOlderThan = yield* parseDuration("temp-older-than", flags.tempOlderThan)
  const live = yield* Option.match(flags.live, { onNone: () => Effect.succeed(undefined), onSome: readLive })
  yield* Effect.gen(function*() {
    const result = yield* (yield* BlobStore).gc({ tempOlderThan, ...(live === undefined ? {} : { live }) })
    yield* json ? Print.json(GcResult, result) : Print.line(formatGc(result))
  }).pipe(Effect.provide(DataDir.blobsReading(dataDir)))
})).pipe(Command.withDescription("Removes stale temp files and, with --live, blobs not listed"))

/** `nerve-store blobs`. */
export const command = Command.make("blobs").pipe(
  Command.withDescription("The content-addressed blob store"),
  Command.withSubcommands([put, get, stat, verify, gc])
)
