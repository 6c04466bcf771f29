// Issue 18 items 2 and 4, checked in a real pseudo-terminal at 80 and 160 columns: stored control
// characters are escaped in every human output, tables fit the width (cut with …, CJK measured as
// two cells), --full shows whole text, a row with no ref id does not shift the payload, and
// `blobs get` refuses to write binary to a terminal unless -o FILE.
import { assert, beforeAll, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { makeTempDir } from "../support/tempDir.ts"
import { cells, CLI, inTerminal } from "./shell.ts"
import { CJK_TEXT, LONG_RUN, type OperatorSeed, seedOperator } from "./seedOperator.ts"

let dir = ""
let dataDir = ""
let seeded: OperatorSeed

beforeAll(async () => {
  dir = makeTempDir("nerve-cli-pty-")
  dataDir = join(dir, "data")
  seeded = await seedOperator(dataDir)
})

const drawn = (command: string, columns: number) =>
  Effect.promise(() => inTerminal(`${CLI} --data-dir '${dataDir}' ${command}`, columns))

/** The lines drawn, each checked to fit `columns` cells. */
const fitting = (output: string, columns: number, what: string): ReadonlyArray<string> => {
  const shown = output.split("\n").filter((line) => line !== "")
  for (const line of shown) assert.isAtMost(cells(line), columns, `${what} at ${columns}: ${line}`)
  return shown
}

describe("on a terminal 80 and 160 columns wide", () => {
  it.live("stored control characters are escaped in threads messages, threads rounds, runs show and logs", () =>
    Effect.gen(function*() {
      const outputs = yield* Effect.forEach(
        [`threads messages ${LONG_RUN}`, `threads rounds ${LONG_RUN}`, `runs show ${LONG_RUN}`, `logs query --ref ${LONG_RUN}`, `logs tail -n 5`],
        (command) => Effect.map(drawn(command, 160), (result) => ({ command, ...result })),
        { concurrency: 2 }
      )
      for (const { command, code, output } of outputs) {
        assert.strictEqual(code, 0, `${command}: ${output}`)
        assert.notInclude(output, "\u001b[2J", command)
        assert.notMatch(output, /\u001b/, command)
      }
      for (const { output } of outputs.slice(0, 3)) assert.include(output, "before\\e[2Jafter")
    }))

  it.live("runs list, threads messages and logs tail fit the width; --full shows the whole text; no ref id keeps the columns", () =>
    Effect.gen(function*() {
      for (const columns of [80, 160]) {
        const [runs, messages, tail, full] = yield* Effect.all([
          drawn("runs list --limit 100", columns),
          drawn(`threads messages ${LONG_RUN}`, columns),
          drawn("logs tail -n 4", columns),
          drawn(`--full threads messages ${LONG_RUN}`, columns)
        ], { concurrency: 2 })
        const runLines = fitting(runs?.output ?? "", columns, "runs list")
        const long = runLines.find((line) => line.startsWith("r-long")) ?? ""
        if (columns === 80) assert.match(long, /^r-long\S*…\s+build\s+started /)
        else assert.match(long, new RegExp(`^${LONG_RUN}\\s+build\\s+started `))
        const messageLines = fitting(messages?.output ?? "", columns, "threads messages")
        const cjk = messageLines.find((line) => line.includes("日本語")) ?? ""
        assert.isTrue(columns === 80 ? cjk.endsWith("…") : cjk.length > 0, cjk)
        const tailLines = fitting(tail?.output ?? "", columns, "logs tail")
        const starts = tailLines.map((line) => line.search(/\{"/))
        assert.strictEqual(new Set(starts).size, 1, tailLines.join("\n"))
        assert.include(full?.output, CJK_TEXT)
      }
    }))

  it.live("blobs get refuses binary on a terminal (exit 2), writes it with -o FILE, and prints text", () =>
    Effect.gen(function*() {
      const out = join(dir, "binary.out")
      const [refused, written, text] = yield* Effect.all([
        drawn(`blobs get ${seeded.binary}`, 80),
        drawn(`blobs get ${seeded.binary} -o '${out}'`, 80),
        drawn(`blobs get ${seeded.referenced[1]}`, 80)
      ], { concurrency: 2 })
      assert.strictEqual(refused?.code, 2)
      assert.match(refused?.output ?? "", new RegExp(`^nerve-store: invalid --output: blob ${seeded.binary} is binary .*use -o FILE, or pipe it\\n$`))
      assert.strictEqual(written?.code, 0, written?.output)
      assert.deepStrictEqual([...readFileSync(out)], [0, 1, 2, 3, 255, 254, 0x1b, 0x5b, 0x32, 0x4a])
      assert.strictEqual(text?.output, "referenced by meta.blob")
    }))
})
