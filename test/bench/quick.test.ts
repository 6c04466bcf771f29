// The benchmark suite runs end to end in quick mode and reports every figure. Timings are never
// checked (they say nothing on a shared machine): only that each figure was measured and printed
// with ours, baseline and ratio, and recorded in results.json.
import { assert, describe, it } from "@effect/vitest"
import { spawn } from "node:child_process"
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { makeTempDir } from "../support/tempDir.ts"

const root = join(import.meta.dirname, "..", "..")

const runQuickSuite = (out: string): Promise<{ readonly code: number | null; readonly stdout: string; readonly stderr: string }> =>
  new Promise((resolve) => {
    const child = spawn(process.execPath, ["--conditions=source", "--expose-gc", join(root, "bench", "run.ts"), "--quick", "--out", out], {
      cwd: root,
      stdio: ["ignore", "pipe", "pipe"]
    })
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()))
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()))
    child.on("exit", (code) => resolve({ code, stdout, stderr }))
  })

const LOGSTORE_FIGURES = [
  "append (one at a time, autocommit)",
  "append (one at a time, autocommit), spans off",
  "appendMany (1000 rows per transaction)",
  "64 fibers appending at once (group commit)",
  "query of 100 rows by refId",
  "query of 100 rows vs raw SELECT returning arrays",
  "transition vs the same three statements",
  "threadRounds page of 50"
]
const PG_FIGURES = [
  "append by 64 fibers \\(group commit\\) vs raw multi-row INSERTs of 64",
  "transition vs the same statements raw in one transaction",
  "query of 100 rows by refId vs raw SELECT"
]
const GROWTH_OPS = ["append", "query", "transition", "threadRounds", "activeRuns", "runs"]
const NUMBER = String.raw`[\d,.]+`

interface Results {
  readonly mode: string
  readonly node: string
  readonly sqlite: string
  readonly machine: { readonly cpu: string; readonly cores: number }
  readonly scripts: ReadonlyArray<{
    readonly script: string
    readonly status: number | null
    readonly figures: ReadonlyArray<{ readonly name: string; readonly ours: number; readonly baseline: number; readonly ratio: number; readonly details?: Record<string, unknown> }>
    readonly notes: ReadonlyArray<{ readonly note: string; readonly text: string }>
    readonly output?: ReadonlyArray<string>
  }>
}

describe("npm run bench -- --quick", () => {
  it("runs every benchmark small, prints each figure with ours, baseline and ratio, and writes results.json", async () => {
    const out = join(makeTempDir(), "results.json")
    const { code, stderr, stdout } = await runQuickSuite(out)
    assert.strictEqual(code, 0, stderr)

    for (const name of LOGSTORE_FIGURES) {
      const line = stdout.split("\n").find((l) => l.trimStart().startsWith(name))
      assert.isDefined(line, `figure printed: ${name}`)
      assert.match(line!, new RegExp(`ours +${NUMBER} .* baseline +${NUMBER} .* ratio ${NUMBER}x`), name)
    }
    assert.match(stdout, /batch sizes \(size: batches\/rows\): .+; mean [\d.]+/)
    for (const op of GROWTH_OPS) {
      assert.match(stdout, new RegExp(`^  ${op} +${NUMBER} +${NUMBER} +${NUMBER}x$`, "m"), `growth row: ${op}`)
    }
    assert.match(stdout, /archive: export \+ delete/)
    assert.match(stdout, /4 KiB durable write .* ratio vs raw [\d.]+x/)
    assert.match(stdout, /4 KiB verified read .* ratio vs raw [\d.]+x/)
    for (const name of PG_FIGURES) {
      assert.match(stdout, new RegExp(`^  ${name} +ours +${NUMBER} .* baseline +${NUMBER} .* ratio ${NUMBER}x`, "m"), name)
    }
    assert.match(stdout, /claimQueued by 4 processes at once: \d+ runs claimed once each \(checked\) in \d+ ms, [\d,]+ runs\/s/)
    assert.match(stdout, /follow latency between two processes .*: p50 [\d.]+ ms, p99 [\d.]+ ms/)

    const results = JSON.parse(readFileSync(out, "utf8")) as Results
    assert.strictEqual(results.mode, "quick")
    assert.strictEqual(results.node, process.version)
    assert.match(results.sqlite, /^3\.\d+\.\d+$/)
    assert.isAbove(results.machine.cores, 0)
    for (const script of results.scripts) assert.strictEqual(script.status, 0, script.script)
    const logstore = results.scripts.find((script) => script.script === "logstore.ts")
    assert.isDefined(logstore)
    assert.deepStrictEqual(logstore!.figures.map((f) => LOGSTORE_FIGURES.some((name) => f.name.startsWith(name))), LOGSTORE_FIGURES.map(() => true))
    for (const figure of logstore!.figures) {
      assert.isAbove(figure.ours, 0, figure.name)
      assert.isAbove(figure.baseline, 0, figure.name)
      assert.closeTo(figure.ratio, figure.ours / figure.baseline, 1e-9)
    }
    const groupCommit = logstore!.figures.find((f) => f.name.startsWith("64 fibers"))
    assert.isDefined(groupCommit?.details?.batchSizes)
    assert.deepStrictEqual(logstore!.notes.map((n) => n.note).sort(), ["group commit batch sizes", "growth"])
    for (const other of ["archive.ts", "blobs.ts"]) {
      assert.isAbove(results.scripts.find((script) => script.script === other)?.output?.length ?? 0, 0, other)
    }
  }, 600_000) // a hang guard: every figure, small, took 128 s beside two CPU hogs
})
