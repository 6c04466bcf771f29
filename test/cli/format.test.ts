import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { CLEAR_LINE, progressLine } from "../../src/cli/DbCopy.ts"
import { fields, fitLine, humanAgo, humanBytes, humanDuration, humanTime, percent, table, truncate } from "../../src/cli/Format.ts"
import { parseDuration, parseTime } from "../../src/cli/Parse.ts"

describe("CLI formatting", () => {
  it("tables line their columns up, numbers on the right, with no trailing blanks", () => {
    assert.strictEqual(
      table([{ header: "ID" }, { header: "ROWS", align: "right" }, { header: "NOTE" }], [["a", "12", ""], ["bbb", "3", "x"]]),
      "ID   ROWS  NOTE\na      12\nbbb     3  x"
    )
    assert.strictEqual(table([{ header: "ID" }], []), "ID")
  })

  it("label: value blocks cut a value with … to fit the width (never under 6 cells), whole with full or no width", () => {
    const pairs = [["run", "r-1234567890"], ["status", "started"], ["note", "日本語のテキスト"], ["raw", "a\n\u001b[2Jb"]] as const
    assert.strictEqual(fields(pairs), "run:     r-1234567890\nstatus:  started\nnote:    日本語のテキスト\nraw:     a \\e[2Jb")
    assert.strictEqual(fields(pairs, { width: 16 }), "run:     r-1234…\nstatus:  started\nnote:    日本語…\nraw:     a \\e[2…")
    assert.strictEqual(fields(pairs, { width: 16, full: true }), fields(pairs))
    assert.strictEqual(fields([["a-long-label", "value"]], { width: 10 }), "a-long-label:  value")
    assert.strictEqual(fitLine("abcdefghij", { width: 8 }), "abcdefg…")
    assert.strictEqual(fitLine("abcdefghij", { width: 8, full: true }), "abcdefghij")
    assert.strictEqual(fitLine("abcdefghij", {}), "abcdefghij")
  })

  it("db copy's progress line clears the line, then draws the table, a 20-cell bar, the percentage and the counts", () => {
    assert.strictEqual(CLEAR_LINE, "\r\u001b[2K")
    assert.strictEqual(progressLine({ table: "logs", copied: 0, total: 2000 }), `${CLEAR_LINE}logs [${"-".repeat(20)}]   0% 0/2000 rows`)
    assert.strictEqual(progressLine({ table: "logs", copied: 500, total: 2000 }), `${CLEAR_LINE}logs [${"#".repeat(5)}${"-".repeat(15)}]  25% 500/2000 rows`)
    assert.strictEqual(progressLine({ table: "runs", copied: 1999, total: 2000 }), `${CLEAR_LINE}runs [${"#".repeat(20)}]  99% 1999/2000 rows`)
    assert.strictEqual(progressLine({ table: "meta", copied: 0, total: 0 }), `${CLEAR_LINE}meta [${"#".repeat(20)}] 100% 0/0 rows`)
    // One line redrawn in place: no line feed, and nothing after the counts.
    assert.notInclude(progressLine({ table: "logs", copied: 3, total: 7 }), "\n")
    assert.deepStrictEqual([0, 1, 7, 50, 100].map((done) => percent(done, 100)), ["  0%", "  1%", "  7%", " 50%", "100%"])
  })

  it("sizes, times and durations read as people write them", () => {
    assert.deepStrictEqual([0, 512, 1536, 10 * 1024 * 1024, 300 * 1024 * 1024].map(humanBytes), ["0 B", "512 B", "1.5 KiB", "10 MiB", "300 MiB"])
    assert.strictEqual(humanTime(Date.parse("2026-11-27T17:02:34.567Z")), "2026-11-27 17:02:34Z")
    assert.deepStrictEqual([850, 12_000, 250_000, 3 * 3_600_000 + 300_000, 2 * 86_400_000].map(humanDuration), ["850ms", "12s", "4m 10s", "3h 5m", "2d"])
    assert.strictEqual(humanAgo(1_000, 61_000), "1m ago")
    assert.strictEqual(humanAgo(61_000, 1_000), "in 1m")
    assert.strictEqual(truncate("a\nb   c", 10), "a b c")
    assert.strictEqual(truncate("abcdefghijkl", 5), "abcd…")
  })

  it.effect("times are epoch ms or ISO-8601, durations short (30d) or long (90 minutes); anything else names the flag", () =>
    Effect.gen(function*() {
      assert.strictEqual(yield* parseTime("since", "1700000000000"), 1_700_000_000_000)
      assert.strictEqual(yield* parseTime("since", "2026-01-02"), Date.parse("2026-01-02T00:00:00Z"))
      assert.strictEqual(yield* parseTime("since", "2026-01-02T03:04:05+01:00"), Date.parse("2026-01-02T02:04:05Z"))
      const bad = yield* Effect.flip(parseTime("until", "tomorrow"))
      assert.strictEqual(bad.field, "--until")
      assert.deepStrictEqual(
        yield* Effect.all(["30d", "12h", "90m", "45s", "500ms", "1w", "90 minutes"].map((d) => parseDuration("retention", d))),
        [30 * 86_400_000, 12 * 3_600_000, 90 * 60_000, 45_000, 500, 7 * 86_400_000, 90 * 60_000]
      )
      for (const input of ["forever", "-1d", "1.5d", ""]) {
        assert.strictEqual((yield* Effect.flip(parseDuration("retention", input))).field, "--retention", input)
      }
    }))
})
