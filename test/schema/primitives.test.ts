import { assert, describe, it } from "@effect/vitest"
import { Effect, Schema } from "effect"
import { NonEmptyText, WellFormedText } from "../../schema/Primitives.ts"
import { LogStoreMemory } from "../../layers/index.ts"
import { LogStore } from "../../src/LogStore.ts"

const isWellFormed = Schema.is(WellFormedText)

describe("well-formed text", () => {
  it("accepts paired surrogates (emoji) and refuses a lone high or low surrogate", () => {
    assert.isTrue(isWellFormed("ok 😀 ok"))
    assert.isFalse(isWellFormed("x\uD83Dy"))
    assert.isFalse(isWellFormed("x\uDE00"))
    assert.isFalse(isWellFormed("\uD83D"))
    assert.isFalse(Schema.is(NonEmptyText)("\uDE00"))
  })

  it.effect("an append whose text holds a lone surrogate is refused with InvalidInput naming the field, and writes nothing", () =>
    Effect.gen(function*() {
      const log = yield* LogStore
      const error = yield* Effect.flip(log.append({ source: "s\uD800", type: "t" }))
      assert.strictEqual(error._tag, "InvalidInput")
      assert.include(error._tag === "InvalidInput" ? error.field : "", "source")
      const inBatch = yield* Effect.flip(log.appendMany([{ source: "s", type: "t" }, { source: "s", type: "t", payload: "\uDFFF" }]))
      assert.strictEqual(inBatch._tag === "InvalidInput" ? inBatch.field : "", "entries.1.payload")
      assert.deepStrictEqual(yield* log.query(), [])
    }).pipe(Effect.provide(LogStoreMemory)))
})
