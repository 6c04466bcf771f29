// Issue 18 item 1: nothing destructive without a preview. `blobs gc --dry-run`; blobs removed
// only with a live set, and a live set that would remove every blob (or more than half) refused
// with exit 2 unless --yes; `blobs list`; `blobs refs` (the SPEC's reference convention, from
// SQLite and archived days); `blobs gc --from-logs`.
import { assert, beforeAll, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { writeFileSync } from "node:fs"
import { join } from "node:path"
import { BlobStore, CliOutput, GcResult, LogArchive, LogStore } from "../../src/index.ts"
import { NerveStoreLive } from "../../layers/index.ts"
import { makeTempDir } from "../support/tempDir.ts"
import { cli, decodeJson, fingerprint, lines } from "./run.ts"
import { type OperatorSeed, seedOperator } from "./seedOperator.ts"

let dir = ""
let dataDir = ""
let seeded: OperatorSeed
/** A blob only an archived row references. */
let archivedOnly = ""

beforeAll(async () => {
  dir = makeTempDir("nerve-cli-gc-")
  dataDir = join(dir, "data")
  seeded = await seedOperator(dataDir)
  // An old day, archived, whose one row references a blob nothing in SQLite mentions.
  await Effect.runPromise(Effect.gen(function*() {
    const log = yield* LogStore
    const blob = yield* (yield* BlobStore).write("referenced only by an archived row")
    archivedOnly = blob
    yield* log.append({ source: "tool", type: "output", payload: JSON.stringify({ blobs: [blob] }), timestamp: Date.parse("2026-01-03T10:00:00Z") })
    yield* (yield* LogArchive).archive({ retentionMs: 86_400_000 })
  }).pipe(Effect.provide(NerveStoreLive({ dataDir }))))
  writeFileSync(join(dir, "empty.txt"), "")
})

describe("blobs gc, list and refs", () => {
  it.live("refs lists what rows reference (payload blob/blobs, meta.blob/meta.blobs, archived days); list lists what is stored", () =>
    Effect.gen(function*() {
      const [refs, refsJson, list] = yield* Effect.all([
        cli(["--data-dir", dataDir, "blobs", "refs"]),
        cli(["--data-dir", dataDir, "--json", "blobs", "refs"]),
        cli(["--data-dir", dataDir, "--json", "blobs", "list"])
      ], { concurrency: 3 })
      const expected = [...seeded.referenced, archivedOnly].sort()
      assert.strictEqual(refs?.code, 0, refs?.stderr)
      assert.deepStrictEqual(lines(refs?.stdout ?? ""), expected)
      assert.match(refs?.stderr ?? "", /^5 blob\(s\) referenced by 4 row\(s\) \(read \d+ rows in SQLite, 1 in 1 archived day\(s\)\); 1 blob field value\(s\) are not digests\n$/)
      const report = decodeJson(CliOutput.BlobRefs, refsJson?.stdout ?? "")
      assert.deepStrictEqual([report.digests, report.missing, report.invalid, report.archivedRows], [expected, [], 1, 1])
      const stored = decodeJson(CliOutput.BlobList, list?.stdout ?? "")
      assert.deepStrictEqual(stored.blobs.map((b) => b.digest), [...expected, ...seeded.unreferenced].sort())
      assert.deepStrictEqual([stored.total, stored.nextCursor], [7, null])
      const page = yield* cli(["--data-dir", dataDir, "blobs", "list", "--limit", "2"])
      const first = lines(page.stdout).slice(1).map((line) => line.split(" ")[0] ?? "")
      assert.strictEqual(first.length, 2)
      assert.strictEqual(page.stderr, `2 of 7 blobs; --limit or --cursor ${first[1]} for more\n`)
      const next = decodeJson(CliOutput.BlobList, (yield* cli(["--data-dir", dataDir, "--json", "blobs", "list", "--limit", "5", "--cursor", first[1] ?? ""])).stdout)
      assert.deepStrictEqual(next.blobs.map((b) => b.digest), stored.blobs.slice(2).map((b) => b.digest))
    }))

  it.live("gc --dry-run removes nothing; an empty live set is refused with exit 2; more than half needs --yes", () =>
    Effect.gen(function*() {
      const before = fingerprint(dataDir)
      const empty = join(dir, "empty.txt")
      const half = join(dir, "half.txt")
      yield* Effect.sync(() => writeFileSync(half, `${seeded.referenced.slice(0, 3).join("\n")}\n`))
      const [dryNoLive, dryEmpty, refused, refusedHalf, fromLogsDry] = yield* Effect.all([
        cli(["--data-dir", dataDir, "blobs", "gc", "--dry-run"]),
        cli(["--data-dir", dataDir, "--json", "blobs", "gc", "--live", empty, "--dry-run"]),
        cli(["--data-dir", dataDir, "blobs", "gc", "--live", empty]),
        cli(["--data-dir", dataDir, "blobs", "gc", "--live", half]),
        cli(["--data-dir", dataDir, "blobs", "gc", "--from-logs", "--min-age", "0", "--dry-run"])
      ], { concurrency: 3 })
      assert.strictEqual(dryNoLive?.code, 0, dryNoLive?.stderr)
      assert.include(dryNoLive?.stdout, "no live set, so no blob would be removed")
      const plan = decodeJson(CliOutput.BlobGcPlan, dryEmpty?.stdout ?? "")
      assert.deepStrictEqual([plan.stored, plan.remove.length, plan.refused], [7, 7, true])
      assert.strictEqual(refused?.code, 2)
      assert.strictEqual(refused?.stderr, `nerve-store: invalid --live: the live set would remove 7 of 7 blobs (every blob): refused, nothing removed; preview with --dry-run, then add --yes if that is right\n`)
      assert.strictEqual(refusedHalf?.code, 2)
      assert.include(refusedHalf?.stderr, "would remove 4 of 7 blobs (more than half)")
      assert.strictEqual(fromLogsDry?.code, 0, fromLogsDry?.stderr)
      assert.match(fromLogsDry?.stdout ?? "", /dry run: would remove 2 of 7 blob\(s\) \(\d+ B\), keep 5; nothing was removed\n$/)
      for (const digest of seeded.unreferenced) assert.include(fromLogsDry?.stdout, digest)
      assert.strictEqual(fingerprint(dataDir), before)
    }))

  it.live("gc --from-logs keeps young blobs (--min-age) and removes exactly the unreferenced ones", () =>
    Effect.gen(function*() {
      const young = decodeJson(GcResult, (yield* cli(["--data-dir", dataDir, "--json", "blobs", "gc", "--from-logs"])).stdout)
      assert.deepStrictEqual(young.removedBlobs, [])
      const swept = yield* cli(["--data-dir", dataDir, "--json", "blobs", "gc", "--from-logs", "--min-age", "0"])
      assert.strictEqual(swept.code, 0, swept.stderr)
      assert.sameMembers([...decodeJson(GcResult, swept.stdout).removedBlobs], [...seeded.unreferenced])
      const left = decodeJson(CliOutput.BlobList, (yield* cli(["--data-dir", dataDir, "--json", "blobs", "list"])).stdout)
      assert.deepStrictEqual(left.blobs.map((b) => b.digest), [...seeded.referenced, archivedOnly].sort())
      // --yes takes a live set that removes every blob, after the preview said so.
      const all = yield* cli(["--data-dir", dataDir, "--json", "blobs", "gc", "--live", join(dir, "empty.txt"), "--yes"])
      assert.strictEqual(decodeJson(GcResult, all.stdout).removedBlobs.length, 5)
    }))
})
