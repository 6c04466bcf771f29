// The connection's one statement cache is bounded: texts compiled from filters cannot grow it
// without end, the least recently used text goes first, and a text asked for as arrays and as
// objects gets one statement of each shape.
import { assert, describe, it } from "@effect/vitest"
import { DatabaseSync } from "node:sqlite"
import * as StatementCache from "../../src/sqlite/StatementCache.ts"

describe("the statement cache", () => {
  it("keeps at most its capacity, dropping the least recently used text", () => {
    const db = new DatabaseSync(":memory:")
    try {
      const cache = StatementCache.make(db, 3)
      const first = cache.prepare("SELECT 1", false)
      cache.prepare("SELECT 2", false)
      cache.prepare("SELECT 3", false)
      assert.strictEqual(cache.prepare("SELECT 1", false), first, "a hit returns the prepared statement")
      cache.prepare("SELECT 4", false) // drops SELECT 2, the least recently used
      assert.strictEqual(cache.size(), 3)
      assert.strictEqual(cache.prepare("SELECT 1", false), first)
      for (let i = 0; i < 1_000; i++) cache.prepare(`SELECT ${i} AS n`, false)
      assert.strictEqual(cache.size(), 3)
      assert.notStrictEqual(cache.prepare("SELECT 1", false), first, "an evicted text is prepared again")
    } finally {
      db.close()
    }
  })

  it("gives a text one statement returning objects and one returning arrays", () => {
    const db = new DatabaseSync(":memory:")
    try {
      const cache = StatementCache.make(db, 2)
      assert.deepStrictEqual(cache.prepare("SELECT 1 AS a, 2 AS b", true).all() as unknown, [[1, 2]])
      assert.deepStrictEqual(cache.prepare("SELECT 1 AS a, 2 AS b", false).all(), [{ a: 1, b: 2 }])
      assert.deepStrictEqual(cache.prepare("SELECT 1 AS a, 2 AS b", true).all() as unknown, [[1, 2]])
      assert.strictEqual(cache.size(), 1)
    } finally {
      db.close()
    }
  })
})
