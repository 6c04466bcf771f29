/**
 * LogStore benchmarks: each figure is ours ÷ a raw node:sqlite baseline on the same schema and
 * pragmas (WAL, synchronous=NORMAL, a file in a temp folder), measured side by side in this
 * process, alternating rounds, best round of each kept. Then the growth table: the cost of each
 * operation with 10k, 100k (and, in full mode, 1M) rows already stored.
 *
 *   npm run bench -- logstore            (full)
 *   npm run bench -- --quick logstore    (small sizes: checks that every figure runs)
 */
import { Context, Effect, Layer, References } from "effect"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { DatabaseSync } from "node:sqlite"
import { LogStoreFile } from "../layers/index.ts"
import type { LogStore } from "../src/LogStore.ts"
import { LogStore as LogStoreTag } from "../src/LogStore.ts"
import { BatchObserver } from "../src/logstore/GroupCommit.ts"
import * as ThreadRoundCounts from "../src/sqlite/ThreadRoundCounts.ts"
import { migrate } from "../src/sqlite/Migrations.ts"
import { make as makeSqlite } from "../src/sqlite/Sqlite.ts"
import { type Figure, note, quick, report } from "./_report.ts"

const SUITE = "logstore"
const ROUNDS = quick ? 1 : 5
const scale = (full: number, small: number) => (quick ? small : full)
const dir = mkdtempSync(join(tmpdir(), "nerve-bench-logstore-"))
let files = 0
const freshFile = () => join(dir, `db-${files++}.sqlite`)

type Timing = { readonly ops: number; readonly ms: number }

const openRaw = (filename: string) => {
  const db = new DatabaseSync(filename, { timeout: 10_000 })
  db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL")
  return db
}

// The raw baseline uses exactly our schema: create it with our migrations first.
const prepareFile = (filename: string) => Effect.runPromise(Effect.scoped(Effect.flatMap(makeSqlite({ filename }), migrate)))

const perSecond = ({ ms, ops }: Timing) => (ops * 1000) / ms

/** Runs `raw` and `ours` alternately ROUNDS times; keeps the best rate of each. */
const sideBySide = async (
  figure: Omit<Figure, "suite" | "ours" | "baseline" | "unit"> & { readonly unit?: string },
  ours: () => Promise<Timing>,
  raw: () => Promise<Timing>
): Promise<Figure> => {
  let bestOurs = 0
  let bestRaw = 0
  for (let round = 0; round < ROUNDS; round++) {
    bestRaw = Math.max(bestRaw, perSecond(await raw()))
    bestOurs = Math.max(bestOurs, perSecond(await ours()))
  }
  return { suite: SUITE, unit: "rows/s", ...figure, ours: bestOurs, baseline: bestRaw }
}

const time = (ops: number, body: () => void): Timing => {
  const start = performance.now()
  body()
  return { ops, ms: performance.now() - start }
}

const timed = <E>(ops: number, body: Effect.Effect<unknown, E>) =>
  Effect.gen(function*() {
    const start = performance.now()
    yield* body
    return { ops, ms: performance.now() - start }
  })

/** Runs `body` against a LogStore on `filename`; the layer is built outside the timed part. */
const withStore = <A>(filename: string, body: (log: LogStore["Service"]) => Effect.Effect<A, unknown>, tracing = true) =>
  Effect.runPromise(Effect.scoped(Effect.gen(function*() {
    const context = yield* Layer.build(LogStoreFile({ filename }))
    return yield* body(Context.get(context, LogStoreTag))
  })).pipe(Effect.provideService(References.TracerEnabled, tracing)))

const entry = (i: number) => ({ source: "bench", type: "tick", refId: `run-${i % 50}`, payload: `{"i":${i}}`, timestamp: 1_700_000_000_000 + i })
const INSERT = "INSERT INTO logs (source, type, ref_id, payload, timestamp) VALUES (?, ?, ?, ?, ?)"

/** The raw baseline of batched writes: `total` rows in transactions of `batch` on a fresh file. */
const rawBatches = async (total: number, batch: number): Promise<Timing> => {
  const filename = freshFile()
  await prepareFile(filename)
  const db = openRaw(filename)
  const insert = db.prepare(INSERT)
  const result = time(total, () => {
    for (let b = 0; b < total / batch; b++) {
      db.exec("BEGIN IMMEDIATE")
      for (let i = 0; i < batch; i++) {
        const e = entry(b * batch + i)
        insert.run(e.source, e.type, e.refId, e.payload, e.timestamp)
      }
      db.exec("COMMIT")
    }
  })
  db.close()
  return result
}

const appendSingle = (tracing: boolean) => {
  const N = scale(5_000, 500)
  return sideBySide(
    {
      name: `append (one at a time, autocommit)${tracing ? "" : ", spans off (TracerEnabled=false)"}`,
      target: tracing ? 0.85 : undefined
    },
    () => withStore(freshFile(), (log) => timed(N, Effect.gen(function*() {
      for (let i = 0; i < N; i++) yield* log.append(entry(i))
    })), tracing),
    async () => {
      const filename = freshFile()
      await prepareFile(filename)
      const db = openRaw(filename)
      const insert = db.prepare(INSERT)
      const result = time(N, () => {
        for (let i = 0; i < N; i++) {
          const e = entry(i)
          insert.run(e.source, e.type, e.refId, e.payload, e.timestamp)
        }
      })
      db.close()
      return result
    }
  )
}

const appendBatch = () => {
  const BATCH = 1_000
  const N = scale(50_000, 5_000)
  const batches = Array.from({ length: N / BATCH }, (_, b) => Array.from({ length: BATCH }, (_, i) => entry(b * BATCH + i)))
  return sideBySide(
    { name: `appendMany (${BATCH} rows per transaction)`, target: 0.8 },
    () => withStore(freshFile(), (log) => timed(N, Effect.forEach(batches, (batch) => log.appendMany(batch), { discard: true }))),
    () => rawBatches(N, BATCH)
  )
}

/** A histogram of batch sizes: `size range → batches (rows)`. */
const distribution = (sizes: ReadonlyArray<number>): Record<string, { batches: number; rows: number }> => {
  const buckets: Array<[string, number, number]> = [["1", 1, 1], ["2-7", 2, 7], ["8-31", 8, 31], ["32-63", 32, 63], ["64", 64, 64], [">64", 65, Infinity]]
  const out: Record<string, { batches: number; rows: number }> = {}
  for (const [label, lo, hi] of buckets) {
    const inside = sizes.filter((size) => size >= lo && size <= hi)
    if (inside.length > 0) out[label] = { batches: inside.length, rows: inside.reduce((a, b) => a + b, 0) }
  }
  return out
}

const groupCommit = async () => {
  const FIBERS = 64
  const WAVES = scale(300, 30)
  let sizes: Array<number> = []
  const figure = await sideBySide(
    { name: `${FIBERS} fibers appending at once (group commit) vs raw batches of ${FIBERS}`, target: 0.5 },
    () => {
      sizes = []
      return withStore(freshFile(), (log) =>
        timed(
          FIBERS * WAVES,
          Effect.gen(function*() {
            for (let w = 0; w < WAVES; w++) {
              yield* Effect.forEach(
                Array.from({ length: FIBERS }, (_, i) => w * FIBERS + i),
                (i) => log.append(entry(i)),
                { concurrency: "unbounded", discard: true }
              )
            }
          })
        ).pipe(Effect.provideService(BatchObserver, (size: number) => sizes.push(size))))
    },
    () => rawBatches(FIBERS * WAVES, FIBERS)
  )
  const histogram = distribution(sizes)
  return {
    ...figure,
    details: { batchSizes: histogram, batches: sizes.length, meanBatch: sizes.reduce((a, b) => a + b, 0) / Math.max(1, sizes.length) }
  }
}

/** A file holding `rows` log rows over 50 refs (raw inserts, one transaction). */
const seededFile = async (rows: number) => {
  const filename = freshFile()
  await prepareFile(filename)
  const seed = openRaw(filename)
  const insert = seed.prepare(INSERT)
  seed.exec("BEGIN")
  for (let i = 0; i < rows; i++) {
    const e = entry(i)
    insert.run(e.source, e.type, e.refId, e.payload, e.timestamp)
  }
  seed.exec("COMMIT")
  seed.close()
  return filename
}

const QUERY_SQL = "SELECT id, source, type, ref_id AS refId, payload, timestamp FROM logs WHERE ref_id = ? ORDER BY id ASC LIMIT ?"

/**
 * `query` of 100 rows against a raw prepared SELECT. `arrays` makes the baseline ask node:sqlite
 * for rows as arrays (`setReturnArrays`), as the store does, and build the same row objects: an
 * information line, since the SPEC's baseline is the plain SELECT returning objects.
 */
const queryByRef = async (arrays: boolean) => {
  const filename = await seededFile(50 * 2_000)
  const QUERIES = scale(2_000, 200)
  return sideBySide(
    arrays
      ? { name: "query of 100 rows vs raw SELECT returning arrays, rows built", target: undefined }
      : { name: "query of 100 rows by refId (decoded) vs raw prepared SELECT", target: 0.8 },
    () => withStore(filename, (log) => timed(QUERIES * 100, Effect.gen(function*() {
      for (let q = 0; q < QUERIES; q++) yield* log.query({ refId: `run-${q % 50}`, limit: 100 })
    }))),
    async () => {
      const db = openRaw(filename)
      const select = db.prepare(QUERY_SQL)
      if (arrays) select.setReturnArrays(true)
      let built: ReadonlyArray<unknown> = []
      const result = time(QUERIES * 100, () => {
        for (let q = 0; q < QUERIES; q++) {
          const rows = select.all(`run-${q % 50}`, 100)
          if (arrays) {
            built = (rows as unknown as ReadonlyArray<ReadonlyArray<unknown>>).map((row) => ({
              id: row[0], source: row[1], type: row[2], refId: row[3], payload: row[4], timestamp: row[5]
            }))
          }
        }
      })
      db.close()
      if (built.length === 0 && arrays) throw new Error("no rows built")
      return result
    }
  )
}

const UPSERT_RUN = `INSERT INTO workflow_runs (run_id, workflow, status, timestamp, exit_code) VALUES (?, ?, ?, ?, ?)
  ON CONFLICT(run_id) DO UPDATE SET status = excluded.status, timestamp = excluded.timestamp, exit_code = excluded.exit_code`
const INSERT_TRANSITION =
  "INSERT INTO run_transitions (run_id, from_status, to_status, timestamp, exit_code, log_id) VALUES (?, ?, ?, ?, ?, ?)"

/** Each run is created `started`, then moved to `completed`: two transitions per run. */
const transitionStep = (i: number) => {
  const run = `run-${i >> 1}`
  const status = i % 2 === 0 ? "started" as const : "completed" as const
  return {
    entry: { source: "workflow", type: status, refId: run, payload: "{}", timestamp: 1_700_000_000_000 + i },
    run: { runId: run, workflow: "bench", status, exitCode: status === "completed" ? 0 : null }
  }
}

const transitionFigure = () => {
  const N = scale(4_000, 400)
  return sideBySide(
    { name: "transition vs the same three statements in one raw transaction", target: 0.7, unit: "transitions/s" },
    () => withStore(freshFile(), (log) => timed(N, Effect.gen(function*() {
      for (let i = 0; i < N; i++) {
        const step = transitionStep(i)
        yield* log.transition(step.entry, step.run)
      }
    }))),
    async () => {
      const filename = freshFile()
      await prepareFile(filename)
      const db = openRaw(filename)
      const insert = db.prepare(INSERT)
      const upsert = db.prepare(UPSERT_RUN)
      const record = db.prepare(INSERT_TRANSITION)
      const result = time(N, () => {
        for (let i = 0; i < N; i++) {
          const { entry: e, run } = transitionStep(i)
          db.exec("BEGIN IMMEDIATE")
          const logId = insert.run(e.source, e.type, e.refId, e.payload, e.timestamp).lastInsertRowid
          upsert.run(run.runId, run.workflow, run.status, e.timestamp, run.exitCode)
          record.run(run.runId, i % 2 === 0 ? null : "started", run.status, e.timestamp, run.exitCode, logId)
          db.exec("COMMIT")
        }
      })
      db.close()
      return result
    }
  )
}

const threadMessage = (i: number) => ({
  source: "workflow",
  type: "thread_workflow_message",
  payload: JSON.stringify({ role: i % 2 === 0 ? "user" : "assistant", content: `message ${i} `.repeat(8), timestamp: i })
})

/** Pages of 50 from a run with 10,000 rounds against pages from a run with 100 (same file). */
const threadRoundsFigure = async () => {
  const filename = freshFile()
  const BIG = scale(10_000, 2_000)
  const PAGES = scale(400, 40)
  await withStore(filename, (log) =>
    Effect.gen(function*() {
      for (let start = 0; start < BIG; start += 1_000) {
        yield* log.appendMany(Array.from({ length: Math.min(1_000, BIG - start) }, (_, i) => ({ ...threadMessage(start + i), refId: "big" })))
      }
      yield* log.appendMany(Array.from({ length: 100 }, (_, i) => ({ ...threadMessage(i), refId: "small" })))
    }))
  const pages = (runId: string) => () =>
    withStore(filename, (log) => timed(PAGES, Effect.gen(function*() {
      for (let p = 0; p < PAGES; p++) yield* log.threadRounds(runId, { before: 0, limit: 50 })
    })))
  return sideBySide(
    { name: `threadRounds page of 50: run of ${BIG.toLocaleString("en-US")} rounds vs run of 100 (within 2x)`, target: 0.5, unit: "pages/s" },
    pages("big"),
    pages("small")
  )
}

// ---------------------------------------------------------------------------------------------
// Growth: the cost of each operation as the store grows.

const GROWTH_OPS = ["append", "query", "transition", "threadRounds", "activeRuns", "runs"] as const
type GrowthOp = typeof GROWTH_OPS[number]

/**
 * Seeds `rows` log rows the way a daemon writes them: runs of 20 rows (a `started` row, thread
 * messages, a final row), one `workflow_runs` row per run, most runs finished, 20 still active.
 * Written raw, so the runs' round counts are recounted after (as `db upgrade` does).
 */
const seedGrowth = async (rows: number) => {
  const filename = freshFile()
  await prepareFile(filename)
  const db = openRaw(filename)
  const insert = db.prepare(INSERT)
  const upsert = db.prepare(UPSERT_RUN)
  const runs = Math.ceil(rows / 20)
  db.exec("BEGIN")
  for (let r = 0; r < runs; r++) {
    const runId = `g-${r}`
    const base = 1_600_000_000_000 + r * 20
    insert.run("workflow", "started", runId, JSON.stringify({ prompt: "p", maxRounds: 9 }), base)
    for (let m = 1; m < 19; m++) {
      const e = threadMessage(m)
      insert.run(e.source, e.type, runId, e.payload, base + m)
    }
    const active = r >= runs - 20
    insert.run("workflow", active ? "note" : "completed", runId, "{}", base + 19)
    upsert.run(runId, `wf-${r % 10}`, active ? "started" : "completed", base + 19, active ? null : 0)
  }
  db.exec("COMMIT")
  db.close()
  await Effect.runPromise(Effect.scoped(Effect.flatMap(makeSqlite({ filename }), ThreadRoundCounts.rebuild)))
  return { filename, runs }
}

const growthOp = (log: LogStore["Service"], op: GrowthOp, i: number, runs: number): Effect.Effect<unknown, unknown> => {
  const runId = `g-${(i * 7919) % runs}`
  switch (op) {
    case "append":
      return log.append(entry(i))
    case "query":
      return log.query({ refId: runId, limit: 100 })
    case "transition": {
      const step = transitionStep(i)
      return log.transition({ ...step.entry, refId: `t-${step.run.runId}` }, { ...step.run, runId: `t-${step.run.runId}` })
    }
    case "threadRounds":
      return log.threadRounds(runId, { before: 0, limit: 50 })
    case "activeRuns":
      return log.activeRuns()
    case "runs":
      return log.runs({ limit: 50 })
  }
}

const growth = async () => {
  const sizes = quick ? [10_000, 100_000] : [10_000, 100_000, 1_000_000]
  const OPS = scale(1_000, 100)
  const table: Record<string, Record<string, number>> = {}
  for (const size of sizes) {
    const { filename, runs } = await seedGrowth(size)
    for (const op of GROWTH_OPS) {
      let best = Infinity
      for (let round = 0; round < Math.min(ROUNDS, 3); round++) {
        const t = await withStore(filename, (log) =>
          timed(OPS, Effect.gen(function*() {
            for (let i = 0; i < OPS; i++) yield* growthOp(log, op, round * OPS + i, runs)
          })))
        best = Math.min(best, (t.ms * 1000) / t.ops)
      }
      ;(table[op] ??= {})[String(size)] = best
    }
    rmSync(filename, { force: true })
  }
  const header = `  ${"µs per call (best)".padEnd(16)}${sizes.map((s) => `${s.toLocaleString("en-US")} rows`.padStart(16)).join("")}   last ÷ first`
  const lines = GROWTH_OPS.map((op) => {
    const row = sizes.map((s) => table[op]![String(s)]!)
    return `  ${op.padEnd(16)}${row.map((v) => v.toFixed(1).padStart(16)).join("")}   ${(row[row.length - 1]! / row[0]!).toFixed(2)}x`
  })
  note(SUITE, "growth", ["Growth (µs per call with N rows already stored; flat = served by an index)", header, ...lines].join("\n"))
  return table
}

if (import.meta.main) {
  console.log("LogStore (best of %d alternating rounds; ratio = ours / baseline)%s", ROUNDS, quick ? " [quick: small sizes]" : "")
  try {
    const figures = [
      () => appendSingle(true),
      () => appendSingle(false),
      appendBatch,
      groupCommit,
      () => queryByRef(false),
      () => queryByRef(true),
      transitionFigure,
      threadRoundsFigure
    ]
    for (const figure of figures) {
      const f = await figure()
      report(f)
      const batchSizes = f.details?.batchSizes
      if (batchSizes !== undefined) {
        note(SUITE, "group commit batch sizes", `    batch sizes (size: batches/rows): ${
          Object.entries(batchSizes as Record<string, { batches: number; rows: number }>).map(([k, v]) => `${k}: ${v.batches}/${v.rows}`).join(", ")
        }; mean ${(f.details?.meanBatch as number).toFixed(1)}`)
      }
    }
    await growth()
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
