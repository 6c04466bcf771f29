/**
 * Several daemons on one PostgreSQL database (`npm run start:cluster`).
 *
 * Starts a throwaway PostgreSQL server (`scripts/pg-server.sh`, stopped and its folder removed at
 * the end, also on Ctrl-C), queues a dozen runs, and starts three daemon processes that share them
 * through `claimQueued`: each claims a run, moves it to `started`, works a little and completes it.
 * One daemon is killed with -9 while it runs a run; once that daemon's lease has ended, another
 * daemon's `recoverOrphans` marks the run `crashed`, puts it back in the queue, and a daemon
 * claims and completes it. At the end it prints who ran what, read from the runs' history (every
 * move's log row names the daemon that made it as its `source`).
 *
 * `node --conditions=source examples/cluster.ts worker <url> <owner>` is one daemon (what the
 * demo starts three times).
 */
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { Duration, Effect, Option } from "effect"
import { type ChildProcess, execFile, spawn } from "node:child_process"
import { join } from "node:path"
import { LogStore, type WorkflowRunStatus } from "@uncaged/nerve-store"
import { LogStorePg } from "@uncaged/nerve-store/layers"

const ROOT = join(import.meta.dirname, "..")
const RUNS = 12
const DAEMONS = ["daemon-a", "daemon-b", "daemon-c"] as const
const VICTIM = "daemon-c"
/** Short leases, so the killed daemon's run is taken over within seconds. */
const LEASE_TTL_MS = 2000
const RENEWAL_MS = 500
/** How long a daemon "works" on a run between `started` and `completed`. */
const WORK_MS = 300

const print = (value: unknown) => Effect.sync(() => process.stdout.write(`${JSON.stringify(value)}\n`))

/** One daemon: recovers orphans, queues crashed runs again, claims queued runs and runs them. */
const worker = (url: string, owner: string) =>
  Effect.gen(function*() {
    const log = yield* LogStore
    const move = (runId: string, workflow: string, to: WorkflowRunStatus) =>
      log.transition({ source: owner, type: to, refId: runId }, { runId, workflow, status: to, exitCode: 0 }).pipe(
        Effect.andThen(print({ ack: to, runId, owner }).pipe(Effect.as(true))),
        Effect.catchTags({
          RunLeased: () => Effect.succeed(false),
          LeaseLost: () => Effect.succeed(false),
          IllegalTransition: () => Effect.succeed(false)
        })
      )
    yield* print({ ready: owner })
    while (true) {
      yield* log.recoverOrphans({ source: owner })
      for (const run of yield* log.runs({ status: "crashed", limit: 20 })) {
        if (yield* move(run.runId, run.workflow, "queued")) {
          yield* log.releaseLease(run.runId).pipe(Effect.catchTag("RunLeased", () => Effect.void))
        }
      }
      const claimed = yield* log.claimQueued({ limit: 1 })
      for (const run of claimed) {
        if (yield* move(run.runId, run.workflow, "started")) {
          yield* Effect.sleep(Duration.millis(WORK_MS))
          yield* move(run.runId, run.workflow, "completed")
        }
      }
      if (claimed.length === 0) yield* Effect.sleep(Duration.millis(50))
    }
  }).pipe(Effect.provide(LogStorePg({ url, owner, leaseTtl: LEASE_TTL_MS, leaseRenewal: RENEWAL_MS, maxConnections: 3 })))

/** Runs `scripts/pg-server.sh` with `args`; its stdout lines. */
const pgServer = (...args: ReadonlyArray<string>) =>
  Effect.callback<ReadonlyArray<string>, Error>((resume) => {
    execFile(join(ROOT, "scripts", "pg-server.sh"), [...args], (error, stdout, stderr) =>
      resume(error === null ? Effect.succeed(stdout.trim().split("\n")) : Effect.fail(new Error(`pg-server.sh ${args[0]}: ${stderr || error.message}`)))
    )
  })

/** A throwaway server for the demo: its URL; stopped (and its folder removed) when the scope ends. */
const throwawayServer = Effect.map(
  Effect.acquireRelease(pgServer("start"), ([, folder]) => Effect.ignore(pgServer("stop", folder ?? ""))),
  ([url, folder]) => ({ url: url ?? "", folder: folder ?? "" })
)

interface Event {
  readonly ack?: WorkflowRunStatus
  readonly ready?: string
  readonly runId?: string
  readonly owner?: string
}

/** Starts one daemon process; killed (if still running) when the scope ends. */
const startDaemon = (url: string, owner: string, onEvent: (event: Event, child: ChildProcess) => void) =>
  Effect.acquireRelease(
    Effect.sync(() => {
      const child = spawn(process.execPath, ["--conditions=source", import.meta.filename, "worker", url, owner], {
        stdio: ["ignore", "pipe", "inherit"]
      })
      child.on("error", (error) => process.stderr.write(`${owner} could not start: ${error.message}\n`))
      let buffer = ""
      child.stdout?.on("data", (chunk: Buffer) => {
        buffer += chunk.toString()
        const lines = buffer.split("\n")
        buffer = lines.pop() ?? ""
        for (const line of lines) onEvent(JSON.parse(line) as Event, child)
      })
      return child
    }),
    (child) => Effect.sync(() => child.exitCode === null && child.signalCode === null && child.kill("SIGKILL"))
  )

/** The demo: a server, queued runs, three daemons, one killed; prints who ran what. */
const demo = Effect.gen(function*() {
  const { folder, url } = yield* throwawayServer
  console.log(`cluster demo: a throwaway PostgreSQL server at ${url} (in ${folder}, removed at the end)`)
  const store = LogStorePg({ url, owner: "cluster-demo", maxConnections: 2 })
  yield* LogStore.use((log) =>
    Effect.forEach(Array.from({ length: RUNS }, (_, i) => `run-${String(i + 1).padStart(2, "0")}`), (runId) =>
      Effect.andThen(
        log.transition({ source: "cluster-demo", type: "queued" }, { runId, workflow: "build", status: "queued" }),
        log.releaseLease(runId)
      ), { discard: true })
  ).pipe(Effect.provide(store))
  console.log(`queued ${RUNS} runs; starting ${DAEMONS.join(", ")} (leases of ${LEASE_TTL_MS / 1000}s)`)

  let killed: { readonly runId: string } | undefined
  for (const owner of DAEMONS) {
    yield* startDaemon(url, owner, (event, child) => {
      if (event.owner === VICTIM && event.ack === "started" && killed === undefined && event.runId !== undefined) {
        killed = { runId: event.runId }
        child.kill("SIGKILL")
        console.log(`killed ${VICTIM} with -9 while it ran ${event.runId}`)
      }
    })
  }

  const deadline = Date.now() + 120_000
  let completed = 0
  while (completed < RUNS && Date.now() < deadline) {
    yield* Effect.sleep(Duration.millis(200))
    completed = (yield* LogStore.use((log) => log.countRuns({ status: "completed" })).pipe(Effect.provide(store))).completed
  }

  const histories = yield* LogStore.use((log) =>
    Effect.forEach(Array.from({ length: RUNS }, (_, i) => `run-${String(i + 1).padStart(2, "0")}`), (runId) =>
      Effect.map(log.query({ refId: runId, limit: 100 }), (rows) => ({ runId, rows })))
  ).pipe(Effect.provide(store))

  const ranBy = new Map<string, Array<string>>()
  for (const { rows, runId } of histories) {
    const last = rows.findLast((row) => row.type === "completed")
    const owner = last?.source ?? "nobody"
    ranBy.set(owner, [...(ranBy.get(owner) ?? []), runId])
  }
  console.log("who ran what:")
  for (const owner of [...DAEMONS, "nobody"]) {
    const runs = ranBy.get(owner)
    if (runs !== undefined || owner !== "nobody") console.log(`  ${owner}: ${runs?.join(", ") ?? "none"}${owner === VICTIM ? " (killed)" : ""}`)
  }
  const victimRun = Option.fromNullishOr(killed?.runId).pipe(
    Option.flatMap((runId) => Option.fromNullishOr(histories.find((history) => history.runId === runId)))
  )
  if (Option.isSome(victimRun)) {
    const moves = victimRun.value.rows.filter((row) => row.source !== "cluster-demo").map((row) => `${row.type} by ${row.source}`)
    const crashedBy = victimRun.value.rows.find((row) => row.type === "crashed")?.source
    console.log(`${victimRun.value.runId}: ${moves.join(" → ")}`)
    console.log(crashedBy === undefined
      ? `${VICTIM} had finished ${victimRun.value.runId} before the kill landed`
      : `${crashedBy} took ${VICTIM}'s run after its lease ended`)
  }
  const once = histories.filter(({ rows }) => rows.filter((row) => row.type === "completed").length === 1).length
  console.log(`completed ${completed}/${RUNS} runs; ${once} completed exactly once`)
  if (completed < RUNS) return yield* Effect.fail(new Error(`only ${completed} of ${RUNS} runs completed in 120s`))
}).pipe(Effect.scoped)

if (import.meta.main) {
  const [mode, url = "", owner = "daemon"] = process.argv.slice(2)
  NodeRuntime.runMain(mode === "worker" ? worker(url, owner) : demo)
}
