// Archive benchmark: export + delete of one UTC day of 500k rows through LogArchive, beside a raw
// node:sqlite loop doing the same work (SELECT by day in id order, JSONL written in chunks to a
// temp file, fsync, rename, fsync folder, DELETE in one BEGIN IMMEDIATE transaction, WAL
// checkpoint), same schema and pragmas. Each side runs in its own child process on its own copy
// of the database, so the RSS figures are its own.
//
//   node --conditions=source bench/archive.ts [rows]
import { NodeServices } from "@effect/platform-node"
import { Effect, Layer } from "effect"
import { spawnSync } from "node:child_process"
import { closeSync, copyFileSync, fsyncSync, mkdirSync, mkdtempSync, openSync, renameSync, rmSync, writeSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { DatabaseSync } from "node:sqlite"
import { LogArchive } from "../src/LogArchive.ts"
import { SEEDED_DAY, seedDay } from "./_seed.ts"
import { DatabaseFile, LogArchiveFileSystem } from "../layers/index.ts"

const DAY = SEEDED_DAY
const NOW = Date.UTC(2024, 6, 1)
const TARGET_ROWS_PER_SECOND = 50_000

interface Measure {
  readonly rows: number
  readonly ms: number
  readonly rssBefore: number
  readonly rssPeak: number
}

const open = (filename: string) => {
  const db = new DatabaseSync(filename, { timeout: 10_000 })
  db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL")
  return db
}


const sampleRss = () => {
  let peak = process.memoryUsage().rss
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss)
  }, 5)
  return () => {
    clearInterval(timer)
    return Math.max(peak, process.memoryUsage().rss)
  }
}

const runRaw = (dir: string): Measure => {
  globalThis.gc?.()
  const rssBefore = process.memoryUsage().rss
  const start = performance.now()
  const db = open(join(dir, "nerve.db"))
  const archiveDir = join(dir, "archive", "logs")
  mkdirSync(archiveDir, { recursive: true })
  const temp = join(archiveDir, ".tmp.raw")
  const fd = openSync(temp, "wx")
  const select = db.prepare(
    "SELECT id, source, type, ref_id, payload, timestamp FROM logs WHERE timestamp >= ? AND timestamp < ? ORDER BY id"
  )
  let lines: Array<string> = []
  let rows = 0
  for (const row of select.iterate(DAY, DAY + 86_400_000)) {
    lines.push(JSON.stringify({ id: row.id, source: row.source, type: row.type, refId: row.ref_id, payload: row.payload, timestamp: row.timestamp }))
    rows++
    if (lines.length === 4096) {
      writeSync(fd, lines.join("\n") + "\n")
      lines = []
    }
  }
  if (lines.length > 0) writeSync(fd, lines.join("\n") + "\n")
  fsyncSync(fd)
  closeSync(fd)
  renameSync(temp, join(archiveDir, "2024-01-01.jsonl"))
  const dirFd = openSync(archiveDir, "r")
  fsyncSync(dirFd)
  closeSync(dirFd)
  db.exec("BEGIN IMMEDIATE")
  db.prepare("DELETE FROM logs WHERE timestamp >= ? AND timestamp < ?").run(DAY, DAY + 86_400_000)
  db.exec("COMMIT")
  db.exec("PRAGMA wal_checkpoint(TRUNCATE)")
  db.close()
  const ms = performance.now() - start
  return { rows, ms, rssBefore, rssPeak: Math.max(rssBefore, process.resourceUsage().maxRSS * 1024) }
}

const runArchive = async (dir: string): Promise<Measure> => {
  const stack = LogArchiveFileSystem(join(dir, "archive", "logs")).pipe(
    Layer.provide(DatabaseFile({ filename: join(dir, "nerve.db") })),
    Layer.provide(NodeServices.layer)
  )
  return Effect.runPromise(Effect.gen(function*() {
    const archive = yield* LogArchive
    globalThis.gc?.()
    const rssBefore = process.memoryUsage().rss
    const stop = sampleRss()
    const start = performance.now()
    const result = yield* archive.archive({ now: NOW })
    const ms = performance.now() - start
    const rssPeak = stop()
    return { rows: result.days.reduce((n, d) => n + d.rowCount, 0), ms, rssBefore, rssPeak }
  }).pipe(Effect.provide(stack)))
}

const child = async (variant: string, dir: string) => {
  const measure = variant === "raw" ? runRaw(dir) : await runArchive(dir)
  process.stdout.write(JSON.stringify(measure) + "\n")
}

const spawnVariant = (variant: string, dir: string): Measure => {
  const out = spawnSync(process.execPath, ["--conditions=source", "--expose-gc", import.meta.filename, "child", variant, dir], {
    encoding: "utf8"
  })
  if (out.status !== 0) throw new Error(`${variant} failed: ${out.stderr}`)
  return JSON.parse(out.stdout.trim().split("\n").pop() ?? "{}") as Measure
}

const mib = (bytes: number) => (bytes / 1048576).toFixed(1)
const report = (name: string, m: Measure) =>
  `${name.padEnd(11)} ${String(m.rows).padStart(7)} rows  ${(m.ms / 1000).toFixed(2).padStart(6)} s  ${
    Math.round(m.rows / (m.ms / 1000)).toLocaleString("en-US").padStart(9)
  } rows/s  rss ${mib(m.rssBefore)} MiB -> peak ${mib(m.rssPeak)} MiB (+${mib(m.rssPeak - m.rssBefore)})`

const main = async () => {
  const rows = Number(process.argv[2] ?? 500_000)
  const root = mkdtempSync(join(tmpdir(), "nerve-bench-archive-"))
  try {
    const seed = join(root, "seed")
    mkdirSync(seed)
    await seedDay(seed, rows)
    const results: Record<string, Measure> = {}
    for (const variant of ["raw", "logArchive"]) {
      const dir = join(root, variant)
      mkdirSync(dir)
      copyFileSync(join(seed, "nerve.db"), join(dir, "nerve.db"))
      results[variant] = spawnVariant(variant, dir)
    }
    const raw = results.raw
    const ours = results.logArchive
    if (raw === undefined || ours === undefined) return
    const oursRate = ours.rows / (ours.ms / 1000)
    const rawRate = raw.rows / (raw.ms / 1000)
    console.log(`archive: export + delete of one day of ${rows} rows (JSONL, fsync, rename, DELETE, WAL checkpoint)`)
    console.log(report("raw sqlite", raw))
    console.log(report("LogArchive", ours))
    console.log(
      `ratio ${(oursRate / rawRate).toFixed(2)}x raw; ${Math.round(oursRate).toLocaleString("en-US")} rows/s ` +
        `${oursRate >= TARGET_ROWS_PER_SECOND ? ">=" : "<"} target ${TARGET_ROWS_PER_SECOND.toLocaleString("en-US")} rows/s`
    )
  } finally {
    rmSync(root, { recursive: true, force: true })
  }
}

const [mode, variant = "", dir = ""] = process.argv.slice(2)
if (mode === "child") await child(variant, dir)
else await main()
