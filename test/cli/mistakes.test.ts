// Issue 18 item 8 and 9, issue 19 item 8: a mistake on the command line is exit 2 with one line
// naming the flag (JSON on stderr with --json), the nearest command is suggested, a run that does
// not exist is exit 1 in every command that takes a run id, and every --help has an example.
import { assert, beforeAll, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { makeTempDir } from "../support/tempDir.ts"
import { cli, fingerprint } from "./run.ts"
import { seed } from "./seed.ts"

let dataDir = ""

beforeAll(async () => {
  dataDir = makeTempDir("nerve-cli-mistakes-")
  await seed(dataDir)
})

/** Arguments, and a piece of the one line (after `nerve-store: `) they must print with exit 2. */
const usage: ReadonlyArray<readonly [ReadonlyArray<string>, string]> = [
  [["runs", "list", "--limit", "0"], "invalid --limit: must be at least 1 (got 0)"],
  [["runs", "list", "--status", "runing"], `invalid --status: "runing" is not one of queued, started, completed, failed, crashed, interrupted, dropped, killed`],
  [["runs", "list", "--cursor", "nonsense"], "invalid --cursor:"],
  [["threads", "rounds", "r-done", "--limit", "0"], "invalid --limit: must be at least 1"],
  [["logs", "query", "--limit", "0"], "invalid --limit: must be at least 1"],
  [["logs", "query", "--until", "2024-01-01junk"], `invalid --until: "2024-01-01junk" is not epoch milliseconds or an ISO-8601 time`],
  [["logs", "query", "--since", "2024-02-30"], `invalid --since: "2024-02-30" is not epoch milliseconds or an ISO-8601 time`],
  [["logs", "query", "--since", "2024-13-01T00:00:00Z"], `invalid --since: "2024-13-01T00:00:00Z" is not epoch milliseconds or an ISO-8601 time`],
  [["logs", "query", "--since", "2024-01-01T24:00:00"], "invalid --since"],
  [["logs", "query", "--since", "2026-12-02", "--until", "2026-12-01"], "invalid --since: 2026-12-02 is after --until 2026-12-01: nothing can match"],
  [["logs", "tail", "--since", "yesterday"], "invalid --since"],
  [["logs", "tail", "-f", "--until", "1h"], "invalid --until: cannot be used with --follow"],
  [["logs", "query", "--order", "sideways"], `invalid --order: "sideways" is not one of asc, desc`],
  [["blobs", "stat", "abc"], `invalid blob digest "abc"`],
  [["blobs", "gc", "--min-age", "soon"], "invalid --min-age"],
  [["runs", "lst"], "Unknown subcommand \"lst\" for \"nerve-store runs\"; did you mean `nerve-store runs list`?"],
  [["db", "stat"], "did you mean `nerve-store db stats`?"],
  [["runs", "list", "--limt", "3"], "did you mean --limit?"]
]

describe("mistakes on the command line", () => {
  it.live("every bad value is exit 2 with one line naming the flag; unknown commands suggest the nearest; nothing changes", () =>
    Effect.gen(function*() {
      const before = fingerprint(dataDir)
      const results = yield* Effect.forEach(usage, ([args, expected]) =>
        Effect.map(cli(["--data-dir", dataDir, ...args]), (result) => ({ args, expected, result })), { concurrency: 3 })
      for (const { args, expected, result } of results) {
        const what = args.join(" ")
        assert.strictEqual(result.code, 2, `${what}: ${result.stderr}`)
        assert.match(result.stderr, /^nerve-store: [^\n]+\n$/, what)
        assert.include(result.stderr, expected, what)
        assert.strictEqual(result.stdout, "", what)
      }
      assert.strictEqual(fingerprint(dataDir), before)
    }))

  it.live("with --json an error is one JSON object on stderr (tag, message, exit code)", () =>
    Effect.gen(function*() {
      const [badFlag, unknown, missing] = yield* Effect.all([
        cli(["--data-dir", dataDir, "--json", "runs", "list", "--limit", "0"]),
        cli(["--data-dir", dataDir, "--json", "runs", "lst"]),
        cli(["--data-dir", dataDir, "--json", "threads", "messages", "nope"])
      ], { concurrency: 3 })
      const parse = (text: string | undefined) => JSON.parse(text ?? "") as { error: { tag: string; message: string; exitCode: number } }
      assert.deepStrictEqual(parse(badFlag?.stderr).error, { tag: "UsageError", message: "invalid --limit: must be at least 1 (got 0)", exitCode: 2 })
      assert.strictEqual(badFlag?.code, 2)
      assert.include(parse(unknown?.stderr).error.message, "did you mean `nerve-store runs list`?")
      assert.deepStrictEqual(parse(missing?.stderr).error, { tag: "RunNotFound", message: "run nope not found", exitCode: 1 })
      assert.strictEqual(missing?.code, 1)
    }))

  it.live("a run id that does not exist is exit 1 in every command that takes one", () =>
    Effect.gen(function*() {
      const commands = [["threads", "rounds"], ["threads", "messages"], ["runs", "show"], ["runs", "cancel"], ["runs", "retry"]]
      const results = yield* Effect.forEach(commands, (command) => cli(["--data-dir", dataDir, ...command, "nope"]), { concurrency: 3 })
      results.forEach((result, i) => {
        assert.strictEqual(result.code, 1, commands[i]?.join(" "))
        assert.strictEqual(result.stderr, "nerve-store: run nope not found\n", commands[i]?.join(" "))
      })
    }))

  it.live("every command's --help has an example, and --since says that a time without a zone is local", () =>
    Effect.gen(function*() {
      const commands = [
        [], ["logs"], ["logs", "query"], ["logs", "tail"], ["runs"], ["runs", "list"], ["runs", "show"], ["runs", "cancel"], ["runs", "retry"],
        ["runs", "recover"], ["threads"], ["threads", "rounds"], ["threads", "messages"], ["archive"], ["blobs"], ["blobs", "gc"],
        ["blobs", "list"], ["blobs", "refs"], ["blobs", "get"], ["blobs", "put"], ["blobs", "stat"], ["blobs", "verify"],
        ["archive", "days"], ["archive", "read"], ["archive", "restore"], ["db"], ["doctor"]
      ]
      const helps = yield* Effect.forEach(commands, (command) => cli([...command, "--help"]), { concurrency: 3 })
      helps.forEach((help, i) => {
        assert.strictEqual(help.code, 0, commands[i]?.join(" "))
        assert.match(help.stdout, /\nEXAMPLES\n(\s+#.*\n)?\s+nerve-store /, `${commands[i]?.join(" ")}: ${help.stdout}`)
      })
      assert.include(helps[2]?.stdout ?? "", "no zone = local time")
    }), 600_000) // 27 CLI processes: a generous guard against a hang on a loaded machine, not a timing check
})
