import { assert, describe, it } from "@effect/vitest"
import { readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"
import * as SchemaUtcDay from "../../schema/UtcDay.ts"
import * as DomainUtcDay from "../../src/domain/UtcDay.ts"
import * as store from "../../src/index.ts"

const schemaDir = join(import.meta.dirname, "..", "..", "schema")

describe("schema/ stands on nothing of the package", () => {
  it("no file in schema/ imports from src/ or layers/ (only effect and its own folder)", () => {
    const upward: Array<string> = []
    for (const file of readdirSync(schemaDir).filter((name) => name.endsWith(".ts"))) {
      const text = readFileSync(join(schemaDir, file), "utf8")
      for (const match of text.matchAll(/from\s+"([^"]+)"/g)) {
        const target = match[1]!
        if (target.startsWith("..")) upward.push(`${file} imports ${target}`)
      }
    }
    assert.deepStrictEqual(upward, [])
  })

  it("UtcDay is one schema, whether taken from schema/, src/domain/ or the package", () => {
    assert.strictEqual(DomainUtcDay.UtcDay, SchemaUtcDay.UtcDay)
    assert.strictEqual(store.UtcDay, SchemaUtcDay.UtcDay)
    assert.strictEqual(DomainUtcDay.isValidUtcDay, SchemaUtcDay.isValidUtcDay)
    assert.isTrue(DomainUtcDay.isUtcDay("2024-02-29"))
    assert.isFalse(DomainUtcDay.isUtcDay("2024-02-30"))
  })
})
