// Issue 18 item 4, follow-up: the `label: value` block of `runs show` (run id, owner and lease)
// and its trigger lines fit the terminal in a real pseudo-terminal at 80 and 160 columns, cut
// with … as table cells are; `--full` and a pipe show every value whole.
import { assert, beforeAll, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { join } from "node:path"
import { NerveStoreLive } from "../../layers/index.ts"
import { LogStore } from "../../src/index.ts"
import { makeTempDir } from "../support/tempDir.ts"
import { cells, CLI, inTerminal, sh } from "./shell.ts"
import { LONG_RUN } from "./seedOperator.ts"

/** A trigger prompt wider than 160 columns. */
const PROMPT = "summarise every failing test of the nightly build and open one issue per flaky test, ".repeat(3).trim()
/** A run whose started row is long text with a line feed and an escape, not a trigger. */
const PAYLOAD_RUN = "r-long-payload"
const PAYLOAD = `not json: ${"the operator pasted a very long note here ".repeat(5)}\nsecond line \u001b[2J end`
/** The payload as the CLI shows it whole: one line, the escape made visible. */
const PAYLOAD_SHOWN = PAYLOAD.replace(/\s+/g, " ").replace("\u001b", "\\e")

let dataDir = ""

beforeAll(async () => {
  dataDir = join(makeTempDir("nerve-cli-show-pty-"), "data")
  await Effect.gen(function*() {
    const log = yield* LogStore
    yield* log.transition(
      { source: "workflow", type: "started", payload: JSON.stringify({ prompt: PROMPT, maxRounds: 3 }) },
      { runId: LONG_RUN, workflow: "build", status: "started" }
    )
    yield* log.appendThreadMessage(LONG_RUN, { role: "user", content: PROMPT })
    yield* log.transition({ source: "workflow", type: "started", payload: PAYLOAD }, { runId: PAYLOAD_RUN, workflow: "deploy", status: "started" })
  }).pipe(Effect.provide(NerveStoreLive({ dataDir })), Effect.runPromise)
})

const drawn = (command: string, columns: number) =>
  Effect.promise(() => inTerminal(`${CLI} --data-dir '${dataDir}' ${command}`, columns))

/** The lines drawn (the command succeeded), each checked to fit `columns` cells. */
const fitting = (result: { readonly code: number | null; readonly output: string } | undefined, columns: number, what: string): ReadonlyArray<string> => {
  assert.strictEqual(result?.code, 0, `${what}: ${result?.output}`)
  const shown = (result?.output ?? "").split("\n").filter((line) => line !== "")
  for (const line of shown) assert.isAtMost(cells(line), columns, `${what} at ${columns}: ${line}`)
  return shown
}

const lineOf = (lines: ReadonlyArray<string>, start: string): string => lines.find((line) => line.startsWith(start)) ?? ""

describe("runs show on a terminal 80 and 160 columns wide", () => {
  it.live("the run id, owner and trigger lines fit the width, cut with …; --full shows every value whole", () =>
    Effect.gen(function*() {
      for (const columns of [80, 160]) {
        const [show, payload, full, fullPayload] = yield* Effect.all([
          drawn(`runs show ${LONG_RUN}`, columns),
          drawn(`runs show ${PAYLOAD_RUN}`, columns),
          drawn(`--full runs show ${LONG_RUN}`, columns),
          drawn(`--full runs show ${PAYLOAD_RUN}`, columns)
        ], { concurrency: 2 })

        const lines = fitting(show, columns, "runs show")
        const run = lineOf(lines, "run:")
        // 77 characters after the 12 of `run:` and its gap: cut at 80, whole at 160.
        if (columns === 80) assert.match(run, /^run:\s+r-long\S*…$/)
        else assert.match(run, new RegExp(`^run:\\s+${LONG_RUN}$`))
        assert.match(lineOf(lines, "owner:"), /^owner:\s+\S/)
        assert.match(lines.find((line) => line.includes(`"prompt": `)) ?? "", /^ {2}"prompt": "summarise every failing test.*…$/)
        assert.match(lineOf(lines, "workflow:"), /^workflow:\s+build$/)

        const payloadLines = fitting(payload, columns, "runs show (no trigger)")
        assert.match(lineOf(payloadLines, "  payload: "), /^ {2}payload: not json: the operator pasted .*…$/)

        // --full: the whole value on its line (the terminal wraps it; nothing is cut).
        assert.strictEqual(full?.code, 0, full?.output)
        assert.match(full?.output ?? "", new RegExp(`^run:\\s+${LONG_RUN}$`, "m"))
        assert.include(full?.output, `  "prompt": "${PROMPT}",\n`)
        assert.notInclude(full?.output, "…")
        assert.strictEqual(fullPayload?.code, 0, fullPayload?.output)
        assert.include(fullPayload?.output, `\n  payload: ${PAYLOAD_SHOWN}\n`)
      }
    }))

  it.live("piped (not a terminal, no $COLUMNS), every value is whole", () =>
    Effect.gen(function*() {
      const [show, payload] = yield* Effect.all([
        Effect.promise(() => sh(`${CLI} --data-dir '${dataDir}' runs show ${LONG_RUN} | cat`, { COLUMNS: "" })),
        Effect.promise(() => sh(`${CLI} --data-dir '${dataDir}' runs show ${PAYLOAD_RUN} | cat`, { COLUMNS: "" }))
      ])
      assert.strictEqual(show.code, 0, show.stderr)
      assert.match(show.stdout, new RegExp(`^run:\\s+${LONG_RUN}$`, "m"))
      assert.include(show.stdout, `  "prompt": "${PROMPT}",\n`)
      assert.notInclude(show.stdout, "…")
      assert.include(payload.stdout, `\n  payload: ${PAYLOAD_SHOWN}\n`)
    }))
})
