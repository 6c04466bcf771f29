/**
 * `nerve-store blobs put|get|stat|verify` (and `list|refs|gc` from `BlobsGc.ts`): the
 * content-addressed blob store from a shell.
 * Content is streamed both ways (constant memory); `get` fails non-zero on a digest mismatch and
 * removes a partial `-o` file.
 *
 * @since 0.6.0
 */
import { Effect, FileSystem, Option, Stdio, Stream } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import { type BlobCheck, type BlobDigest, BlobStat, BlobStore, parseDigest, type VerifyReport } from "../index.ts"
import * as BlobsGc from "./BlobsGc.ts"
import * as DataDir from "./DataDir.ts"
import { CheckFailed, fileError, UsageError } from "./Errors.ts"
import { fields, humanBytes, table } from "./Format.ts"
import * as CliOutput from "./Output.ts"
import * as Print from "./Print.ts"
import { Root } from "./Root.ts"
import * as View from "./View.ts"

const digestArgument = Argument.String("digest").pipe(Argument.withDescription("a blob's sha256 (64 hex characters)"))

const put = Command.make("put", {
  file: Argument.String("file").pipe(Argument.withDescription("the file to store, or - for standard input"))
}, Effect.fn("cli.blobs.put")(function*({ file }) {
  const { dataDir, json } = yield* Root
  const fs = yield* FileSystem.FileSystem
  const stdio = yield* Stdio.Stdio
  if (file !== "-") {
    const info = yield* fs.stat(file).pipe(Effect.mapError(fileError("file", file)))
    if (info.type !== "File") return yield* new UsageError({ field: "file", reason: `${file}: not a file` })
  }
  const content = file === "-" ? stdio.stdin : fs.stream(file)
  yield* Effect.gen(function*() {
    const blobs = yield* BlobStore
    const digest = yield* blobs.writeStream(content.pipe(Stream.mapError(fileError("file", file))))
    const { size } = yield* blobs.stat(digest)
    yield* json ? Print.json(CliOutput.BlobPut, { digest, size }) : Print.line(digest)
  }).pipe(Effect.provide(DataDir.blobsWriting(dataDir)))
})).pipe(
  Command.withDescription("Stores a file (or standard input), streaming; prints its digest"),
  Command.withExamples([{ command: "nerve-store blobs put report.pdf", description: "store a file; prints its digest" }, { command: "nerve-store blobs put - < report.pdf", description: "store standard input" }])
)

/** Whether a chunk reads as text a terminal may show: UTF-8, and no control characters but tab and line ends. */
const isText = (chunk: Uint8Array): boolean => {
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u0008\u000b\u000e-\u001f\u007f]/.test(new TextDecoder("latin1").decode(chunk))) return false
  try {
    new TextDecoder("utf-8", { fatal: true }).decode(chunk, { stream: true })
    return true
  } catch {
    return false
  }
}

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
    if (Option.isNone(output)) {
      // A terminal gets text only: binary (or escape sequences) would garble or drive it.
      if (yield* Print.stdoutIsTerminal) {
        const head = yield* Stream.runCollect(Stream.take(bytes, 1))
        if (head[0] !== undefined && !isText(head[0])) {
          return yield* new UsageError({
            field: "--output",
            reason: `blob ${digest} is binary (or holds control characters): not written to a terminal; use -o FILE, or pipe it`
          })
        }
      }
      return yield* Stream.run(bytes, stdio.stdout({ endOnDone: false }))
    }
    const file = output.value
    yield* Stream.run(bytes, fs.sink(file, { flag: "w", mode: 0o600 })).pipe(
      // A blob that fails its check (or a failed write) leaves no partial file behind.
      Effect.onError(() => fs.remove(file, { force: true }).pipe(Effect.ignore)),
      Effect.catchTag("PlatformError", (error) => Effect.fail(fileError("--output", file)(error)))
    )
  }).pipe(Effect.provide(DataDir.blobsReading(dataDir)))
})).pipe(
  Command.withDescription("Writes a blob's bytes (verified) to standard output or -o FILE; fails on a digest mismatch; a terminal gets text only"),
  Command.withExamples([{ command: "nerve-store blobs get 3a7b…e9 -o out.bin", description: "a blob into a file" }])
)

/** `blobs stat` for people. */
export const formatStat = (stat: BlobStat, time: (ms: number) => string = View.utc): string =>
  fields([["digest", stat.digest], ["size", `${humanBytes(stat.size)} (${stat.size} bytes)`], ["modified", time(stat.mtime.getTime())]])

const stat = Command.make("stat", { digest: digestArgument }, Effect.fn("cli.blobs.stat")(function*({ digest: input }) {
  const { dataDir, json } = yield* Root
  const digest = yield* parseDigest(input)
  const view = yield* View.current
  yield* Effect.gen(function*() {
    const found = yield* (yield* BlobStore).stat(digest)
    yield* json ? Print.json(BlobStat, found) : Print.line(formatStat(found, view.time))
  }).pipe(Effect.provide(DataDir.blobsReading(dataDir)))
})).pipe(
  Command.withDescription("Size and modification time of a blob"),
  Command.withExamples([{ command: "nerve-store blobs stat 3a7b…e9", description: "one blob's size and time" }])
)

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
    return yield* new UsageError({ field: "digest", reason: "give blob digests or --all (not both)" })
  }
  const named = yield* Effect.forEach(flags.digests, parseDigest)
  yield* Effect.gen(function*() {
    const blobs = yield* BlobStore
    const digests = flags.all ? yield* Stream.runCollect(blobs.list()) : named
    const terminal = !json && (yield* Print.stdoutIsTerminal)
    const entries: Array<BlobCheck> = []
    const print = (interrupted: boolean) => {
      const result: CliOutput.BlobVerify = { dryRun: flags.dryRun, report: { entries, totals: totals(entries) } }
      return Effect.andThen(
        terminal && digests.length > 0 ? Print.raw("\r\x1b[2K") : Effect.void,
        json ? Print.json(CliOutput.BlobVerify, result) : Print.line(formatVerify(result) + (interrupted ? ` (interrupted: ${digests.length - entries.length} not checked)` : ""))
      )
    }
    // Ctrl-C prints the report of the blobs checked so far.
    yield* Effect.forEach(digests, (digest, i) =>
      Effect.flatMap(check(blobs, digest, flags.dryRun), (entry) => {
        entries.push(entry)
        return terminal ? Print.raw(`\rverifying ${i + 1}/${digests.length}`) : Effect.void
      }), { discard: true }).pipe(Effect.onInterrupt(() => print(true)))
    yield* print(false)
    const result = { report: { totals: totals(entries) } }
    const bad = result.report.totals.mismatch + result.report.totals.unreadable
    if (bad > 0) return yield* new CheckFailed({ summary: `${bad} of ${entries.length} blob(s) failed verification` })
  }).pipe(Effect.provide(DataDir.blobsReading(dataDir)))
})).pipe(
  Command.withDescription("Re-hashes blobs; corrupt ones are moved to blobs/quarantine/ (exit 1 if any)"),
  Command.withExamples([{ command: "nerve-store blobs verify --all --dry-run", description: "check every blob, move nothing" }])
)

/** `nerve-store blobs`. */
export const command = Command.make("blobs").pipe(
  Command.withDescription("The content-addressed blob store"),
  Command.withExamples([{ command: "nerve-store blobs gc --from-logs --dry-run", description: "preview a sweep of unreferenced blobs" }]),
  Command.withSubcommands([put, get, stat, BlobsGc.list, BlobsGc.refs, verify, BlobsGc.gc])
)
