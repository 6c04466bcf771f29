/**
 * Decoding of caller input and stored rows with `effect/Schema`, turning a schema failure into
 * the tagged error that names what was wrong and where.
 *
 * Each decoder first asks a guard compiled from the same schema (`SchemaGuard`): a valid value is
 * accepted in nanoseconds, and only a value the guard rejects pays for the full decoder, which
 * then either accepts it or names the problem.
 *
 * @since 0.6.0
 */
import { Effect, Result, Schema, SchemaIssue } from "effect"
import { CorruptRow, InvalidInput } from "../../schema/Errors.ts"
import * as SchemaGuard from "./SchemaGuard.ts"

const formatter = SchemaIssue.makeFormatterStandardSchemaV1()

/** The first problem of a schema issue as `{ path, message }`, the path joined with dots. */
export const describeIssue = (issue: SchemaIssue.Issue, prefix: string): { readonly field: string; readonly reason: string } => {
  const first = formatter(issue).issues[0]
  const path = (first?.path ?? []).map((key) => String(typeof key === "object" && key !== null && "key" in key ? key.key : key))
  return {
    field: [prefix, ...path].filter((part) => part !== "").join("."),
    reason: first?.message ?? "invalid"
  }
}

/**
 * A decoder of caller input: fails with `InvalidInput` naming the field (`field` is the name of
 * the argument, extended with the path inside it).
 */
export const inputDecoder = <S extends Schema.Top & { readonly DecodingServices: never }>(schema: S, field: string) => {
  const guard = SchemaGuard.make(schema)
  const decode = Schema.decodeUnknownResult(schema)
  return (value: unknown): Effect.Effect<S["Type"], InvalidInput> => {
    const guarded = guard(value)
    if (guarded !== SchemaGuard.rejected) return Effect.succeed(guarded)
    const result = decode(value)
    return Result.isSuccess(result)
      ? Effect.succeed(result.success)
      : Effect.fail(new InvalidInput(describeIssue(result.failure.issue, field)))
  }
}

/** A decoder of stored rows: fails with `CorruptRow` naming the table and the row's key (computed only then). */
export const rowDecoder = <S extends Schema.Top & { readonly DecodingServices: never }>(schema: S, table: string) => {
  const guard = SchemaGuard.make(schema)
  const decode = Schema.decodeUnknownResult(schema)
  return (row: unknown, key: () => string): Result.Result<S["Type"], CorruptRow> => {
    const guarded = guard(row)
    if (guarded !== SchemaGuard.rejected) return Result.succeed(guarded)
    const result = decode(row)
    if (Result.isSuccess(result)) return Result.succeed(result.success)
    const { field, reason } = describeIssue(result.failure.issue, "")
    return Result.fail(new CorruptRow({ table, key: key(), reason: field === "" ? reason : `${field}: ${reason}` }))
  }
}

/**
 * A decoder of stored rows read as column values (`SyncConnection.values`), `columns` naming each
 * value's property in order: fails with `CorruptRow` naming the table and the row's key.
 */
export const columnsDecoder = <S extends Schema.Top & { readonly DecodingServices: never }>(
  schema: S,
  table: string,
  columns: ReadonlyArray<string>
) => {
  const guard = SchemaGuard.makeColumns(schema, columns)
  const decode = rowDecoder(schema, table)
  return (values: ReadonlyArray<unknown>, key: () => string): Result.Result<S["Type"], CorruptRow> => {
    const guarded = guard(values)
    return guarded !== SchemaGuard.rejected ? Result.succeed(guarded) : decode(SchemaGuard.toObject(columns, values), key)
  }
}
