import { assert, beforeAll, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { existsSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { makeTempDir } from "../support/tempDir.ts"
import { cli, fingerprint } from "./run.ts"
import { seed } from "./seed.ts"

let dataDir = ""
let aFile = ""
let badLive = ""

beforeAll(async () => {
  const dir = makeTempDir("nerve-cli-bad-")
  dataDir = join(dir, "data")
  await seed(dataDir)
  aFile = join(dir, "a-file")
  writeFileSync(aFile, "not a folder")
  badLive = join(dir, "live.txt")
  writeFileSync(badLive, `${"a".repeat(64)}\n../../etc/passwd\n`)
})

/** Every case: the arguments, and a piece of the one line it must print. */
const cases = (): ReadonlyArray<readonly [ReadonlyArray<string>, string]> => [
  [["frobnicate"], `Unknown subcommand "frobnicate"`],
  [["runs", "list", "--bogus"], "Unrecognized flag: --bogus"],
  [["runs", "list", "--status", "running"], `invalid --status: "running" is not one of queued, started,`],
  [["runs", "list", "--limit", "0"], "invalid --limit: must be at least 1"],
  [["runs", "show"], "Missing required argument: runId"],
  [["logs", "query", "--since", "yesterday"], `invalid --since: "yesterday" is not epoch milliseconds or an ISO-8601 time`],
  [["logs", "query", "--order", "sideways"], "invalid --order"],
  [["logs", "tail", "-n", "x"], "Invalid value for flag --lines"],
  [["blobs", "get", "../../etc/passwd"], `invalid blob digest "../../etc/passwd"`],
  [["blobs", "stat", "abc"], `invalid blob digest "abc"`],
  [["blobs", "put", "/no/such/file"], "invalid file: /no/such/file: no such file"],
  [["blobs", "verify"], "give blob digests or --all"],
  [["blobs", "gc", "--live", "LIVE"], "line 2 is not a digest"],
  [["blobs", "gc", "--temp-older-than", "soon"], "invalid --temp-older-than"],
  [["archive", "read", "2024-02-30"], `invalid UTC day "2024-02-30"`],
  [["archive", "restore", "24-01-01"], `invalid UTC day "24-01-01"`],
  [["archive", "--retention", "forever"], "invalid --retention"],
  [["archive", "--max-days", "0"], "invalid --max-days: must be at least 1"]
]

describe("bad input", () => {
  it.live("prints one line on stderr (no stack trace), exits non-zero and leaves the data untouched", () =>
    Effect.gen(function*() {
      const before = fingerprint(dataDir)
      const results = yield* Effect.forEach(cases(), ([args, expected]) =>
        Effect.map(cli(["--data-dir", dataDir, ...args.map((arg) => (arg === "LIVE" ? badLive : arg))]), (result) => ({ args, expected, result })), { concurrency: 3 })
      for (const { args, expected, result } of results) {
        const what = args.join(" ")
        assert.notStrictEqual(result.code, 0, what)
        assert.match(result.stderr, /^nerve-store: [^\n]+\n$/, `${what}: ${result.stderr}`)
        assert.include(result.stderr, expected, what)
        assert.notMatch(result.stderr, /\n\s+at /, what)
        assert.strictEqual(result.stdout, "", what)
      }
      assert.strictEqual(fingerprint(dataDir), before)
    }))

  it.live("a data directory that is a file, or that does not exist, is a clear error and nothing is created", () =>
    Effect.gen(function*() {
      const missing = join(dataDir, "..", "missing")
      const results = yield* Effect.all([
        cli(["--data-dir", aFile, "runs", "list"]),
        cli(["--data-dir", aFile, "blobs", "put", "-"], { input: "x" }),
        cli(["--data-dir", missing, "db", "stats"]),
        cli(["logs", "tail"], { env: { NERVE_DATA_DIR: missing } }),
        cli(["--data-dir", missing, "archive"]),
        cli(["--data-dir", join(dataDir, "archive"), "db", "check"])
      ], { concurrency: 3 })
      const [fileRead, fileWrite, ...rest] = results
      assert.match(fileRead?.stderr ?? "", new RegExp(`^nerve-store: cannot use ${aFile} in the data directory: .*folder.*\\n$`))
      assert.match(fileWrite?.stderr ?? "", new RegExp(`^nerve-store: cannot use ${aFile} in the data directory: a file stands where a folder should be\\n$`))
      for (const result of results) {
        assert.strictEqual(result.code, 1)
        assert.match(result.stderr, /^nerve-store: [^\n]+\n$/)
      }
      for (const result of rest.slice(0, 3)) assert.include(result.stderr, "does not exist")
      assert.isFalse(existsSync(missing))
    }))
})
