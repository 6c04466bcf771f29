/**
 * A fast acceptor compiled once from a schema's AST: it returns what the schema's decoder would
 * return for a valid value, or {@link rejected} for anything else, so only rejected values pay
 * for the full decoder (and its error message).
 *
 * It understands the AST nodes our rows and inputs are made of: structs (no index signatures),
 * arrays, unions, literals, strings, numbers, booleans, null, undefined, unknown, and the checks
 * attached to any of them (run through each check's own `run`, so a range or a pattern has one
 * definition). Any other node, and any node with an encoding (a transformation, whose decoded
 * type differs from its input), makes the whole guard reject everything: the decoder then decides
 * every value, as if there were no guard.
 *
 * @since 0.7.0
 */
import type { Schema } from "effect"
import { SchemaAST } from "effect"

/** What a guard returns for a value the decoder must look at. */
export const rejected: unique symbol = Symbol.for("@uncaged/nerve-store/SchemaGuard/rejected")
export type Rejected = typeof rejected

/** The decoded value, or {@link rejected}. */
export type Guard<A> = (input: unknown) => A | Rejected

type Compiled = (input: unknown) => unknown

const parseOptions: SchemaAST.ParseOptions = {}

const flattenChecks = (checks: ReadonlyArray<SchemaAST.Check<unknown>>): Array<SchemaAST.Filter<unknown>> =>
  checks.flatMap((check) => check._tag === "Filter" ? [check] : flattenChecks(check.checks))

type Predicate = (input: unknown) => boolean

const numberPayload = (payload: unknown, key: string): number | undefined => {
  const value = typeof payload === "object" && payload !== null ? (payload as Record<string, unknown>)[key] : undefined
  return typeof value === "number" && Number.isFinite(value) ? value : undefined
}

/**
 * Effect's own numeric checks, recognised by their representation id and written out as plain
 * comparisons (a filter's `run` costs several times more). Each follows `Order.Number`, where NaN
 * is below every number. Any other filter runs through its own `run`.
 */
const nativeCheck = (filter: SchemaAST.Filter<unknown>): Predicate | undefined => {
  const representation = filter.annotations?.representation
  const payload: unknown = representation?.payload
  switch (representation?.id) {
    case "effect/schema/isInt":
      return (n) => Number.isSafeInteger(n)
    case "effect/schema/isGreaterThan": {
      const bound = numberPayload(payload, "exclusiveMinimum")
      return bound === undefined ? undefined : (n) => (n as number) > bound
    }
    case "effect/schema/isGreaterThanOrEqualTo": {
      const bound = numberPayload(payload, "minimum")
      return bound === undefined ? undefined : (n) => (n as number) >= bound
    }
    case "effect/schema/isLessThan": {
      const bound = numberPayload(payload, "exclusiveMaximum")
      return bound === undefined ? undefined : (n) => (n as number) < bound || Number.isNaN(n)
    }
    case "effect/schema/isLessThanOrEqualTo": {
      const bound = numberPayload(payload, "maximum")
      return bound === undefined ? undefined : (n) => (n as number) <= bound || Number.isNaN(n)
    }
    case "effect/schema/isBetween": {
      const minimum = numberPayload(payload, "minimum")
      const maximum = numberPayload(payload, "maximum")
      if (minimum === undefined || maximum === undefined) return undefined
      const options = payload as { readonly exclusiveMinimum?: unknown; readonly exclusiveMaximum?: unknown }
      const above = options.exclusiveMinimum === true ? (n: number) => n > minimum : (n: number) => n >= minimum
      const below = options.exclusiveMaximum === true ? (n: number) => n < maximum : (n: number) => n <= maximum
      return (n) => above(n as number) && below(n as number)
    }
    default:
      return undefined
  }
}

const withChecks = (ast: SchemaAST.AST, base: Compiled): Compiled => {
  if (ast.checks === undefined) return base
  const checks: Array<Predicate> = flattenChecks(ast.checks).map((filter) =>
    nativeCheck(filter) ?? ((input) => filter.run(input, ast, parseOptions) === undefined)
  )
  return (input) => {
    const output = base(input)
    if (output === rejected) return rejected
    for (const check of checks) {
      if (!check(output)) return rejected
    }
    return output
  }
}

const isRecord = (input: unknown): input is Record<string, unknown> =>
  typeof input === "object" && input !== null && !Array.isArray(input)

interface Property {
  readonly name: string
  readonly guard: Compiled
  readonly optional: boolean
}

const compileProperties = (ast: SchemaAST.Objects): ReadonlyArray<Property> | undefined => {
  // An empty struct accepts any non-nullish value as it is; index signatures copy unknown keys.
  if (ast.indexSignatures.length > 0 || ast.propertySignatures.length === 0) return undefined
  const properties: Array<Property> = []
  for (const property of ast.propertySignatures) {
    if (typeof property.name !== "string" || property.name === "__proto__") return undefined
    const guard = compile(property.type)
    if (guard === undefined) return undefined
    properties.push({ name: property.name, guard, optional: SchemaAST.isOptional(property.type) })
  }
  return properties
}

const compileObjects = (ast: SchemaAST.Objects): Compiled | undefined => {
  const properties = compileProperties(ast)
  if (properties === undefined) return undefined
  return (input) => {
    if (!isRecord(input)) return rejected
    // Like the decoder: a new object holding the declared keys that are present, in schema order.
    const output: Record<string, unknown> = {}
    for (const { guard, name, optional } of properties) {
      if (name in input) {
        const value = guard(input[name])
        if (value === rejected) return rejected
        output[name] = value
      } else if (!optional) {
        return rejected
      }
    }
    return output
  }
}

const compileArrays = (ast: SchemaAST.Arrays): Compiled | undefined => {
  const [item] = ast.rest
  if (ast.elements.length > 0 || ast.rest.length !== 1 || item === undefined) return undefined
  const guard = compile(item)
  if (guard === undefined) return undefined
  return (input) => {
    if (!Array.isArray(input)) return rejected
    const output: Array<unknown> = new Array(input.length)
    for (let i = 0; i < input.length; i++) {
      const value = guard(input[i])
      if (value === rejected) return rejected
      output[i] = value
    }
    return output
  }
}

const compileUnion = (ast: SchemaAST.Union): Compiled | undefined => {
  if (ast.options?.mode === "oneOf") return undefined
  const members: Array<Compiled> = []
  for (const type of ast.types) {
    const guard = compile(type)
    if (guard === undefined) return undefined
    members.push(guard)
  }
  // The decoder returns the first member that accepts the value; so does this.
  return (input) => {
    for (const member of members) {
      const value = member(input)
      if (value !== rejected) return value
    }
    return rejected
  }
}

const compileNode = (ast: SchemaAST.AST): Compiled | undefined => {
  switch (ast._tag) {
    case "String":
      return (input) => typeof input === "string" ? input : rejected
    case "Number":
      return (input) => typeof input === "number" ? input : rejected
    case "Boolean":
      return (input) => typeof input === "boolean" ? input : rejected
    case "Null":
      return (input) => input === null ? input : rejected
    case "Undefined":
      return (input) => input === undefined ? input : rejected
    case "Unknown":
      return (input) => input
    case "Literal": {
      const literal = ast.literal
      return (input) => input === literal ? input : rejected
    }
    case "Objects":
      return ast.encodingChecks === undefined ? compileObjects(ast) : undefined
    case "Arrays":
      return ast.encodingChecks === undefined ? compileArrays(ast) : undefined
    case "Union":
      return ast.encodingChecks === undefined ? compileUnion(ast) : undefined
    default:
      return undefined
  }
}

/** The guard of one AST node, or undefined when this compiler does not know the node. */
const compile = (ast: SchemaAST.AST): Compiled | undefined => {
  if (ast.encoding !== undefined) return undefined
  const base = compileNode(ast)
  return base === undefined ? undefined : withChecks(ast, base)
}

const rejectAll = (): Rejected => rejected

/**
 * Compiles the guard of `schema`. When the schema holds a node the compiler does not know, the
 * guard rejects every value (the caller's full decoder then decides).
 *
 * @example
 * ```ts
 * const guard = SchemaGuard.make(LogEntry)
 * const decode = Schema.decodeUnknownResult(LogEntry)
 * const value = guard(row)
 * const result = value === SchemaGuard.rejected ? decode(row) : Result.succeed(value)
 * ```
 */
export const make = <S extends Schema.Top>(schema: S): Guard<S["Type"]> => {
  const guard = compile(schema.ast)
  return guard === undefined ? rejectAll : (guard as Guard<S["Type"]>)
}

/** The decoded row, or {@link rejected}, from a row read as column values. */
export type ColumnsGuard<A> = (values: ReadonlyArray<unknown>) => A | Rejected

/**
 * Compiles the guard of a struct `schema` over rows read as arrays (`SyncConnection.values`):
 * `columns` names, in order, the property each value belongs to, and must list exactly the
 * struct's properties in the schema's order. The row object is built once, already in the shape
 * the decoder returns. Any other schema rejects every row (the caller's decoder then decides, on
 * the object {@link toObject} builds).
 */
export const makeColumns = <S extends Schema.Top>(schema: S, columns: ReadonlyArray<string>): ColumnsGuard<S["Type"]> => {
  const ast = schema.ast
  if (ast._tag !== "Objects" || ast.encoding !== undefined || ast.encodingChecks !== undefined) return rejectAll
  const properties = compileProperties(ast)
  if (properties === undefined || properties.length !== columns.length) return rejectAll
  if (properties.some((property, index) => property.name !== columns[index])) return rejectAll
  const guards = properties.map((property) => property.guard)
  const whole = withChecks(ast, (input) => input)
  return ((values) => {
    if (values.length !== guards.length) return rejected
    const output: Record<string, unknown> = {}
    for (let i = 0; i < guards.length; i++) {
      const value = guards[i]!(values[i])
      if (value === rejected) return rejected
      output[columns[i]!] = value
    }
    return whole(output)
  }) as ColumnsGuard<S["Type"]>
}

/** The object of a row read as column values, for the full decoder. */
export const toObject = (columns: ReadonlyArray<string>, values: ReadonlyArray<unknown>): Record<string, unknown> => {
  const output: Record<string, unknown> = {}
  columns.forEach((column, index) => {
    output[column] = values[index]
  })
  return output
}

/** Whether `schema` compiles to a guard that can accept values (not just the fallback). */
export const isCompiled = (schema: Schema.Top): boolean => compile(schema.ast) !== undefined
