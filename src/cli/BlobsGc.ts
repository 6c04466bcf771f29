/**
 * `nerve-store blobs list|refs|gc`: what is stored, what the log references, and removing the
 * rest — never without a live set, never silently most of the store (SPEC §CLI, "Nothing
 * destructive without a preview").
 *
 * @since 0.7.0
 */
import { Clock, Effect, FileSystem, Option, Stream } from "effect"
import { Command, Flag } from "effect/cli"
import { type BlobDigest, type BlobStat, BlobStore, GcResult, parseDigest } from "../index.ts"
import * as BlobRefs from "./BlobRefs.ts"
import * as DataDir from "./DataDir.ts"
import { CheckFailed, fileError, UsageError } from "./Errors.ts"
import { humanBytes, table } from "./Format.ts"
import * as CliOutput from "./Output.ts"
import { atLeast, parseDuration } from "./Parse.ts"
import * as Print from "./Print.ts"
import { Root } from "./Root.ts"
import * as View from "./View.ts"

/** Reads a `--live` file: one digest per line; blank lines and `#` comments are skipped. */
const readLive = Effect.fnUntraced(function*(file: string) {
  const fs = yield* FileSystem.FileSystem
  const text = yield* fs.readFileString(file).pipe(Effect.mapError(fileError("--live", file)))
  const live: Array<BlobDigest> = []
  for (const [i, raw] of text.split("\n").entries()) {
    const entry = raw.trim()
    if (entry === "" || entry.startsWith("#")) continue
    live.push(yield* parseDigest(entry).pipe(
      Effect.mapError(() => new UsageError({ field: `--live ${file}`, reason: `line ${i + 1} is not a digest` }))
    ))
  }
  return live
})

/** `blobs gc` for people. */
export const formatGc = (result: GcResult): string =>
  `removed ${result.removedTemps.length} temp file(s) and ${result.removedBlobs.length} blob(s), freed ${humanBytes(result.bytesFreed)}`

/** A table of blobs: digest, size, modified. */
const formatBlobs = (stats: ReadonlyArray<BlobStat>, view: View.View): string =>
  table(
    [{ header: "DIGEST", shrink: true }, { header: "SIZE", align: "right" }, { header: "MODIFIED" }],
    stats.map((stat) => [stat.digest, humanBytes(stat.size), view.time(stat.mtime.getTime())]),
    view
  )

/** `blobs gc --dry-run` for people. */
export const formatGcPlan = (plan: CliOutput.BlobGcPlan, view: View.View): string =>
  [
    ...(plan.remove.length === 0 ? [] : [formatBlobs(plan.remove, view)]),
    `dry run: would remove ${plan.remove.length.toLocaleString("en-US")} of ${plan.stored.toLocaleString("en-US")} blob(s) (${humanBytes(plan.bytes)}), ` +
    `keep ${plan.keep.toLocaleString("en-US")}; nothing was removed` +
    (plan.refused ? "\n(a real run would refuse: that is every blob or more than half of them; check the live set, then add --yes)" : "")
  ].join("\n")

/** Whether removing `remove` of `stored` blobs needs `--yes`: every blob, or more than half. */
export const needsConfirmation = (remove: number, stored: number): boolean => remove > 0 && (remove === stored || remove * 2 > stored)

/** The live set of `--from-logs`: every referenced digest, or a failure when part of the log cannot be read. */
const liveFromLogs = Effect.gen(function*() {
  const found = yield* BlobRefs.scan
  if (found.unreadableDays.length > 0) {
    return yield* new CheckFailed({
      summary: `cannot build the live set: ${found.unreadableDays.length} archived day(s) could not be read (` +
        `${found.unreadableDays.map((d) => `${d.day}: ${d.reason}`).join("; ")}); nothing was removed`
    })
  }
  return found.digests
})

export const gc = Command.make("gc", {
  tempOlderThan: Flag.String("temp-older-than").pipe(Flag.withDescription("remove temp files at least this old (default 1h)"), Flag.withDefault("1h")),
  live: Flag.String("live").pipe(Flag.withDescription("a file of the digests to keep, one per line; every other blob is removed"), Flag.optional),
  fromLogs: Flag.Boolean("from-logs").pipe(
    Flag.withDescription("keep the blobs the log references (blobs refs: SQLite and archived days); remove the rest"),
    Flag.withDefault(false)
  ),
  minAge: Flag.String("min-age").pipe(
    Flag.withDescription("with --from-logs, keep blobs younger than this (default 1h: a blob written before its log row)"),
    Flag.withDefault("1h")
  ),
  dryRun: Flag.Boolean("dry-run").pipe(Flag.withDescription("show what would be removed; remove nothing"), Flag.withDefault(false)),
  yes: Flag.Boolean("yes").pipe(Flag.withDescription("remove even when that is every blob or more than half of them"), Flag.withDefault(false))
}, Effect.fn("cli.blobs.gc")(function*(flags) {
  const { dataDir, databaseUrl, json } = yield* Root
  const tempOlderThan = yield* parseDuration("temp-older-than", flags.tempOlderThan)
  const minAge = yield* parseDuration("min-age", flags.minAge)
  if (flags.fromLogs && Option.isSome(flags.live)) return yield* new UsageError({ field: "--from-logs", reason: "give --live FILE or --from-logs, not both" })
  const liveFile = yield* Option.match(flags.live, { onNone: () => Effect.succeed(undefined), onSome: readLive })
  const view = yield* View.current
  // The live set is read before the blob store is listed: a blob written after this point is
  // either referenced already or younger than --min-age.
  const live = flags.fromLogs ? yield* Effect.provide(liveFromLogs, DataDir.reading(dataDir, databaseUrl)) : liveFile
  yield* Effect.gen(function*() {
    const blobs = yield* BlobStore
    if (live === undefined) {
      // No live set: only stale temp files go; blobs are never removed without one.
      if (flags.dryRun) {
        return yield* Print.line(`dry run: no live set, so no blob would be removed (only temp files older than ${flags.tempOlderThan}); give --live FILE or --from-logs`)
      }
      const result = yield* blobs.gc({ tempOlderThan })
      return yield* json ? Print.json(GcResult, result) : Print.line(formatGc(result))
    }
    const keep = new Set(live)
    const stored = yield* Stream.runCollect(blobs.list())
    const now = yield* Clock.currentTimeMillis
    const candidates = yield* Effect.forEach(stored.filter((digest) => !keep.has(digest)), (digest) => blobs.stat(digest).pipe(Effect.option))
    const remove = candidates.flatMap((stat) =>
      Option.isSome(stat) && (!flags.fromLogs || stat.value.mtime.getTime() <= now - minAge) ? [stat.value] : []
    )
    const refused = needsConfirmation(remove.length, stored.length)
    if (flags.dryRun) {
      const plan: CliOutput.BlobGcPlan = {
        dryRun: true,
        stored: stored.length,
        keep: stored.length - remove.length,
        remove,
        bytes: remove.reduce((sum, stat) => sum + stat.size, 0),
        refused
      }
      return yield* json ? Print.json(CliOutput.BlobGcPlan, plan) : Print.line(formatGcPlan(plan, view))
    }
    if (refused && !flags.yes) {
      return yield* new UsageError({
        field: flags.fromLogs ? "--from-logs" : "--live",
        reason: `the live set would remove ${remove.length.toLocaleString("en-US")} of ${stored.length.toLocaleString("en-US")} blobs` +
          `${remove.length === stored.length ? " (every blob)" : " (more than half)"}: refused, nothing removed; preview with --dry-run, then add --yes if that is right`
      })
    }
    // Exactly the blobs previewed are removed, one by one: a blob written since the listing is kept.
    const removed = yield* Effect.forEach(remove, (stat) => Effect.map(blobs.delete(stat.digest), (gone) => (gone ? [stat] : [])))
    const temps = yield* blobs.gc({ tempOlderThan })
    const done = removed.flat()
    const result: GcResult = {
      removedTemps: temps.removedTemps,
      removedBlobs: done.map((stat) => stat.digest),
      bytesFreed: temps.bytesFreed + done.reduce((sum, stat) => sum + stat.size, 0),
      suspicious: temps.suspicious
    }
    yield* json ? Print.json(GcResult, result) : Print.line(formatGc(result))
  }).pipe(Effect.provide(DataDir.blobsReading(dataDir)))
})).pipe(
  Command.withDescription("Removes stale temp files and, with a live set (--live FILE or --from-logs), the blobs not in it; refuses to remove every blob or more than half without --yes"),
  Command.withExamples([
    { command: "nerve-store blobs gc --from-logs --dry-run", description: "what a sweep would remove (nothing is removed)" },
    { command: "nerve-store blobs gc --from-logs", description: "remove the blobs no log row references" },
    { command: "nerve-store blobs refs > live.txt && nerve-store blobs gc --live live.txt", description: "the same in two steps" }
  ])
)

export const list = Command.make("list", {
  limit: Flag.Int("limit").pipe(Flag.withDescription("at most this many blobs (default 100)"), Flag.withDefault(100)),
  cursor: Flag.String("cursor").pipe(Flag.withDescription("continue after this digest (printed when a list is cut)"), Flag.optional)
}, Effect.fn("cli.blobs.list")(function*(flags) {
  const { dataDir, json } = yield* Root
  yield* atLeast("limit", flags.limit, 1)
  const after = yield* Option.match(flags.cursor, {
    onNone: () => Effect.succeed(""),
    onSome: (text) => Effect.mapError(parseDigest(text), () => new UsageError({ field: "--cursor", reason: `${JSON.stringify(text)} is not a digest` }))
  })
  const view = yield* View.current
  yield* Effect.gen(function*() {
    const blobs = yield* BlobStore
    // Digests come in ascending order: the page is the first `limit` after the cursor.
    let total = 0
    const page: Array<BlobDigest> = []
    let more = false
    yield* Stream.runForEach(blobs.list(), (digest) =>
      Effect.sync(() => {
        total++
        if (digest <= after) return
        if (page.length < flags.limit) page.push(digest)
        else more = true
      }))
    const stats = yield* Effect.forEach(page, (digest) => blobs.stat(digest).pipe(Effect.option))
    const shown = stats.flatMap((stat) => (Option.isSome(stat) ? [stat.value] : []))
    const nextCursor = more ? page[page.length - 1] ?? null : null
    if (json) return yield* Print.json(CliOutput.BlobList, { blobs: shown, total, nextCursor })
    yield* Print.line(shown.length === 0 ? "no blobs" : formatBlobs(shown, view))
    if (nextCursor !== null || (after !== "" && shown.length < total)) {
      yield* Print.note(`${shown.length.toLocaleString("en-US")} of ${total.toLocaleString("en-US")} blobs${after === "" ? "" : " (after the cursor)"}; ` +
        (nextCursor === null ? "this is the last page" : `--limit or --cursor ${nextCursor} for more`))
    }
  }).pipe(Effect.provide(DataDir.blobsReading(dataDir)))
})).pipe(
  Command.withDescription("The stored blobs by digest: size and modification time (paged)"),
  Command.withExamples([{ command: "nerve-store blobs list --limit 20", description: "the first 20 blobs" }])
)

export const refs = Command.make("refs", {}, Effect.fn("cli.blobs.refs")(function*() {
  const { dataDir, databaseUrl, json } = yield* Root
  yield* Effect.gen(function*() {
    const blobs = yield* BlobStore
    const found = yield* BlobRefs.scan
    const missing = yield* Effect.filter(found.digests, (digest) => Effect.map(blobs.exists(digest), (there) => !there))
    const result: CliOutput.BlobRefs = { ...found, missing }
    if (json) yield* Print.json(CliOutput.BlobRefs, result)
    else {
      // One digest a line on stdout (a --live file as it is); the summary on stderr.
      if (found.digests.length > 0) yield* Print.line(found.digests.join("\n"))
      yield* Print.note(
        `${found.digests.length.toLocaleString("en-US")} blob(s) referenced by ${found.referencingRows.toLocaleString("en-US")} row(s) ` +
          `(read ${found.sqliteRows.toLocaleString("en-US")} rows in SQLite, ${found.archivedRows.toLocaleString("en-US")} in ${found.days} archived day(s))` +
          (missing.length === 0 ? "" : `; ${missing.length} referenced but not stored`) +
          (found.invalid === 0 ? "" : `; ${found.invalid} blob field value(s) are not digests`)
      )
    }
    if (found.unreadableDays.length > 0) {
      return yield* new CheckFailed({
        summary: `${found.unreadableDays.length} archived day(s) could not be read, their references are not listed: ` +
          found.unreadableDays.map((d) => `${d.day} (${d.reason})`).join("; ")
      })
    }
  }).pipe(Effect.provide(DataDir.reading(dataDir, databaseUrl)))
})).pipe(
  Command.withDescription("The digests the log references (a payload's blob/blobs, a message's meta.blob/meta.blobs), in SQLite and archived days; one a line"),
  Command.withExamples([{ command: "nerve-store blobs refs > live.txt", description: "the live set, as a file for blobs gc --live" }])
)

