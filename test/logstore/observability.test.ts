// What a daemon's operator sees: span attributes on LogStore operations, and DatabaseError
// naming the public operation that failed.
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, Tracer } from "effect"
import { TestClock } from "effect/testing"
import { DatabaseMemory } from "../../layers/index.ts"
import { LogStore } from "../../src/LogStore.ts"
import * as LogStoreSqlite from "../../src/logstore/LogStoreSqlite.ts"
import { Sqlite } from "../../src/sqlite/Sqlite.ts"
import { RawSql } from "../support/rawSql.ts"

const stack = () => Layer.mergeAll(LogStoreSqlite.layer, RawSql).pipe(Layer.provideMerge(DatabaseMemory))

const recordingTracer = () => {
  const spans: Array<Tracer.NativeSpan> = []
  const tracer = Tracer.make({
    span: (options) => {
      const span = new Tracer.NativeSpan(options)
      spans.push(span)
      return span
    }
  })
  const attributes = (name: string) => spans.filter((span) => span.name === name).map((span) => Object.fromEntries(span.attributes))
  return { tracer, attributes }
}

describe("LogStore observability", () => {
  it.effect("spans carry the run id, the from and to status, and row counts", () =>
    Effect.gen(function*() {
      const { tracer, attributes } = recordingTracer()
      yield* Effect.gen(function*() {
        const log = yield* LogStore
        yield* log.transition({ source: "workflow", type: "started" }, { runId: "r1", workflow: "w", status: "started" })
        yield* log.transition({ source: "workflow", type: "completed" }, { runId: "r1", workflow: "w", status: "completed" })
        yield* log.runs()
        yield* log.getRun("r1")
      }).pipe(Effect.withTracer(tracer))
      const transitions = attributes("LogStore.transition")
      assert.deepStrictEqual(transitions.map((a) => [a["nerve.run.id"], a["nerve.run.from"], a["nerve.run.to"]]), [
        ["r1", "(new)", "started"],
        ["r1", "started", "completed"]
      ])
      assert.deepStrictEqual(attributes("LogStore.runs").map((a) => a["nerve.runs.count"]), [1])
      assert.deepStrictEqual(attributes("LogStore.getRun").map((a) => a["nerve.run.id"]), ["r1"])
    }).pipe(Effect.provide(stack())))

  it.effect("a DatabaseError names the public operation that failed", () =>
    Effect.gen(function*() {
      const log = yield* LogStore
      const sql = yield* Sqlite
      yield* TestClock.setTime(1)
      yield* sql.exec("DROP TABLE run_leases; DROP TABLE idempotency_keys")
      const transition = yield* Effect.flip(log.transition({ source: "workflow", type: "started" }, { runId: "r", workflow: "w", status: "started" }))
      assert.deepStrictEqual(transition._tag === "DatabaseError" ? transition.operation : transition, "LogStore.transition")
      const keyed = yield* Effect.flip(log.append({ source: "s", type: "t" }, { idempotencyKey: "k" }))
      assert.deepStrictEqual(keyed._tag === "DatabaseError" ? keyed.operation : keyed, "LogStore.append")
      yield* sql.exec("DROP TABLE logs")
      const append = yield* Effect.flip(log.append({ source: "s", type: "t" }))
      assert.deepStrictEqual(append._tag === "DatabaseError" ? append.operation : append, "LogStore.append")
      const many = yield* Effect.flip(log.appendMany([{ source: "s", type: "t" }, { source: "s", type: "u" }]))
      assert.deepStrictEqual(many._tag === "DatabaseError" ? many.operation : many, "LogStore.appendMany")
      yield* sql.exec("DROP TABLE meta")
      const meta = yield* Effect.flip(log.getMeta("k"))
      assert.deepStrictEqual(meta._tag === "DatabaseError" ? meta.operation : meta, "LogStore.getMeta")
    }).pipe(Effect.provide(stack())))
})
