// Archive event-loop benchmark (issue 19 item 9): the worst event-loop delay of the process that
// archives, seen by a 20 ms interval timer in that same process, while LogArchive moves one UTC
// day of 500k rows (every other row a thread message of one of 100 runs) out of SQLite, as
// `examples/daemon.ts` does in-process. Printed beside a baseline: the same timer while the
// process does nothing but wait for the same time.
//
//   node --conditions=source bench/archive-stall.ts [batches] [--trace]
//
// `--trace` prints every SQLite statement that held the loop for 20 ms or more.
import { Effect } from "effect"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { DatabaseSync, StatementSync } from "node:sqlite"
import { NerveStoreLive } from "../layers/index.ts"
import { LogArchive } from "../src/LogArchive.ts"
import { LogStore } from "../src/LogStore.ts"

const DAY_START = Date.UTC(2024, 0, 9)
const BATCH = 10_000
const RUNS = 100

const args = process.argv.slice(2)
const batches = Number(args.find((a) => /^\d+$/.test(a)) ?? 50)
const trace = args.includes("--trace")
/** Statements are traced only while the archive runs. */
let tracing = false
/** Time spent in each statement (by its first characters) while tracing. */
const totals = new Map<string, number>()

if (trace) {
  const wrap = (proto: Record<string, unknown>, name: string, label: (self: unknown, args: Array<unknown>) => string) => {
    const original = proto[name] as (...a: Array<unknown>) => unknown
    proto[name] = function(this: unknown, ...a: Array<unknown>) {
      const start = performance.now()
      try {
        return original.apply(this, a)
      } finally {
        const ms = performance.now() - start
        if (tracing) {
          const key = label(this, a).replace(/\s+/g, " ").slice(0, 60)
          totals.set(key, (totals.get(key) ?? 0) + ms)
        }
        if (tracing && ms >= 20) process.stdout.write(`  ${ms.toFixed(0).padStart(6)} ms  ${label(this, a).replace(/\s+/g, " ").slice(0, 140)}\n`)
      }
    }
  }
  for (const m of ["run", "all", "get"]) wrap(StatementSync.prototype as never, m, (s) => (s as StatementSync).sourceSQL)
  wrap(DatabaseSync.prototype as never, "exec", (_s, a) => String(a[0]))
}

/** The worst gap beyond 20 ms between ticks of a 20 ms interval timer while `body` runs. */
const worstDelay = async <A>(body: () => Promise<A>) => {
  let last = performance.now()
  let worst = 0
  const timer = setInterval(() => {
    const now = performance.now()
    worst = Math.max(worst, now - last - 20)
    last = now
  }, 20)
  const start = performance.now()
  const result = await body()
  const end = performance.now()
  const ms = end - start
  clearInterval(timer)
  // A stall at the very end is seen by no tick: the body settles before the timer phase comes.
  worst = Math.max(worst, end - last - 20)
  return { result, ms, worst: Math.max(0, worst) }
}

const payload = (i: number) => JSON.stringify({ role: i % 4 === 1 ? "user" : "assistant", content: "x".repeat(110), timestamp: i })

const dir = mkdtempSync(join(tmpdir(), "nerve-archive-stall-"))
try {
  await Effect.runPromise(Effect.gen(function*() {
    const log = yield* LogStore
    const archive = yield* LogArchive
    for (let b = 0; b < batches; b++) {
      const rows = Array.from({ length: BATCH }, (_, k) => {
        const i = b * BATCH + k
        const timestamp = DAY_START + Math.floor((i * 86_000_000) / (batches * BATCH))
        return i % 2 === 1
          ? { source: "workflow", type: "thread_workflow_message", refId: `run-${i % RUNS}`, payload: payload(i).padEnd(150, " "), timestamp }
          : { source: "daemon", type: "tick", payload: `{"n":${i}}`, timestamp }
      })
      yield* log.appendMany(rows)
    }
    const idle = yield* Effect.promise(() => worstDelay(() => new Promise((resolve) => setTimeout(resolve, 1000))))
    tracing = true
    const run = yield* Effect.promise(() =>
      worstDelay(() => Effect.runPromise(archive.archive({ now: Date.UTC(2024, 0, 11), retentionMs: 86_400_000 })))
    )
    tracing = false
    for (const [key, ms] of [...totals].sort((a, b) => b[1] - a[1]).slice(0, 8)) {
      process.stdout.write(`  total ${ms.toFixed(0).padStart(6)} ms  ${key}\n`)
    }
    const rows = run.result.days.reduce((n, d) => n + d.rowCount, 0)
    process.stdout.write(
      `archive of ${rows} rows in ${(run.ms / 1000).toFixed(2)} s: worst event-loop delay ${run.worst.toFixed(0)} ms ` +
        `(baseline, idle for 1 s: ${idle.worst.toFixed(0)} ms)\n`
    )
  }).pipe(Effect.provide(NerveStoreLive({ dataDir: dir }))))
} finally {
  rmSync(dir, { recursive: true, force: true })
}
