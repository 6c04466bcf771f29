/**
 * `npm run bench -- pg`: the SPEC's PostgreSQL figures (§Performance). Each operation of the
 * LogStore on PostgreSQL is measured against raw `@effect/sql-pg` statements doing the same SQL on
 * the same server in the same run (interleaved rounds, best round of each kept):
 *
 * - `append` by 64 fibers at once (group commit) vs raw multi-row INSERTs of 64 rows;
 * - `transition` (a run created queued, leased) vs the same statements raw in one transaction;
 * - `query` of 100 rows by refId vs the raw SELECT (and, for information, vs the SELECT read as
 *   column values with the rows built unvalidated);
 * - `claimQueued` by 4 processes at once (every run claimed once, checked), throughput printed;
 * - `follow` latency between two processes (append → delivery), p50 and p99 printed.
 *
 * The server is `NERVE_BENCH_DATABASE_URL` when set, else a throwaway one started with
 * `scripts/pg-server.sh` (stopped and removed at the end); the figures use a fresh database on it.
 */
import { PgClient } from "@effect/sql-pg"
import { Context, Effect, Exit, Layer, Redacted, Scope } from "effect"
import * as Reactivity from "effect/reactivity/Reactivity"
import { execFileSync, spawn } from "node:child_process"
import { randomBytes } from "node:crypto"
import { join } from "node:path"
import { LogStorePg } from "../layers/index.ts"
import { LogStore } from "../src/LogStore.ts"
import { BatchObserver } from "../src/logstore/GroupCommit.ts"
import * as PgLogSql from "../src/pg/PgLogSql.ts"
import { note, quick, report } from "./_report.ts"

const SUITE = "pg"
const ROUNDS = quick ? 2 : 5
const FIBERS = 64
const APPEND_WAVES = quick ? 5 : 40
const TRANSITIONS = quick ? 50 : 500
const QUERIES = quick ? 50 : 1000
const CLAIM_RUNS = quick ? 200 : 4000
const FOLLOW_ROWS = quick ? 20 : 300

const withDatabase = (serverUrl: string, database: string) => {
  const url = new URL(serverUrl)
  url.pathname = `/${database}`
  return url.toString()
}

const onServer = (serverUrl: string, statement: string) =>
  Effect.gen(function*() {
    const sql = yield* PgClient.makeClient({ url: Redacted.make(withDatabase(serverUrl, "postgres")) })
    yield* sql.unsafe(statement)
  }).pipe(Effect.scoped, Effect.provide(Reactivity.layer), Effect.runPromise)

const timed = async (ops: number, body: () => Promise<unknown>) => {
  const start = performance.now()
  await body()
  return ops / ((performance.now() - start) / 1000)
}

/** Best of `ROUNDS` interleaved rounds of ours and the baseline (ops/s each). */
const compare = async (ours: () => Promise<number>, raw: () => Promise<number>) => {
  let best = { ours: 0, baseline: 0 }
  for (let round = 0; round < ROUNDS; round++) {
    best = { ours: Math.max(best.ours, await ours()), baseline: Math.max(best.baseline, await raw()) }
  }
  return best
}

type RawRow = { source: string; type: string; ref_id: string; payload: string; timestamp: number; thread_round: null }
/** One wave of the raw baseline: the rows 64 appends write. */
const rawRows = (): [RawRow, ...Array<RawRow>] => {
  const now = Date.now()
  const rows = Array.from({ length: FIBERS }, (_, i): RawRow => ({
    source: "bench", type: "append", ref_id: `ref-${i}`, payload: "{}", timestamp: now, thread_round: null
  }))
  return rows as [RawRow, ...Array<RawRow>]
}

const percentile = (sorted: ReadonlyArray<number>, p: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0

const bench = async (url: string) => {
  // One stack and one raw client on the same database, for the whole run.
  const layers = Layer.mergeAll(
    LogStorePg({ url, owner: "bench", maxConnections: 8 }),
    PgClient.layer({ url: Redacted.make(url), maxConnections: 8 })
  ).pipe(Layer.provide(Reactivity.layer))
  const scope = await Effect.runPromise(Scope.make())
  const context = await Effect.runPromise(Layer.buildWithScope(layers, scope))
  const runIn = <A, E>(effect: Effect.Effect<A, E, LogStore | PgClient.PgClient>) => Effect.runPromise(Effect.provide(effect, context))

  const log = Context.get(context, LogStore)
  const sql = Context.get(context, PgClient.PgClient)

  // append: 64 fibers appending one row each, in waves; raw: one INSERT of 64 rows per wave.
  const rows = FIBERS * APPEND_WAVES
  const sizes: Array<number> = []
  const append = await compare(
    () => timed(rows, () => runIn(Effect.forEach(Array.from({ length: APPEND_WAVES }), () =>
      Effect.forEach(Array.from({ length: FIBERS }, (_, i) => i), (i) =>
        log.append({ source: "bench", type: "append", refId: `ref-${i}`, payload: "{}" }), { concurrency: FIBERS, discard: true }), { discard: true }).pipe(
          Effect.provideService(BatchObserver, (size: number) => sizes.push(size))
        ))),
    () => timed(rows, () => runIn(Effect.forEach(Array.from({ length: APPEND_WAVES }), () =>
      sql`INSERT INTO logs ${sql.insert(rawRows())} RETURNING id`, { discard: true })))
  )
  report({ suite: SUITE, name: `append by ${FIBERS} fibers (group commit) vs raw multi-row INSERTs of ${FIBERS}`, ...append, unit: "rows/s", target: 0.8 })
  const bySize = new Map<number, number>()
  for (const size of sizes) bySize.set(size, (bySize.get(size) ?? 0) + 1)
  note(SUITE, "group commit batch sizes", `    batch sizes (size: batches): ${
    [...bySize].sort(([a], [b]) => b - a).map(([size, n]) => `${size}: ${n}`).join(", ")}; mean ${(rows * ROUNDS / sizes.length).toFixed(1)}`)

  // transition: a new run created queued (leased) vs the same statements raw in one transaction.
  let serial = 0
  const transition = await compare(
    () => timed(TRANSITIONS, () => runIn(Effect.forEach(Array.from({ length: TRANSITIONS }), () => {
      const runId = `ours-${serial++}`
      return log.transition({ source: "workflow", type: "queued", refId: runId }, { runId, workflow: "bench", status: "queued" })
    }, { discard: true }))),
    () => timed(TRANSITIONS, () => runIn(Effect.forEach(Array.from({ length: TRANSITIONS }), () => {
      const runId = `raw-${serial++}`
      const now = Date.now()
      return sql.withTransaction(Effect.gen(function*() {
        yield* sql.unsafe(PgLogSql.LOCK_RUN_ID, [runId])
        yield* sql.unsafe(PgLogSql.SELECT_RUN_FOR_UPDATE, [runId])
        yield* sql.unsafe(PgLogSql.SELECT_LEASE, [runId])
        yield* sql.unsafe(PgLogSql.writeTransition("Take"), [
          "workflow", "queued", runId, null, now, null, runId, "bench", "queued", now, null, null, "queued", now, null, "bench", "boot", now + 30_000
        ])
      }))
    }, { discard: true })))
  )
  report({ suite: SUITE, name: "transition vs the same statements raw in one transaction", ...transition, unit: "transitions/s", target: 0.7 })

  // query: 100 rows by refId (among the rows above) vs the raw SELECT: the repository's own statement
  // text (compiled once, outside the timing), rows as the driver returns them, not decoded.
  await runIn(log.appendMany(Array.from({ length: 100 }, () => ({ source: "bench", type: "query", refId: "query-ref", payload: "{}" }))))
  const select = PgLogSql.compileLogQuery({ refId: "query-ref" }, 100)
  const query = await compare(
    () => timed(QUERIES, () => runIn(Effect.forEach(Array.from({ length: QUERIES }), () => log.query({ refId: "query-ref", limit: 100 }), { discard: true }))),
    () => timed(QUERIES, () => runIn(Effect.forEach(Array.from({ length: QUERIES }), () => sql.unsafe(select.sql, select.params), { discard: true })))
  )
  report({ suite: SUITE, name: "query of 100 rows by refId vs raw SELECT", ...query, unit: "queries/s", target: 0.8 })
  // The same, against the cheapest raw read: column values (no object per row from the driver),
  // ids and timestamps made numbers and the row objects built, with no validation.
  const queryValues = await compare(
    () => timed(QUERIES, () => runIn(Effect.forEach(Array.from({ length: QUERIES }), () => log.query({ refId: "query-ref", limit: 100 }), { discard: true }))),
    () => timed(QUERIES, () => runIn(Effect.forEach(Array.from({ length: QUERIES }), () =>
      Effect.map(sql.unsafe(select.sql, select.params).values, (rows) =>
        rows.map(([id, source, type, refId, payload, timestamp]) => ({ id: Number(id), source, type, refId, payload, timestamp: Number(timestamp) }))), { discard: true })))
  )
  report({ suite: SUITE, name: "query of 100 rows vs raw SELECT read as values, rows built", ...queryValues, unit: "queries/s" })

  // claimQueued by 4 processes at once: every run claimed once.
  await runIn(Effect.forEach(Array.from({ length: CLAIM_RUNS }, (_, i) => `claim-${i}`), (runId) =>
    Effect.andThen(log.transition({ source: "workflow", type: "queued" }, { runId, workflow: "claim", status: "queued" }), log.releaseLease(runId)),
    { concurrency: 16, discard: true }))
  const claimers = Array.from({ length: 4 }, (_, i) => child(["claim", url, `claimer-${i}`, "10"]))
  await Promise.all(claimers.map((c) => c.line((l) => l === "ready")))
  const claimStart = performance.now()
  for (const c of claimers) c.process.stdin?.write("go\n")
  const claimed = (await Promise.all(claimers.map((c) => c.line((l) => l.startsWith("{"))))).map((l) => (JSON.parse(l) as { claimed: Array<string> }).claimed)
  const claimMs = performance.now() - claimStart
  const all = claimed.flat().filter((runId) => runId.startsWith("claim-"))
  if (all.length !== CLAIM_RUNS || new Set(all).size !== CLAIM_RUNS) {
    const twice = [...new Set(all)].filter((runId) => all.indexOf(runId) !== all.lastIndexOf(runId))
    const who = twice.slice(0, 5).map((runId) => `${runId} by ${claimed.flatMap((ids, i) => ids.includes(runId) ? [`claimer-${i}`] : []).join("+")}`)
    throw new Error(`claimQueued: ${all.length} claims of ${new Set(all).size} runs, expected ${CLAIM_RUNS} once each; twice: ${twice.length} (${who.join(", ")})`)
  }
  note(SUITE, "claimQueued", `  claimQueued by 4 processes at once: ${CLAIM_RUNS} runs claimed once each (checked) in ${Math.round(claimMs)} ms, ${
    Math.round(CLAIM_RUNS / (claimMs / 1000)).toLocaleString("en-US")} runs/s (per process: ${claimed.map((c) => c.length).join(", ")})`)

  // follow latency between two processes: one append at a time, the next after its delivery.
  const follower = child(["follow", url, "bench-follow"])
  const latencies: Array<number> = []
  let warm = false
  const deliveries: Array<(ms: number) => void> = []
  follower.onLine((l) => {
    if (!l.startsWith("{")) return
    const ms = (JSON.parse(l) as { latencyMs: number }).latencyMs
    warm = true
    deliveries.shift()?.(ms)
  })
  const sendOne = () => {
    const delivered = new Promise<number>((resolve) => deliveries.push(resolve))
    return runIn(log.append({ source: "bench-follow", type: "ping", payload: JSON.stringify({ sentAt: performance.timeOrigin + performance.now() }) })).then(() => delivered)
  }
  for (let i = 0; i < 600 && !warm; i++) {
    deliveries.length = 0
    void runIn(log.append({ source: "bench-follow", type: "warm", payload: JSON.stringify({ sentAt: 0 }) }))
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  deliveries.length = 0
  await new Promise((resolve) => setTimeout(resolve, 200))
  deliveries.length = 0
  for (let i = 0; i < FOLLOW_ROWS; i++) latencies.push(await sendOne())
  follower.process.kill("SIGKILL")
  for (const c of claimers) c.process.kill("SIGKILL")
  await Effect.runPromise(Scope.close(scope, Exit.void))
  const sorted = [...latencies].sort((a, b) => a - b)
  note(SUITE, "follow latency", `  follow latency between two processes (append → delivery, ${FOLLOW_ROWS} rows one at a time): p50 ${
    percentile(sorted, 0.5).toFixed(1)} ms, p99 ${percentile(sorted, 0.99).toFixed(1)} ms (target p50 < 20 ms)`)
}

interface Child {
  readonly process: ReturnType<typeof spawn>
  readonly line: (match: (line: string) => boolean) => Promise<string>
  readonly onLine: (listener: (line: string) => void) => void
}

const child = (args: ReadonlyArray<string>): Child => {
  const proc = spawn(process.execPath, ["--conditions=source", join(import.meta.dirname, "_pg-child.ts"), ...args], { stdio: ["pipe", "pipe", "inherit"] })
  const listeners: Array<(line: string) => void> = []
  let buffer = ""
  let failure: Error | undefined
  proc.on("error", (error) => (failure = error))
  proc.stdout?.on("data", (chunk: Buffer) => {
    buffer += chunk.toString()
    const lines = buffer.split("\n")
    buffer = lines.pop() ?? ""
    for (const l of lines) for (const listener of [...listeners]) listener(l)
  })
  return {
    process: proc,
    onLine: (listener) => listeners.push(listener),
    line: (match) =>
      new Promise((resolve, reject) => {
        if (failure !== undefined) return reject(failure)
        proc.once("error", reject)
        proc.once("exit", (code) => reject(new Error(`bench child ${args[0]} exited (${code})`)))
        listeners.push((l) => match(l) && resolve(l))
      })
  }
}

const external = process.env.NERVE_BENCH_DATABASE_URL
const root = join(import.meta.dirname, "..")
const [serverUrl = "", folder] = external !== undefined && external !== ""
  ? [external, undefined]
  : execFileSync(join(root, "scripts", "pg-server.sh"), ["start"], { encoding: "utf8" }).trim().split("\n")
const database = `nerve_bench_${randomBytes(6).toString("hex")}`
try {
  await onServer(serverUrl, `CREATE DATABASE ${database}`)
  console.log(`PostgreSQL figures (${quick ? "quick" : "full"} sizes; best of ${ROUNDS} interleaved rounds)`)
  await bench(withDatabase(serverUrl, database))
} catch (error) {
  console.error("bench/pg.ts failed:", error)
  process.exitCode = 1
} finally {
  await onServer(serverUrl, `DROP DATABASE IF EXISTS ${database} WITH (FORCE)`).catch(() => undefined)
  if (folder !== undefined) execFileSync(join(root, "scripts", "pg-server.sh"), ["stop", folder])
  process.exit(process.exitCode ?? 0)
}
