/**
 * LogStore benchmarks: each figure is ours ÷ a raw node:sqlite baseline on the same schema and
 * pragmas (WAL, synchronous=NORMAL, a file in a temp folder), measured side by side in this
 * process, alternating rounds, best round of each kept.
 *
 *   npm run bench            (all benchmarks)
 *   node --conditions=source bench/logstore.ts
 */
import { Context, Effect, Layer, References } from "effect"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { DatabaseSync } from "node:sqlite"
import { LogStoreFile } from "../layers/index.ts"
import { LogStore } from "../src/LogStore.ts"
import { migrate } from "../src/sqlite/Migrations.ts"
import { make as makeSqlite } from "../src/sqlite/Sqlite.ts"

const ROUNDS = 5
const dir = mkdtempSync(join(tmpdir(), "nerve-bench-logstore-"))
let files = 0
const freshFile = () => join(dir, `db-${files++}.sqlite`)

const openRaw = (filename: string) => {
  const db = new DatabaseSync(filename, { timeout: 10_000 })
  db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL")
  return db
}

// The raw baseline uses exactly our schema: create it with our migrations first.
const prepareFile = (filename: string) =>
  Effect.runPromise(Effect.scoped(Effect.flatMap(makeSqlite({ filename }), migrate)))

interface Figure {
  readonly name: string
  readonly ours: number
  readonly raw: number
  readonly unit: string
  readonly target: number
}

const opsPerSecond = (ops: number, ms: number) => (ops * 1000) / ms

/** Runs `ours` and `raw` alternately ROUNDS times; each returns ops done and ms taken. */
const sideBySide = async (
  name: string,
  target: number,
  ours: () => Promise<{ ops: number; ms: number }>,
  raw: () => Promise<{ ops: number; ms: number }>
): Promise<Figure> => {
  let bestOurs = 0
  let bestRaw = 0
  for (let round = 0; round < ROUNDS; round++) {
    const r = await raw()
    const o = await ours()
    bestRaw = Math.max(bestRaw, opsPerSecond(r.ops, r.ms))
    bestOurs = Math.max(bestOurs, opsPerSecond(o.ops, o.ms))
  }
  return { name, ours: bestOurs, raw: bestRaw, unit: "rows/s", target }
}

const time = async (ops: number, body: () => Promise<void> | void) => {
  const start = performance.now()
  await body()
  return { ops, ms: performance.now() - start }
}

/** Runs `body` against a LogStore on a fresh file; the layer is built outside the timed part. */
const withStore = async (
  filename: string,
  body: (log: LogStore["Service"]) => Effect.Effect<{ ops: number; ms: number }, unknown>,
  tracing = true
) =>
  Effect.runPromise(Effect.scoped(Effect.gen(function*() {
    const context = yield* Layer.build(LogStoreFile({ filename }))
    return yield* body(Context.get(context, LogStore))
  })).pipe(Effect.provideService(References.TracerEnabled, tracing)))

const entry = (i: number) => ({ source: "bench", type: "tick", refId: `run-${i % 50}`, payload: `{"i":${i}}`, timestamp: 1_700_000_000_000 + i })
const INSERT = "INSERT INTO logs (source, type, ref_id, payload, timestamp) VALUES (?, ?, ?, ?, ?)"

/** The raw baseline of batched writes: `total` rows in transactions of `batch` on a fresh file. */
const rawBatches = async (total: number, batch: number) => {
  const filename = freshFile()
  await prepareFile(filename)
  const db = openRaw(filename)
  const insert = db.prepare(INSERT)
  const result = await time(total, () => {
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

const appendSingle = async (tracing: boolean): Promise<Figure> => {
  const N = 5_000
  return sideBySide(
    `append (one at a time, autocommit)${tracing ? "" : ", spans off (TracerEnabled=false)"}`,
    0.85,
    async () => {
      const filename = freshFile()
      return withStore(filename, (log) =>
        Effect.gen(function*() {
          const start = performance.now()
          for (let i = 0; i < N; i++) yield* log.append(entry(i))
          return { ops: N, ms: performance.now() - start }
        }), tracing)
    },
    async () => {
      const filename = freshFile()
      await prepareFile(filename)
      const db = openRaw(filename)
      const insert = db.prepare(INSERT)
      const result = await time(N, () => {
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

const appendBatch = async (): Promise<Figure> => {
  const N = 50_000
  const BATCH = 1_000
  return sideBySide(
    `appendMany (${BATCH} rows per transaction)`,
    0.8,
    async () => {
      const filename = freshFile()
      const batches = Array.from({ length: N / BATCH }, (_, b) => Array.from({ length: BATCH }, (_, i) => entry(b * BATCH + i)))
      return withStore(filename, (log) =>
        Effect.gen(function*() {
          const start = performance.now()
          for (const batch of batches) yield* log.appendMany(batch)
          return { ops: N, ms: performance.now() - start }
        }))
    },
    () => rawBatches(N, BATCH)
  )
}

const groupCommit = async (): Promise<Figure> => {
  const FIBERS = 64
  const WAVES = 300
  return sideBySide(
    `${FIBERS} fibers appending at once (group commit) vs raw batches of ${FIBERS}`,
    0.5,
    async () => {
      const filename = freshFile()
      return withStore(filename, (log) =>
        Effect.gen(function*() {
          const start = performance.now()
          for (let w = 0; w < WAVES; w++) {
            yield* Effect.forEach(
              Array.from({ length: FIBERS }, (_, i) => w * FIBERS + i),
              (i) => log.append(entry(i)),
              { concurrency: "unbounded", discard: true }
            )
          }
          return { ops: FIBERS * WAVES, ms: performance.now() - start }
        }))
    },
    () => rawBatches(FIBERS * WAVES, FIBERS)
  )
}

const queryByRef = async (): Promise<Figure> => {
  const filename = freshFile()
  await prepareFile(filename)
  const seed = openRaw(filename)
  const insert = seed.prepare(INSERT)
  seed.exec("BEGIN")
  for (let i = 0; i < 50 * 2_000; i++) {
    const e = entry(i)
    insert.run(e.source, e.type, e.refId, e.payload, e.timestamp)
  }
  seed.exec("COMMIT")
  seed.close()
  const QUERIES = 2_000
  const figure = await sideBySide(
    "query of 100 rows by refId (decoded) vs raw prepared SELECT",
    0.8,
    async () =>
      withStore(filename, (log) =>
        Effect.gen(function*() {
          const start = performance.now()
          for (let q = 0; q < QUERIES; q++) yield* log.query({ refId: `run-${q % 50}`, limit: 100 })
          return { ops: QUERIES * 100, ms: performance.now() - start }
        })),
    async () => {
      const db = openRaw(filename)
      const select = db.prepare(
        "SELECT id, source, type, ref_id AS refId, payload, timestamp FROM logs WHERE ref_id = ? ORDER BY id ASC LIMIT ?"
      )
      const result = await time(QUERIES * 100, () => {
        for (let q = 0; q < QUERIES; q++) select.all(`run-${q % 50}`, 100)
      })
      db.close()
      return result
    }
  )
  return figure
}

const format = (n: number) => Math.round(n).toLocaleString("en-US")

export const run = async (): Promise<ReadonlyArray<Figure>> => {
  const figures = [await appendSingle(true), await appendSingle(false), await appendBatch(), await groupCommit(), await queryByRef()]
  rmSync(dir, { recursive: true, force: true })
  return figures
}

if (import.meta.main) {
  console.log("LogStore (best of %d alternating rounds; ratio = ours / raw)", ROUNDS)
  for (const f of await run()) {
    const ratio = f.ours / f.raw
    console.log(
      `  ${f.name.padEnd(66)} ours ${format(f.ours).padStart(10)} ${f.unit}  raw ${format(f.raw).padStart(10)} ${f.unit}  ratio ${
        ratio.toFixed(2)
      }x  (target >= ${f.target}x) ${ratio >= f.target ? "ok" : "MISS"}`
    )
  }
}
