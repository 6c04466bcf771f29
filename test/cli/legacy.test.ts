import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { createHash } from "node:crypto"
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { CliOutput, LogEntry } from "../../src/index.ts"
import { create05Database } from "../fixtures/sqlite-legacy05.ts"
import { makeTempDir } from "../support/tempDir.ts"
import { cli, decodeJson, decodeJsonLines } from "./run.ts"

const hashOf = (file: string) => createHash("sha256").update(readFileSync(file)).digest("hex")

describe("a nerve-store 0.5 data directory", () => {
  it.live("db check and db stats read it as it is; other reading commands ask for db upgrade and change nothing; after it they work", () =>
    Effect.gen(function*() {
      const dir = makeTempDir("nerve-cli-05-")
      const database = join(dir, "nerve.db")
      yield* Effect.sync(() => create05Database(database, false))
      const before = hashOf(database)

      const check = yield* cli(["--data-dir", dir, "--json", "db", "check"])
      assert.strictEqual(check.code, 0, check.stderr)
      const found = decodeJson(CliOutput.DbCheck, check.stdout)
      assert.deepStrictEqual([found.ok, found.legacy05, found.schemaVersion, found.integrity], [true, true, 0, ["ok"]])
      const stats = decodeJson(CliOutput.DbStats, (yield* cli(["--data-dir", dir, "--json", "db", "stats"])).stdout)
      assert.deepStrictEqual([stats.rows, stats.archivedUpTo, stats.owners], [4, "2020-09-01", []])

      for (const args of [["runs", "list"], ["logs", "query"], ["archive", "days"]]) {
        const refused = yield* cli(["--data-dir", dir, ...args])
        assert.strictEqual(refused.code, 1)
        assert.match(refused.stderr, /^nerve-store: .*nerve\.db has schema version 0 \(a nerve-store 0\.5 file\).*run `nerve-store db upgrade`.*\n$/)
      }
      assert.strictEqual(hashOf(database), before, "reading commands left the 0.5 file as it was")

      const upgraded = decodeJson(CliOutput.DbUpgrade, (yield* cli(["--data-dir", dir, "--json", "db", "upgrade"])).stdout)
      assert.deepStrictEqual(upgraded, { from: 0, to: found.latestSchemaVersion, roundCountsRepaired: 0 })
      const runs = decodeJson(CliOutput.RunsList, (yield* cli(["--data-dir", dir, "--json", "runs", "list"])).stdout)
      assert.includeMembers(runs.runs.map((r) => r.runId), ["good", "done"])
      assert.strictEqual(decodeJsonLines(LogEntry, (yield* cli(["--data-dir", dir, "--json", "logs", "query"])).stdout).length, 4)
      assert.isFalse(decodeJson(CliOutput.DbCheck, (yield* cli(["--data-dir", dir, "--json", "db", "check"])).stdout).legacy05)
    }))
})
