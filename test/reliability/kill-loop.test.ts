// The kill loop: a real child runs a mixed, seeded workload on one data directory (appends alone,
// concurrent and in batches, transitions, blob writes and streams, archive passes, restores) and
// reports every acknowledged write; the parent SIGKILLs it at random points. After every kill the
// parent checks what a storage engineer would: the database passes `integrity_check`, every
// acknowledged row is present (in SQLite or in a verified archive file) once per place with its
// payload, every run's history is a legal chain ending in its current status and holds every
// acknowledged transition, every acknowledged blob verifies, and the store reopens and goes on.
//
// NERVE_SOAK_KILLS=<n> runs a longer soak (default 30 kills); NERVE_SOAK_SEED replays a run.
import { assert, describe, it } from "@effect/vitest"
import { Effect, Stream } from "effect"
import { join } from "node:path"
import { DatabaseSync } from "node:sqlite"
import { NerveStoreLive } from "../../layers/index.ts"
import { BlobStore } from "../../src/BlobStore.ts"
import { classifyTransition } from "../../src/domain/RunStateMachine.ts"
import { LogArchive } from "../../src/LogArchive.ts"
import { LogStore } from "../../src/LogStore.ts"
import { rejectOnSpawnError, spawnFixture } from "../support/child.ts"
import { makeTempDir } from "../support/tempDir.ts"

const KILLS = Number(process.env.NERVE_SOAK_KILLS ?? "30")
const SEED = Number(process.env.NERVE_SOAK_SEED ?? "20261127")

interface Acknowledged {
  readonly rows: Map<number, string>
  readonly transitions: Array<{ readonly runId: string; readonly status: string; readonly logId: number }>
  readonly blobs: Set<string>
}

// Seeded delays, so a failing run can be replayed.
let delayState = SEED
const nextDelayMs = () => {
  delayState = (delayState * 1_103_515_245 + 12_345) % 2_147_483_648
  return 100 + (delayState % 700)
}

/** Runs the workload child until it has been up for a random while, then SIGKILLs it; collects its acks. */
const runAndKill = (dataDir: string, seed: number, acked: Acknowledged) =>
  Effect.callback<{ readonly lines: number; readonly stderr: string }>((resume) => {
    const child = spawnFixture("workload.ts", [dataDir, String(seed)])
    let buffer = ""
    let stderr = ""
    let lines = 0
    let timer: NodeJS.Timeout | undefined
    const onLine = (line: string) => {
      const [kind, a = "", b = "", c = ""] = line.split(" ")
      lines++
      if (kind === "ready") timer = setTimeout(() => child.kill("SIGKILL"), nextDelayMs())
      else if (kind === "L") acked.rows.set(Number(a), b)
      else if (kind === "T") acked.transitions.push({ runId: a, status: b, logId: Number(c) })
      else if (kind === "B") acked.blobs.add(a)
    }
    child.stdout?.on("data", (chunk: Buffer) => {
      buffer += chunk.toString()
      const parts = buffer.split("\n")
      buffer = parts.pop() ?? ""
      parts.forEach(onLine)
    })
    child.stderr?.on("data", (chunk: Buffer) => void (stderr += chunk.toString()))
    child.on("exit", () => {
      if (timer !== undefined) clearTimeout(timer)
      resume(Effect.succeed({ lines, stderr }))
    })
    rejectOnSpawnError(child, (error) => resume(Effect.die(error)))
    return Effect.sync(() => child.kill("SIGKILL"))
  })

const integrity = (dataDir: string): string => {
  const db = new DatabaseSync(join(dataDir, "nerve.db"), { readOnly: true })
  try {
    return String(db.prepare("PRAGMA integrity_check").get()?.integrity_check)
  } finally {
    db.close()
  }
}

/** Everything the parent checks after a kill, through the public API on a fresh stack. */
const verify = (acked: Acknowledged) =>
  Effect.gen(function*() {
    const log = yield* LogStore
    const archive = yield* LogArchive
    const blobs = yield* BlobStore

    const inSqlite = new Map<number, Array<string | null>>()
    yield* Stream.runForEach(log.stream(), (row) =>
      Effect.sync(() => void inSqlite.set(row.id, [...(inSqlite.get(row.id) ?? []), row.payload])))
    const inArchive = new Map<number, Array<string | null>>()
    for (const day of yield* archive.days()) {
      yield* Stream.runForEach(archive.readDay(day.day), (row) =>
        Effect.sync(() => void inArchive.set(row.id, [...(inArchive.get(row.id) ?? []), row.payload])))
    }
    for (const [id, payload] of acked.rows) {
      const here = inSqlite.get(id) ?? []
      const there = inArchive.get(id) ?? []
      assert.isTrue(here.length + there.length > 0, `acknowledged row ${id} (${payload}) is lost`)
      assert.isAtMost(here.length, 1, `row ${id} is in SQLite twice`)
      assert.isAtMost(there.length, 1, `row ${id} is in the archive twice`)
      for (const seen of [...here, ...there]) assert.strictEqual(seen, payload, `row ${id} changed`)
    }

    const runs = yield* log.runs({ limit: 100_000 })
    const transitionsSeen = new Set<number>()
    for (const run of runs) {
      const history = yield* log.runHistory(run.runId)
      let previous: (typeof history)[number]["to"] | null = null
      for (const record of history) {
        assert.strictEqual(record.from, previous, `run ${run.runId}: history is not a chain`)
        assert.notStrictEqual(classifyTransition(record.from, record.to), "illegal", `run ${run.runId}: illegal ${record.from} -> ${record.to}`)
        previous = record.to
        transitionsSeen.add(record.logId)
      }
      assert.strictEqual(previous, run.status, `run ${run.runId}: history does not end in its status`)
    }
    for (const t of acked.transitions) {
      assert.isTrue(transitionsSeen.has(t.logId), `acknowledged transition ${t.runId} -> ${t.status} (log ${t.logId}) is missing`)
    }

    for (const digest of acked.blobs) yield* blobs.read(digest)
    return { rows: inSqlite.size, archived: inArchive.size, runs: runs.length }
  })

describe("kill loop (a real child SIGKILLed at random points of a mixed workload)", () => {
  it.effect(`${KILLS} kills lose no acknowledged write and leave a store that verifies and goes on`, () =>
    Effect.gen(function*() {
      const dataDir = makeTempDir("nerve-kill-loop-")
      const acked: Acknowledged = { rows: new Map(), transitions: [], blobs: new Set() }
      let lines = 0
      for (let kill = 0; kill < KILLS; kill++) {
        const run = yield* runAndKill(dataDir, SEED + kill, acked)
        assert.notInclude(run.stderr, "workload failed", `kill ${kill}: the workload failed on its own`)
        lines += run.lines
        assert.strictEqual(integrity(dataDir), "ok", `kill ${kill}: integrity_check`)
        yield* verify(acked).pipe(Effect.provide(NerveStoreLive({ dataDir })))
      }
      const final = yield* verify(acked).pipe(Effect.provide(NerveStoreLive({ dataDir })))
      // Printed, not logged: docs/RELIABILITY.md quotes it.
      yield* Effect.sync(() => console.log(
        `kill loop: ${KILLS} kills, ${lines} acknowledgements, ${acked.rows.size} rows, ${acked.transitions.length} transitions, ` +
          `${acked.blobs.size} blobs; now ${final.rows} rows in SQLite, ${final.archived} in the archive, ${final.runs} runs`
      ))
      assert.isAbove(acked.rows.size, 0)
      assert.isAbove(acked.transitions.length, 0)
      assert.isAbove(acked.blobs.size, 0)
    }), { timeout: 600_000 })
})
