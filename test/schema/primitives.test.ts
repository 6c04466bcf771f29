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

  it.effect("an append whose source holds a lone surrogate is refused with InvalidInput and writes nothing", () =>
    Effect.gen(function*() {
      const log = yield* LogStore
      const error = yield* Effect.flip(log.append({ source: "s\uD800", type: "t" }))
      assert.strictEqual(error._tag, "InvalidInput")
      assert.include(error._tag === "InvalidInput" ? error.field : "", "source")
      assert.deepStrictEqual(yield* log.query(), [])
    }).pipe(Effect.provide(LogStoreMemory)))
})
