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

const withChecks = (ast: SchemaAST.AST, base: Compiled): Compiled => {
  if (ast.checks === undefined) return base
  const filters = flattenChecks(ast.checks)
  return (input) => {
    const output = base(input)
    if (output === rejected) return rejected
    for (const filter of filters) {
      if (filter.run(output, ast, parseOptions) !== undefined) return rejected
    }
    return output
  }
}

const isRecord = (input: unknown): input is Record<string, unknown> =>
  typeof input === "object" && input !== null && !Array.isArray(input)

const compileObjects = (ast: SchemaAST.Objects): Compiled | undefined => {
  // An empty struct accepts any non-nullish value as it is; index signatures copy unknown keys.
  if (ast.indexSignatures.length > 0 || ast.propertySignatures.length === 0) return undefined
  const properties: Array<{ readonly name: string; readonly guard: Compiled; readonly optional: boolean }> = []
  for (const property of ast.propertySignatures) {
    if (typeof property.name !== "string" || property.name === "__proto__") return undefined
    const guard = compile(property.type)
    if (guard === undefined) return undefined
    properties.push({ name: property.name, guard, optional: SchemaAST.isOptional(property.type) })
  }
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

/** Whether `schema` compiles to a guard that can accept values (not just the fallback). */
export const isCompiled = (schema: Schema.Top): boolean => compile(schema.ast) !== undefined
