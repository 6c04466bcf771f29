// Issue 19 item 7: bad `meta` in appendThreadMessage is InvalidInput naming the path of the bad
// value (not a TypeError or RangeError defect), and one rule for what a round is, the same in
// JavaScript (src/domain/ThreadLog.ts) and in SQLite (json_valid: no JSON past depth 1,000).
import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, Schema } from "effect"
import { jsonDataProblem, MAX_JSON_DATA_DEPTH } from "../../schema/JsonData.ts"
import { ThreadMessageInput } from "../../schema/Thread.ts"
import { LogStoreMemory, NerveStoreLive } from "../../layers/index.ts"
import * as ThreadLog from "../../src/domain/ThreadLog.ts"
import { LogStore } from "../../src/LogStore.ts"
import { makeTempDir } from "../support/tempDir.ts"

/** `{ a: { a: ... { a: leaf } } }` with `depth` objects. */
const nestedObjects = (depth: number, leaf: unknown = 1): unknown => {
  let value = leaf
  for (let i = 0; i < depth; i++) value = { a: value }
  return value
}

const started = (log: LogStore["Service"]) =>
  log.transition({ source: "workflow", type: "started" }, { runId: "r", workflow: "w", status: "started" })

const refusal = (log: LogStore["Service"], meta: unknown) =>
  Effect.map(Effect.flip(log.appendThreadMessage("r", { role: "user", content: "hi", meta })), (error) =>
    error._tag === "InvalidInput" ? `${error.field}: ${error.reason}` : `${error._tag}: ${error.message}`)

describe("meta of appendThreadMessage", () => {
  it.effect("a cycle, a BigInt, NaN, a Date, a Map, a function and deep nesting are InvalidInput naming the path; nothing is written", () =>
    Effect.gen(function*() {
      const log = yield* LogStore
      yield* started(log)
      const cyclic: Record<string, unknown> = { ok: 1 }
      cyclic.self = { back: cyclic }
      const refusals = {
        cycle: yield* refusal(log, cyclic),
        bigint: yield* refusal(log, { tokens: [1, 2n] }),
        nan: yield* refusal(log, { score: Number.NaN }),
        date: yield* refusal(log, { at: new Date(0) }),
        map: yield* refusal(log, { m: new Map() }),
        fn: yield* refusal(log, { f: () => 1 }),
        holeInArray: yield* refusal(log, { list: [1, undefined] }),
        deep5000: yield* refusal(log, nestedObjects(5_000)),
        deep999: yield* refusal(log, nestedObjects(999)),
        justTooDeep: yield* refusal(log, nestedObjects(MAX_JSON_DATA_DEPTH + 1))
      }
      assert.match(refusals.cycle, /^message\.meta\.self\.back: refers back .* \(a cycle\)/)
      assert.match(refusals.bigint, /^message\.meta\.tokens\.1: is a BigInt/)
      assert.match(refusals.nan, /^message\.meta\.score: is NaN/)
      assert.match(refusals.date, /^message\.meta\.at: is a Date/)
      assert.match(refusals.map, /^message\.meta\.m: is a Map/)
      assert.match(refusals.fn, /^message\.meta\.f: is a function/)
      assert.match(refusals.holeInArray, /^message\.meta\.list\.1: is undefined/)
      for (const deep of [refusals.deep5000, refusals.deep999, refusals.justTooDeep]) {
        assert.match(deep, /^message\.meta(\.a){64}: nests deeper than 64/)
      }
      assert.deepStrictEqual(yield* log.threadMessages("r"), [])
      assert.strictEqual(yield* log.threadRoundCount("r"), 0)
    }).pipe(Effect.provide(LogStoreMemory)))

  it.effect("plain data up to the bound is stored and read back, undefined properties left out as JSON does", () =>
    Effect.gen(function*() {
      const log = yield* LogStore
      yield* started(log)
      const deepest = nestedObjects(MAX_JSON_DATA_DEPTH, "leaf")
      const shared = { x: 1 }
      yield* log.appendThreadMessage("r", { role: "user", content: "a", meta: deepest })
      yield* log.appendThreadMessage("r", { role: "tool", content: "b", meta: { blob: "d", skipped: undefined, twice: [shared, shared], n: null } })
      const messages = yield* log.threadMessages("r")
      assert.deepStrictEqual(messages.map((m) => m.meta), [deepest, { blob: "d", twice: [{ x: 1 }, { x: 1 }], n: null }])
      assert.strictEqual(yield* log.threadRoundCount("r"), 2)
    }).pipe(Effect.provide(LogStoreMemory)))

  it("the schema names the path and the guard agrees with the decoder", () => {
    const decode = Schema.decodeUnknownExit(ThreadMessageInput)
    assert.isTrue(Exit.isSuccess(decode({ role: "r", content: "c", meta: { a: [1, "x", true, null, { b: 2 }] } })))
    assert.isTrue(Exit.isFailure(decode({ role: "r", content: "c", meta: { a: [1n] } })))
    assert.deepStrictEqual(jsonDataProblem({ a: [0, { b: Symbol("s") }] })?.path, ["a", 1, "b"])
    assert.isUndefined(jsonDataProblem(Object.create(null)))
    assert.match(jsonDataProblem(Array.from({ length: 100_001 }, () => 0))?.issue ?? "", /at most 100000 values/)
  })
})

describe("what counts as a round: one rule in JavaScript and in SQL", () => {
  /** A thread payload whose JSON nests objects and arrays `depth` deep (the message object is 1). */
  const payloadOfDepth = (depth: number) =>
    `{"role":"user","content":"x","meta":${"[".repeat(depth - 1)}${"]".repeat(depth - 1)}}`

  it.effect("raw thread payloads 999 to 1,002 deep: SQLite's count and ThreadLog's count agree (no JSON past depth 1,000)", () =>
    Effect.gen(function*() {
      const log = yield* LogStore
      for (const depth of [999, 1000, 1001, 1002, 5000]) {
        yield* log.append({ source: "workflow", type: "thread_workflow_message", refId: "r", payload: payloadOfDepth(depth) })
      }
      const rows = yield* log.query({ refId: "r" })
      const inJs = ThreadLog.numberRounds(rows).length
      const inSql = yield* log.threadRoundCount("r")
      assert.strictEqual(inSql, 2, "json_valid is 0 past depth 1,000")
      assert.strictEqual(inJs, inSql)
      assert.strictEqual(ThreadLog.threadMessages(rows).length, 2)
      assert.deepStrictEqual((yield* log.threadRounds("r")).map((round) => round.round), [2, 1])
      assert.strictEqual((yield* log.threadMessages("r")).length, 2)
    }).pipe(Effect.provide(NerveStoreLive({ dataDir: makeTempDir() }))))
})
