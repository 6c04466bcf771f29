import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { join } from "node:path"
import { LogStoreFile } from "../../layers/index.ts"
import { LogStore } from "../../src/LogStore.ts"
import { spawnFixture, waitForExit, waitForLine } from "../support/child.ts"
import { makeTempDir } from "../support/tempDir.ts"

const ROWS = 1_500

describe("two processes on one database", () => {
  it.live("a child and the parent append at once: no 'database is locked', every row exactly once", () =>
    Effect.gen(function*() {
      const filename = join(makeTempDir(), "nerve.db")
      // Create and migrate the file first so both processes start from the same schema.
      yield* Effect.provide(LogStore.use((log) => log.getMeta("x")), LogStoreFile({ filename }))
      const child = spawnFixture("append-loop.ts", [filename, String(ROWS), "child"])
      const exited = waitForExit(child)
      yield* Effect.promise(() => waitForLine(child, "ready"))

      yield* Effect.gen(function*() {
        const log = yield* LogStore
        for (let i = 0; i < ROWS; i++) {
          yield* log.append({ source: "parent", type: "tick", payload: `parent:${i}` })
          if (i % 100 === 0) yield* log.query({ source: "child", order: "desc", limit: 10 })
        }
        const { code, stderr } = yield* Effect.promise(() => exited)
        assert.strictEqual(stderr, "")
        assert.strictEqual(code, 0)
        for (const source of ["parent", "child"]) {
          const rows = yield* log.query({ source, limit: 100_000 })
          assert.deepStrictEqual(rows.map((r) => r.payload), Array.from({ length: ROWS }, (_, i) => `${source}:${i}`))
        }
      }).pipe(Effect.provide(LogStoreFile({ filename })))
    }))
})
