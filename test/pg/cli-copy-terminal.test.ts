// `nerve-store db copy --to <url>` on a terminal draws a progress bar per table in place (each
// redraw clears the line first) and clears it before the report, so the report starts on a
// clean line; piped, it prints the report alone, with no control characters.
import { assert, beforeAll, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { seed } from "../cli/seed.ts"
import { CLI, inTerminal, sh } from "../cli/shell.ts"
import { emptyDatabases } from "../support/pgDatabase.ts"
import { makeTempDir } from "../support/tempDir.ts"

/** Empty databases made by this file, dropped after it. */
const newDatabase = emptyDatabases()

let dataDir = ""
beforeAll(async () => {
  dataDir = makeTempDir("nerve-pg-cli-copy-tty-")
  await seed(dataDir)
})

const ESC = "\u001b"
const CLEAR = `\r${ESC}[2K`
/** A progress line as the terminal got it: `\r ESC[2K <table> [####----]  42% 21/50 rows`. */
const PROGRESS = new RegExp(`\\r${ESC}\\[2K([a-z_]+) \\[[#-]{20}\\] +(\\d+)% (\\d+)/(\\d+) rows`, "g")

describe("nerve-store db copy --to on a terminal and in a pipe", () => {
  it.live("a terminal gets a bar per table redrawn in place, then a clean final report; a pipe gets the report with no control characters", () =>
    Effect.gen(function*() {
      const [ttyUrl, pipeUrl] = yield* Effect.promise(() => Promise.all([newDatabase(), newDatabase()]))
      const copy = (url: string) => `${CLI} --data-dir '${dataDir}' db copy --to '${url}' --batch-size 10`

      const drawn = yield* Effect.promise(() => inTerminal(copy(ttyUrl), 100))
      assert.strictEqual(drawn.code, 0, drawn.output)
      const bars = [...drawn.output.matchAll(PROGRESS)].map((m) => ({ table: m[1], percent: Number(m[2]), copied: Number(m[3]), total: Number(m[4]) }))
      assert.isAbove(bars.length, 1, drawn.output)
      // The log table (over 100 rows in batches of 10) is drawn part-way and then full.
      const logs = bars.filter((b) => b.table === "logs")
      assert.isTrue(logs.some((b) => b.copied > 0 && b.copied < b.total), JSON.stringify(logs))
      assert.isTrue(logs.some((b) => b.copied === b.total && b.percent === 100), JSON.stringify(logs))
      for (const b of bars) assert.strictEqual(b.percent, b.total <= 0 ? 100 : Math.floor((b.copied / b.total) * 100))
      // Bars are redrawn in place: no line feed between them, and the line is cleared before the report.
      const last = drawn.output.lastIndexOf(CLEAR)
      assert.notInclude(drawn.output.slice(0, last), "\n")
      const report = drawn.output.slice(last + CLEAR.length)
      assert.match(report, /^copied \S+ -> \S+ \(\d+ rows in this run\)\nTABLE\s+SOURCE\s+TARGET\s+DIGEST\n/)
      assert.match(report, /\nevery table's count and digest match\n$/)
      assert.notMatch(report, /[\u0000-\u0009\u000b-\u001f\u007f]/, "the report holds no control characters")

      const piped = yield* Effect.promise(() => sh(`${copy(pipeUrl)} | cat`))
      assert.strictEqual(piped.code, 0, piped.stderr)
      assert.match(piped.stdout, /^copied \S+ -> \S+ \(\d+ rows in this run\)\nTABLE\s+SOURCE\s+TARGET\s+DIGEST\n/)
      assert.match(piped.stdout, /\nevery table's count and digest match\n$/)
      assert.notMatch(piped.stdout + piped.stderr, /[\u0000-\u0009\u000b-\u001f\u007f]/, "a pipe gets no control characters")
      assert.strictEqual(
        piped.stdout.replace(/ok [0-9a-f]{12}/g, "ok"),
        report.replace(/ok [0-9a-f]{12}/g, "ok").replace(/\S+ -> \S+/, piped.stdout.match(/\S+ -> \S+/)?.[0] ?? ""),
        "the terminal's final report is the piped report"
      )
    }))
})
