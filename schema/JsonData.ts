/**
 * Plain JSON data: what a caller may put where nerve-store stores a value as JSON (a thread
 * message's `meta`). A value that `JSON.stringify` would throw on (a cycle, a BigInt), silently
 * change (NaN, a Date, a Map, a class instance, `undefined` in an array) or nest past what SQLite's
 * JSON functions read is refused, naming the path of the bad value.
 *
 * @since 0.8.0
 */
import { Schema } from "effect"

/** How deep `meta` may nest objects and arrays: far below SQLite's JSON limit of 1,000. */
export const MAX_JSON_DATA_DEPTH = 64

/** How many values (containers and leaves) `meta` may hold. */
export const MAX_JSON_DATA_VALUES = 100_000

interface Problem {
  readonly path: ReadonlyArray<PropertyKey>
  readonly issue: string
}

const NOT_JSON = "JSON cannot hold it"

const describeObject = (value: object): string => {
  const name: unknown = (value as { readonly constructor?: { readonly name?: unknown } }).constructor?.name
  return typeof name === "string" && name !== "" ? `a ${name}` : "an object with a prototype"
}

/**
 * The first reason `value` is not plain JSON data within the bounds, with its path; `undefined`
 * when it is. Walks the value once (depth-first), stopping at the first problem.
 */
export const jsonDataProblem = (
  value: unknown,
  maxDepth: number = MAX_JSON_DATA_DEPTH,
  maxValues: number = MAX_JSON_DATA_VALUES
): Problem | undefined => {
  const ancestors = new Set<object>()
  const path: Array<PropertyKey> = []
  let values = 0
  const problem = (issue: string): Problem => ({ path: [...path], issue })

  const visit = (node: unknown, depth: number): Problem | undefined => {
    if (++values > maxValues) return problem(`is one value too many: meta may hold at most ${maxValues} values`)
    switch (typeof node) {
      case "string":
      case "boolean":
        return undefined
      case "number":
        return Number.isFinite(node) ? undefined : problem(`is ${node}, which JSON cannot hold (it would be stored as null)`)
      case "bigint":
        return problem(`is a BigInt, which ${NOT_JSON} (store it as a string)`)
      case "undefined":
        return problem("is undefined, which JSON cannot hold (in an array it would be stored as null)")
      case "function":
      case "symbol":
        return problem(`is a ${typeof node}, which ${NOT_JSON}`)
    }
    if (node === null) return undefined
    const container = node as object
    if (ancestors.has(container)) return problem(`refers back to a value that contains it (a cycle), which ${NOT_JSON}`)
    if (depth >= maxDepth) return problem(`nests deeper than ${maxDepth} objects or arrays (the most meta may nest)`)
    const isArray = Array.isArray(container)
    const prototype: unknown = Object.getPrototypeOf(container)
    if (isArray ? prototype !== Array.prototype : prototype !== Object.prototype && prototype !== null) {
      return problem(`is ${describeObject(container)}: meta takes plain objects, arrays, strings, finite numbers, booleans and null`)
    }
    ancestors.add(container)
    const found = isArray ? visitArray(container as ReadonlyArray<unknown>, depth) : visitObject(container, depth)
    ancestors.delete(container)
    return found
  }

  const visitArray = (array: ReadonlyArray<unknown>, depth: number): Problem | undefined => {
    for (let i = 0; i < array.length; i++) {
      path.push(i)
      const found = visit(array[i], depth + 1)
      if (found !== undefined) return found
      path.pop()
    }
    return undefined
  }

  const visitObject = (object: object, depth: number): Problem | undefined => {
    const descriptors = Object.getOwnPropertyDescriptors(object)
    for (const key of Object.keys(object)) {
      path.push(key)
      const descriptor = descriptors[key]
      if (descriptor === undefined || !("value" in descriptor)) return problem("is a getter, not data")
      // JSON leaves out a property whose value is undefined, as an optional field would be.
      if (descriptor.value !== undefined) {
        const found = visit(descriptor.value, depth + 1)
        if (found !== undefined) return found
      }
      path.pop()
    }
    return undefined
  }

  return visit(value, 0)
}

/**
 * Any plain JSON data: null, booleans, finite numbers, strings, arrays and plain objects of them,
 * nested at most {@link MAX_JSON_DATA_DEPTH} deep, at most {@link MAX_JSON_DATA_VALUES} values, no
 * cycles. An object property whose value is `undefined` is allowed (JSON leaves it out).
 */
export const JsonData = Schema.Unknown.pipe(
  Schema.check(Schema.makeFilter((value: unknown) => jsonDataProblem(value)))
)
