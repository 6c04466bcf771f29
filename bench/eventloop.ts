// Event-loop benchmark (issues 10 and 11): while another process archives a day of 500k rows and
// runs VACUUM on the same database, this process keeps appending (4 fibers, a daemon's pace) and
// measures the worst event-loop delay with `perf_hooks.monitorEventLoopDelay`. Printed beside a
// baseline: the same appends for the same time with no other process. A third line shows what
// node:sqlite's own busy timeout does to the loop (the raw driver, waiting inside the call).
//
//   node --conditions=source bench/eventloop.ts [rows] [--quick]
import { NodeServices } from "@effect/platform-node"
import { Effect, Fiber, Layer } from "effect"
import { spawn } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { DatabaseSync } from "node:sqlite"
import { monitorEventLoopDelay } from "node:perf_hooks"
import { LogArchive } from "../src/LogArchive.ts"
import { seedDay } from "./_seed.ts"
import { LogStore } from "../src/LogStore.ts"
import { DatabaseFile, LogArchiveFileSystem, LogStoreSqlite } from "../layers/index.ts"

const NOW = Date.UTC(2024, 6, 1)
const APPENDERS = 4

interface Figures {
  readonly label: string
  readonly seconds: number
  readonly appends: number
  readonly busy: number
  readonly maxMs: number
  readonly p99Ms: number
}

/** Child mode: archive `<dataDir>` with VACUUM, as a CLI or a second daemon would. */
const archiver = (dataDir: string) =>
  Effect.runPromise(Effect.gen(function*() {
    const archive = yield* LogArchive
    const result = yield* archive.archive({ now: NOW, vacuum: true })
    process.stdout.write(`archived ${result.days.reduce((n, day) => n + day.rowCount, 0)} rows, vacuum ${result.vacuumed}\n`)
  }).pipe(Effect.provide(LogArchiveFileSystem(join(dataDir, "archive", "logs")).pipe(
    Layer.provide(DatabaseFile({ filename: join(dataDir, "nerve.db") })),
    Layer.provide(NodeServices.layer)
  ))))


const runArchiver = (dataDir: string) =>
  new Promise<string>((resolve, reject) => {
    const child = spawn(process.execPath, ["--conditions=source", import.meta.filename, "archiver", dataDir], { stdio: ["ignore", "pipe", "inherit"] })
    let out = ""
    child.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()))
    child.on("exit", (code) => code === 0 ? resolve(out.trim()) : reject(new Error(`archiver exited ${code}`)))
  })

const measureLoop = <A>(body: () => Promise<A>) => async () => {
  const histogram = monitorEventLoopDelay({ resolution: 1 })
  histogram.enable()
  const start = performance.now()
  const result = await body()
  const seconds = (performance.now() - start) / 1000
  histogram.disable()
  return { result, seconds, maxMs: histogram.max / 1e6, p99Ms: histogram.percentile(99) / 1e6 }
}

/** Our appenders until `until` settles (or for `ms`). */
const appendWhile = (dataDir: string, until: Promise<unknown>) =>
  Effect.runPromise(Effect.gen(function*() {
    const log = yield* LogStore
    let appends = 0
    let busy = 0
    const worker = Effect.forever(Effect.gen(function*() {
      const outcome = yield* Effect.result(log.append({ source: "daemon", type: "tick", payload: "{}" }))
      if (outcome._tag === "Success") appends++
      else busy++
      yield* Effect.sleep("1 millis")
    }))
    const fibers = yield* Effect.forEach(Array.from({ length: APPENDERS }), () => Effect.forkChild(worker))
    yield* Effect.promise(() => until)
    yield* Fiber.interruptAll(fibers)
    return { appends, busy }
  }).pipe(Effect.provide(LogStoreSqlite().pipe(Layer.provide(DatabaseFile({ filename: join(dataDir, "nerve.db") }))))))

/** The raw driver as 0.6 used it: node:sqlite's busy timeout, which waits inside the call. */
const rawAppendWhile = async (dataDir: string, until: Promise<unknown>) => {
  const db = new DatabaseSync(join(dataDir, "nerve.db"), { timeout: 10_000 })
  db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL")
  const insert = db.prepare("INSERT INTO logs (source, type, ref_id, payload, timestamp) VALUES (?, ?, ?, ?, ?)")
  let done = false
  void until.then(() => (done = true))
  let appends = 0
  let busy = 0
  while (!done) {
    try {
      insert.run("daemon", "tick", null, "{}", Date.now())
      appends++
    } catch {
      busy++
    }
    await new Promise((resolve) => setTimeout(resolve, 1))
  }
  db.close()
  return { appends, busy }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

const main = async () => {
  const quick = process.argv.includes("--quick")
  const rows = Number(process.argv.slice(2).find((arg) => /^\d+$/.test(arg)) ?? (quick ? 20_000 : 500_000))
  const root = mkdtempSync(join(tmpdir(), "nerve-bench-eventloop-"))
  try {
    const figures: Array<Figures> = []
    const round = async (label: string, appender: typeof appendWhile, withArchiver: boolean, forMs = 0) => {
      const dataDir = mkdtempSync(join(root, "d-"))
      await seedDay(dataDir, rows)
      let note = ""
      const until = withArchiver ? runArchiver(dataDir).then((out) => (note = out)) : sleep(forMs)
      const measured = await measureLoop(() => appender(dataDir, until))()
      figures.push({ label: `${label}${note === "" ? "" : ` (${note})`}`, seconds: measured.seconds, ...measured.result, maxMs: measured.maxMs, p99Ms: measured.p99Ms })
      return measured.seconds
    }
    const contended = await round("ours, another process archives + VACUUMs", appendWhile, true)
    await round("ours, baseline (no other process)", appendWhile, false, contended * 1000)
    await round("raw node:sqlite busy timeout, same archive", rawAppendWhile, true)
    console.log(`event-loop delay while appending (${APPENDERS} appenders, ${rows} rows archived by another process)`)
    for (const f of figures) {
      console.log(
        `  ${f.label.padEnd(86)} worst ${f.maxMs.toFixed(1).padStart(8)} ms  p99 ${f.p99Ms.toFixed(1).padStart(6)} ms  ` +
          `${f.appends} appends (${f.busy} busy) in ${f.seconds.toFixed(1)} s`
      )
    }
    const [ours, baseline] = figures
    if (ours !== undefined && baseline !== undefined) {
      console.log(`  worst delay, contended ÷ baseline: ${(ours.maxMs / Math.max(baseline.maxMs, 0.001)).toFixed(2)}×`)
    }
  } finally {
    rmSync(root, { recursive: true, force: true })
  }
}

if (process.argv[2] === "archiver") await archiver(process.argv[3] ?? "")
else await main()
