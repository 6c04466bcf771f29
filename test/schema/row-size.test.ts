// Issue 19 item 2: one oversized row must fail alone, as InvalidInput naming SQLite's limit,
// before it joins a group-commit batch (where SQLITE_TOOBIG failed all 21 rows of the batch).
import { assert, describe, it } from "@effect/vitest"
import { Effect, Schema } from "effect"
import { AppendInput } from "../../schema/LogEntry.ts"
import { MAX_ROW_TEXT_BYTES, SQLITE_MAX_LENGTH, utf8SizeOver } from "../../schema/TextSize.ts"
import { LogStoreMemory, NerveStoreLive } from "../../layers/index.ts"
import { LogStore } from "../../src/LogStore.ts"
import { makeTempDir } from "../support/tempDir.ts"

// 499,999,501 two-byte characters: 999,999,002 bytes as UTF-8, just over the limit, yet a 500 MB
// one-byte JS string (no 1 GB copy is ever made). Made once: measuring it flattens the rope once.
let hugeText: string | undefined
const huge = (): string => (hugeText ??= "é".repeat(Math.floor(MAX_ROW_TEXT_BYTES / 2) + 1))

describe("the size of a row's text", () => {
  it("is measured only when it could be over the limit, and then in UTF-8 bytes", () => {
    assert.isUndefined(utf8SizeOver(["é"], 3), "1 unit x 3 <= 3: not measured")
    assert.strictEqual(utf8SizeOver(["éé"], 3), 4)
    assert.isUndefined(utf8SizeOver(["aaaa"], 10), "12 > 10 so measured: 4 bytes fit")
    assert.strictEqual(utf8SizeOver(["😀😀😀"], 11), 12, "a surrogate pair is 4 bytes")
    assert.strictEqual(utf8SizeOver(["ab", null, undefined, "€"], 4), 5, "the texts count together")
    assert.strictEqual(SQLITE_MAX_LENGTH, 1_000_000_000)
    assert.isBelow(MAX_ROW_TEXT_BYTES, SQLITE_MAX_LENGTH)
  })

  it("the AppendInput schema refuses text over the limit, naming the longest field and the limit", () => {
    const decode = Schema.decodeUnknownExit(AppendInput)
    const exit = decode({ source: "s", type: "t", payload: huge() })
    assert.isTrue(exit._tag === "Failure")
    assert.include(String(exit), "payload")
    assert.include(String(exit), "1,000,000,000")
  })

  it.live("a row over SQLite's limit appended beside 20 small rows fails alone with InvalidInput; the 20 are stored", () =>
    Effect.gen(function*() {
      const log = yield* LogStore
      const results = yield* Effect.all(
        [
          Effect.result(log.append({ source: "big", type: "t", payload: huge() })),
          ...Array.from({ length: 20 }, (_, i) => Effect.result(log.append({ source: "small", type: "t", payload: `${i}` })))
        ],
        { concurrency: "unbounded" }
      )
      const [big, ...small] = results
      if (big?._tag !== "Failure") return assert.fail("the oversized row was accepted")
      const error = big.failure
      if (error._tag !== "InvalidInput") return assert.fail(`expected InvalidInput, got ${error._tag}: ${error.message}`)
      assert.strictEqual(error.field, "entry.payload")
      assert.include(error.reason, "1,000,000,000 bytes")
      assert.deepStrictEqual(small.map((result) => result._tag), Array.from({ length: 20 }, () => "Success"))
      assert.strictEqual((yield* log.query({ source: "small" })).length, 20)
      assert.deepStrictEqual(yield* log.query({ source: "big" }), [])
    }).pipe(Effect.provide(NerveStoreLive({ dataDir: makeTempDir() }))))

  it.effect("a thread message whose content is over the limit is InvalidInput on message.content, before any JSON is built", () =>
    Effect.gen(function*() {
      const log = yield* LogStore
      yield* log.transition({ source: "workflow", type: "started" }, { runId: "r", workflow: "w", status: "started" })
      const error = yield* Effect.flip(log.appendThreadMessage("r", { role: "user", content: huge() }))
      if (error._tag !== "InvalidInput") return assert.fail(`expected InvalidInput, got ${error._tag}: ${error.message}`)
      assert.strictEqual(error.field, "message.content")
      assert.include(error.reason, "1,000,000,000 bytes")
      assert.deepStrictEqual(yield* log.threadMessages("r"), [])
    }).pipe(Effect.provide(LogStoreMemory)))
})
