/**
 * `npm run bench`: runs every benchmark script in its own process (so RSS figures stay
 * independent), one after another, prints what each reports, and writes `bench/results.json`
 * (the figures, the date, Node and SQLite versions and the machine).
 *
 *   npm run bench                      every figure, full sizes
 *   npm run bench -- --quick           every figure, small sizes (under a minute; checks the suite runs)
 *   npm run bench -- logstore          only the scripts whose name contains "logstore"
 *   npm run bench -- --out FILE        write the results elsewhere
 */
import { spawnSync } from "node:child_process"
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { cpus, totalmem, tmpdir } from "node:os"
import { join } from "node:path"
import { DatabaseSync } from "node:sqlite"

const args = process.argv.slice(2)
const quick = args.includes("--quick")
const outIndex = args.indexOf("--out")
const outFile = outIndex >= 0 ? args[outIndex + 1] : join(import.meta.dirname, "results.json")
const filters = args.filter((arg, i) => !arg.startsWith("--") && (outIndex < 0 || i !== outIndex + 1))

/** Arguments that make a script small in quick mode (scripts not using `_report.ts` take their own). */
const quickArgs: Record<string, ReadonlyArray<string>> = { "archive.ts": ["20000"] }

const scripts = readdirSync(import.meta.dirname)
  .filter((name) => name.endsWith(".ts") && name !== "run.ts" && !name.startsWith("_"))
  .filter((name) => filters.length === 0 || filters.some((filter) => name.includes(filter)))
  .sort()

const sqliteVersion = (() => {
  const db = new DatabaseSync(":memory:")
  const version = String(db.prepare("SELECT sqlite_version() AS v").get()?.v)
  db.close()
  return version
})()

const work = mkdtempSync(join(tmpdir(), "nerve-bench-run-"))
const results: Array<Record<string, unknown>> = []
let failed = 0
try {
  for (const script of scripts) {
    console.log(`\n== bench/${script}`)
    const out = join(work, `${script}.jsonl`)
    writeFileSync(out, "")
    const started = performance.now()
    const result = spawnSync(
      process.execPath,
      ["--conditions=source", "--expose-gc", join(import.meta.dirname, script), ...(quick ? quickArgs[script] ?? ["--quick"] : [])],
      {
        stdio: ["ignore", "pipe", "inherit"],
        encoding: "utf8",
        env: { ...process.env, NERVE_BENCH_OUT: out, ...(quick ? { NERVE_BENCH_QUICK: "1" } : {}) },
        maxBuffer: 64 * 1024 * 1024
      }
    )
    process.stdout.write(result.stdout ?? "")
    const records = readFileSync(out, "utf8").split("\n").filter((line) => line !== "").map((line) => JSON.parse(line) as Record<string, unknown>)
    results.push({
      script,
      status: result.status,
      seconds: (performance.now() - started) / 1000,
      figures: records.filter((record) => "ours" in record),
      notes: records.filter((record) => "note" in record),
      // Scripts that print their own format: their lines as printed.
      output: records.length === 0 ? (result.stdout ?? "").split("\n").filter((line) => line.trim() !== "") : undefined
    })
    if (result.status !== 0) {
      failed++
      console.log(`bench/${script} exited with ${result.status ?? result.signal}`)
    }
  }
} finally {
  rmSync(work, { recursive: true, force: true })
}

const cpu = cpus()
if (outFile !== undefined) {
  writeFileSync(
    outFile,
    JSON.stringify(
      {
        date: new Date().toISOString(),
        mode: quick ? "quick" : "full",
        node: process.version,
        sqlite: sqliteVersion,
        machine: { cpu: cpu[0]?.model ?? "unknown", cores: cpu.length, memoryGiB: Math.round(totalmem() / 2 ** 30), platform: `${process.platform} ${process.arch}` },
        scripts: results
      },
      null,
      2
    ) + "\n"
  )
  console.log(`\nresults written to ${outFile}`)
}
process.exitCode = failed === 0 ? 0 : 1
