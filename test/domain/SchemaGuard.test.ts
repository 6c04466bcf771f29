import { assert, describe, it } from "@effect/vitest"
import { Arbitrary, Effect, Record, Result, Schema } from "effect"
import { AppendInput, LogEntry, LogQuery, LogStreamQuery } from "../../schema/LogEntry.ts"
import { DEFAULT_THREAD_ROUNDS_LIMIT, GetThreadRoundsParams, RunTrigger, ThreadMessage } from "../../schema/Thread.ts"
import { MarkOrphansOptions, RunsQuery, RunTransition, RunTransitionInput, WorkflowRun } from "../../schema/WorkflowRun.ts"
import * as SchemaGuard from "../../src/domain/SchemaGuard.ts"
import { inputDecoder } from "../../src/domain/Validate.ts"

const options = { arbitrary: { seed: 20261127, runs: 300 } }

/** Guard and decoder agree: the guard accepts exactly what the decoder accepts, with an equal value. */
const agree = <S extends Schema.Top & { readonly DecodingServices: never }>(schema: S) => {
  const guard = SchemaGuard.make(schema)
  const decode = Schema.decodeUnknownResult(schema)
  return (value: unknown) => {
    const guarded = guard(value)
    const decoded = decode(value)
    if (Result.isSuccess(decoded)) {
      assert.notStrictEqual(guarded, SchemaGuard.rejected, `the guard rejected a valid value: ${String(JSON.stringify(value))}`)
      assert.deepStrictEqual(guarded, decoded.success)
    } else {
      assert.strictEqual(guarded, SchemaGuard.rejected, `the guard accepted an invalid value: ${String(JSON.stringify(value))}`)
    }
  }
}

/** Values of the wrong types (and numbers that break range and integer checks). */
const Stray = Schema.Union([Schema.String, Schema.Number, Schema.Null, Schema.Boolean, Schema.Undefined])

/**
 * Structs shaped like `fields` whose every key may be missing, valid, or a stray value, plus
 * sometimes a key the schema does not know: mostly invalid values, some valid ones.
 */
const loose = (fields: Schema.Struct.Fields) =>
  Arbitrary.map(
    Arbitrary.all({
      value: Arbitrary.schema(Schema.Struct(Record.map(fields, (field) => Schema.optionalKey(Schema.Union([Schema.toType(field), Stray]))))),
      extra: Arbitrary.schema(Schema.optionalKey(Stray))
    }),
    ({ extra, value }) => (extra === undefined ? value : { ...value, extra })
  )

/**
 * Valid values of a struct whose `textKeys` are `NonEmptyText` (a filter the arbitrary cannot
 * aim at, so it would discard almost every candidate): those keys get a non-blank string.
 */
const validWithText = (schema: Schema.Struct<Schema.Struct.Fields>, textKeys: ReadonlyArray<string>) => {
  const text = Arbitrary.map(Arbitrary.schema(Schema.String), (s) => `x${s}`)
  return Arbitrary.map(
    Arbitrary.all({
      value: Arbitrary.schema(Schema.Struct({ ...schema.fields, ...Object.fromEntries(textKeys.map((key) => [key, Schema.String])) })),
      texts: Arbitrary.all(Object.fromEntries(textKeys.map((key) => [key, text])))
    }),
    ({ texts, value }) => ({ ...value, ...texts })
  )
}

const validValues: Partial<Record<string, Arbitrary.Arbitrary<unknown>>> = {
  AppendInput: validWithText(AppendInput, ["source", "type"]),
  RunTransitionInput: validWithText(RunTransitionInput, ["runId", "workflow"])
}

const structs = {
  LogEntry,
  AppendInput,
  LogQuery,
  LogStreamQuery,
  WorkflowRun,
  RunTransition,
  RunTransitionInput,
  RunsQuery,
  MarkOrphansOptions,
  ThreadMessage,
  RunTrigger
} as const

describe("SchemaGuard", () => {
  for (const [name, schema] of Object.entries(structs)) {
    it("compiles " + name + " to a guard", () => assert.isTrue(SchemaGuard.isCompiled(schema)))

    it.prop(`accepts every valid ${name} with the value the decoder returns`, { value: validValues[name] ?? schema }, ({ value }) => {
      agree(schema)(value)
    }, options)

    it.prop(`agrees with the decoder on stray ${name} values`, { value: loose(schema.fields) }, ({ value }) => {
      agree(schema)(value)
    }, options)

    it.prop(`rejects whatever the decoder rejects among arbitrary values (${name})`, { value: Schema.Unknown }, ({ value }) => {
      agree(schema)(value)
    }, options)
  }

  it.prop("agrees with the decoder on arrays of append inputs", { value: Arbitrary.array(loose(AppendInput.fields)) }, ({ value }) => {
    agree(Schema.Array(AppendInput))(value)
  }, options)

  it("drops keys the schema does not declare, as the decoder does", () => {
    const row = { id: 1, source: "s", type: "t", refId: null, payload: null, timestamp: 0, extra: true }
    assert.deepStrictEqual(SchemaGuard.make(LogEntry)(row), { id: 1, source: "s", type: "t", refId: null, payload: null, timestamp: 0 })
  })

  it("returns a plain object for a row with a null prototype", () => {
    const row = Object.assign(Object.create(null), { id: 1, source: "s", type: "t", refId: null, payload: null, timestamp: 0 })
    const guarded = SchemaGuard.make(LogEntry)(row)
    assert.notStrictEqual(guarded, SchemaGuard.rejected)
    assert.strictEqual(Object.getPrototypeOf(guarded), Object.prototype)
  })

  it("runs the schema's own checks: a REAL or negative timestamp is rejected", () => {
    const guard = SchemaGuard.make(LogEntry)
    const row = { id: 1, source: "s", type: "t", refId: null, payload: null }
    assert.strictEqual(guard({ ...row, timestamp: 1.5 }), SchemaGuard.rejected)
    assert.strictEqual(guard({ ...row, timestamp: -1 }), SchemaGuard.rejected)
    assert.strictEqual(guard({ ...row, id: 0, timestamp: 1 }), SchemaGuard.rejected)
    assert.strictEqual(guard({ ...row, timestamp: "1" }), SchemaGuard.rejected)
    assert.strictEqual(SchemaGuard.make(AppendInput)({ source: "  ", type: "t" }), SchemaGuard.rejected)
  })

  it("never guards a schema with a transformation: its decoded type is not its input", () => {
    const Parsed = Schema.Struct({ n: Schema.NumberFromString, s: Schema.String })
    assert.isFalse(SchemaGuard.isCompiled(Parsed))
    assert.isFalse(SchemaGuard.isCompiled(Schema.Struct({ inner: Parsed })))
    assert.isFalse(SchemaGuard.isCompiled(Schema.fromJsonString(Schema.Unknown)))
    // The fallback guard rejects everything, valid values included, so the decoder decides.
    assert.strictEqual(SchemaGuard.make(Parsed)({ n: "1", s: "x" }), SchemaGuard.rejected)
    // Decoding defaults are transformations too: `{}` must decode to the defaults, not pass as is.
    assert.isFalse(SchemaGuard.isCompiled(GetThreadRoundsParams))
  })

  it.effect("a decoder of a schema with defaults still fills them in", () =>
    Effect.gen(function*() {
      const decode = inputDecoder(GetThreadRoundsParams, "params")
      assert.deepStrictEqual(yield* decode({}), { before: 0, limit: DEFAULT_THREAD_ROUNDS_LIMIT })
      assert.deepStrictEqual(yield* decode({ before: 3, limit: 2 }), { before: 3, limit: 2 })
    }))

  describe("Effect's numeric checks, written out as comparisons", () => {
    const bounded = {
      isInt: Schema.Number.pipe(Schema.check(Schema.isInt())),
      isGreaterThan: Schema.Number.pipe(Schema.check(Schema.isGreaterThan(2))),
      isGreaterThanOrEqualTo: Schema.Number.pipe(Schema.check(Schema.isGreaterThanOrEqualTo(2))),
      isLessThan: Schema.Number.pipe(Schema.check(Schema.isLessThan(2))),
      isLessThanOrEqualTo: Schema.Number.pipe(Schema.check(Schema.isLessThanOrEqualTo(2))),
      isBetween: Schema.Number.pipe(Schema.check(Schema.isBetween({ minimum: -1, maximum: 2 }))),
      isBetweenExclusive: Schema.Number.pipe(Schema.check(Schema.isBetween({ minimum: -1, maximum: 2, exclusiveMinimum: true, exclusiveMaximum: true })))
    }
    const edges = [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -0, 0, -1, 2, 1.5, 2.0000001, -1.0000001, 2 ** 53, 3]
    for (const [name, schema] of Object.entries(bounded)) {
      it(`${name} agrees with the decoder at the edges (NaN, infinities, -0, bounds)`, () => {
        for (const edge of edges) agree(schema)(edge)
      })
      it.prop(`${name} agrees with the decoder on arbitrary numbers`, { value: Schema.Number }, ({ value }) => {
        agree(schema)(value)
      }, options)
    }
  })

  describe("rows read as column values", () => {
    const columns = ["id", "source", "type", "refId", "payload", "timestamp"]
    const decode = Schema.decodeUnknownResult(LogEntry)
    const guard = SchemaGuard.makeColumns(LogEntry, columns)
    const agreeOnValues = (values: ReadonlyArray<unknown>) => {
      const guarded = guard(values)
      const decoded = decode(SchemaGuard.toObject(columns, values))
      if (Result.isSuccess(decoded)) assert.deepStrictEqual(guarded, decoded.success)
      else assert.strictEqual(guarded, SchemaGuard.rejected)
    }

    it.prop("agree with the decoder on valid rows", { value: LogEntry }, ({ value }) => {
      agreeOnValues(columns.map((column) => (value as Record<string, unknown>)[column]))
    }, options)

    it.prop("agree with the decoder on stray rows", { value: loose(LogEntry.fields) }, ({ value }) => {
      agreeOnValues(columns.map((column) => (value as Record<string, unknown>)[column]))
    }, options)

    it("build the row in the schema's shape, and reject a row of the wrong length", () => {
      assert.deepStrictEqual(guard([1, "s", "t", null, "p", 5]), { id: 1, source: "s", type: "t", refId: null, payload: "p", timestamp: 5 })
      assert.strictEqual(guard([1, "s", "t", null, "p"]), SchemaGuard.rejected)
      assert.strictEqual(guard([0, "s", "t", null, "p", 5]), SchemaGuard.rejected)
    })

    it("leave a column list that does not match the struct to the decoder", () => {
      assert.strictEqual(SchemaGuard.makeColumns(LogEntry, ["source", "id", "type", "refId", "payload", "timestamp"])([1, "s", "t", null, null, 0]), SchemaGuard.rejected)
      assert.strictEqual(SchemaGuard.makeColumns(LogEntry, columns.slice(1))(["s", "t", null, null, 0]), SchemaGuard.rejected)
    })
  })

  it("leaves unknown node kinds to the decoder", () => {
    assert.isFalse(SchemaGuard.isCompiled(Schema.Record(Schema.String, Schema.Number)))
    assert.isFalse(SchemaGuard.isCompiled(Schema.Union([Schema.String, Schema.Number], { mode: "oneOf" })))
    assert.isFalse(SchemaGuard.isCompiled(Schema.Struct({})))
  })
})
