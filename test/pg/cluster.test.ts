// Several daemon processes on one PostgreSQL database (issue 17): four children with different
// owner names claim queued runs (`claimQueued`) and move them started → completed, while this test
// SIGKILLs some of them at random points and starts replacements under new names. Checked from
// the database's history (run_transitions joined to the log rows, whose `source` names the mover):
// every acknowledged write is there, no run was moved by two live owners, a run was taken from
// another owner only when that owner had been killed, and every killed owner's runs were recovered
// (crashed by another daemon once its lease expired, queued again, completed) — no timing asserted.
import { assert, describe, it } from "@effect/vitest"
import { Effect, Redacted } from "effect"
import type { ChildProcess } from "node:child_process"
import { LogStorePg } from "../../layers/index.ts"
import { LogStore } from "../../src/LogStore.ts"
import * as PgDatabase from "../../src/pg/PgDatabase.ts"
import { spawnFixture } from "../support/child.ts"
import { freshPgDatabase } from "../support/pgDatabase.ts"

const database = freshPgDatabase()

const RUNS = 48
const DAEMONS = 4
const KILLS = 4

interface Ack {
  readonly ack?: string
  readonly refused?: string
  readonly runId?: string
  readonly owner?: string
}

interface Daemon {
  readonly owner: string
  readonly child: ChildProcess
  killed: boolean
}

interface HistoryRow {
  readonly run_id: string
  readonly from_status: string | null
  readonly to_status: string
  readonly source: string
}

const readHistory = () => Effect.scoped(Effect.gen(function*() {
  const { sql } = yield* PgDatabase.make({ url: database.url(), maxConnections: 1 })
  return yield* sql<HistoryRow>`SELECT t.run_id, t.from_status, t.to_status, l.source
    FROM run_transitions t JOIN logs l ON l.id = t.log_id ORDER BY t.id`
})).pipe(Effect.provide(PgDatabase.layerReactivity))

const seedQueuedRuns = () => LogStore.use((log) =>
  Effect.forEach(Array.from({ length: RUNS }, (_, i) => `run-${String(i).padStart(3, "0")}`), (runId) =>
    Effect.andThen(
      log.transition({ source: "seed", type: "queued" }, { runId, workflow: "build", status: "queued" }),
      log.releaseLease(runId)
    ), { discard: true })
).pipe(Effect.provide(LogStorePg({ url: database.url(), owner: "seed", maxConnections: 4 })))

const countCompleted = () => LogStore.use((log) => Effect.map(log.countRuns({ status: "completed" }), (counts) => counts.completed))
  .pipe(Effect.provide(LogStorePg({ url: database.url(), maxConnections: 4 })))

describe("several daemon processes on one PostgreSQL database", () => {
  it.live("claim queued runs once each, survive SIGKILLs, and recover a killed owner's runs after its lease", () =>
    Effect.gen(function*() {
      yield* seedQueuedRuns().pipe(Effect.timeout("60 seconds"))
      const daemons: Array<Daemon> = []
      const acks: Array<Ack> = []
      const failures: Array<string> = []
      let kills = 0
      let nextKillAt = 8 + Math.floor(Math.random() * 12)
      let generation = 0
      let stopping = false

      const start = (slot: number): void => {
        const owner = `d${slot}.g${generation++}`
        const child = spawnFixture("pg-cluster-daemon.ts", [Redacted.value(database.url()), owner, "3000", "750", "40"])
        const daemon: Daemon = { owner, child, killed: false }
        daemons.push(daemon)
        let buffer = ""
        let stderr = ""
        child.stderr?.on("data", (chunk: Buffer) => {
          stderr += chunk.toString()
        })
        child.stdout?.on("data", (chunk: Buffer) => {
          buffer += chunk.toString()
          const lines = buffer.split("\n")
          buffer = lines.pop() ?? ""
          for (const line of lines) onLine(daemon, line)
        })
        child.on("error", (error) => failures.push(`${owner} could not start: ${error.message}`))
        child.on("exit", (code, signal) => {
          if (!daemon.killed) failures.push(`${owner} exited by itself (${code ?? signal}): ${stderr.slice(-2000)}`)
          else if (!stopping) start(slot)
        })
      }
      const onLine = (daemon: Daemon, line: string): void => {
        if (daemon.killed) return
        const parsed = JSON.parse(line) as Ack
        acks.push(parsed)
        // Kill a daemon that has just started a run (it holds it for `holdMs`), so that the kill
        // usually leaves an orphan to recover; at most KILLS times.
        if (parsed.ack === "started" && kills < KILLS && acks.length >= nextKillAt) {
          kills++
          nextKillAt = acks.length + 8 + Math.floor(Math.random() * 20)
          daemon.killed = true
          daemon.child.kill("SIGKILL")
        }
      }

      yield* Effect.addFinalizer(() =>
        Effect.sync(() => {
          stopping = true
          for (const daemon of daemons) {
            daemon.killed = true
            daemon.child.kill("SIGKILL")
          }
        })
      )
      for (let slot = 0; slot < DAEMONS; slot++) start(slot)

      let completed = 0
      for (let i = 0; i < 1500 && completed < RUNS && failures.length === 0; i++) {
        yield* Effect.sleep("100 millis")
        completed = yield* countCompleted()
      }
      assert.deepStrictEqual(failures, [])
      assert.strictEqual(completed, RUNS)
      assert.strictEqual(kills, KILLS)

      const killed = new Set(daemons.filter((daemon) => daemon.killed).map((daemon) => daemon.owner))
      const history = yield* readHistory()

      // Every acknowledged move is in the database, made by the daemon that acknowledged it.
      const written = new Set(history.map((row) => `${row.run_id} ${row.to_status} ${row.source}`))
      for (const ack of acks) {
        if (ack.ack === undefined || ack.ack === "claimed" || ack.ack === "released") continue
        assert.isTrue(written.has(`${ack.runId} ${ack.ack} ${ack.owner}`), `acknowledged ${JSON.stringify(ack)}`)
      }

      // Per run: a started run is completed by the owner that started it, or crashed by another
      // daemon, and only when the starter was killed. A claim passes to another owner only from a
      // killed one.
      let recovered = 0
      const byRun = new Map<string, Array<HistoryRow>>()
      for (const row of history) byRun.set(row.run_id, [...(byRun.get(row.run_id) ?? []), row])
      for (const [runId, rows] of byRun) {
        let starter: string | undefined
        for (const row of rows) {
          if (row.to_status === "started") {
            assert.strictEqual(row.from_status, "queued", `${runId} started from ${row.from_status}`)
            starter = row.source
          } else if (row.to_status === "completed") {
            assert.strictEqual(row.source, starter, `${runId} completed by ${row.source}, started by ${starter}`)
          } else if (row.to_status === "crashed") {
            assert.isTrue(starter !== undefined && killed.has(starter), `${runId} crashed while ${starter} was alive`)
            assert.notStrictEqual(row.source, starter)
            recovered++
          }
        }
        assert.strictEqual(rows.at(-1)?.to_status, "completed", `${runId} ends completed`)
      }
      const claimers = new Map<string, Array<string>>()
      for (const ack of acks) {
        if (ack.ack === "claimed") claimers.set(ack.runId!, [...(claimers.get(ack.runId!) ?? []), ack.owner!])
      }
      for (const [runId, owners] of claimers) {
        // Each claim but the last was given up by a kill (queued again after a crash, or never started).
        for (const owner of owners.slice(0, -1)) {
          assert.isTrue(killed.has(owner), `${runId} claimed again from live ${owner}`)
        }
      }
      assert.isAtLeast(recovered + [...claimers.values()].filter((owners) => owners.length > 1).length, 1)
    }).pipe(Effect.scoped), 240_000)
})
