/**
 * The main job (`npm start`): a few seconds of a workflow daemon on a real data directory.
 *
 * Several workflows run concurrently through queued → started → rounds of thread messages →
 * completed / failed; a full queue drops new runs; a worker that "dies" mid-run is respawned
 * (started → crashed → started); large outputs go to blobs; an archive pass runs on a schedule over
 * back-dated logs; Ctrl-C (or the end of `--seconds`) shuts down gracefully, marking runs in flight
 * `interrupted`. One run per boot is left `started` on purpose, as a daemon killed with -9 would
 * leave it: the next boot recovers it, resumes the interrupted runs and picks up the queued ones.
 * Every boot is the owner `DEMO_OWNER` (stable per host) with 10-second leases renewed while it
 * runs, so a boot recovers an earlier boot's runs at once instead of waiting for their leases.
 *
 * `npm start -- --data-dir <dir> --seconds <n>` (data dir default: $NERVE_DATA_DIR, else ./data).
 * `npm start -- --database-url postgres://… --data-dir <dir>` runs it on PostgreSQL (`NerveStorePg`:
 * logs and runs in the database, day files and blobs in the data directory); `examples/cluster.ts`
 * runs several daemons on one database.
 * `examples/daemon-memory.ts` runs the same `daemon` on `NerveStoreMemory` under `TestClock`.
 */
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as NodeServices from "@effect/platform-node/NodeServices"
import { Clock, Config, Console, Duration, Effect, Fiber, Layer, Option, Queue, Ref, Schedule } from "effect"
import { Command, Flag } from "effect/cli"
import { hostname } from "node:os"
import { BlobStore, LogArchive, LogStore, type RunLease, WORKFLOW_SOURCE, type WorkflowRunStatus } from "@uncaged/nerve-store"
import { NerveStoreLive, NerveStorePg } from "@uncaged/nerve-store/layers"

/**
 * The demo daemon's owner name: the same on every boot on this host, so a boot recovers at once
 * the runs an earlier boot left (even one killed with -9, whose leases have not expired yet).
 */
export const DEMO_OWNER = `nerve-demo@${hostname()}`
/** Short enough that a lease's end shows in the report; renewed every third of it while running. */
export const DEMO_LEASE_TTL = Duration.seconds(10)

/** How the simulated daemon behaves. */
export interface DaemonOptions {
  /** How long it runs before shutting down by itself. */
  readonly duration: Duration.Input
  /** Concurrent workers. */
  readonly workers?: number
  /** Runs waiting beyond this are dropped (overflow `drop`). */
  readonly queueCapacity?: number
  /** A new run is triggered this often. */
  readonly triggerEvery?: Duration.Input
  /** Pause between two thread messages. */
  readonly roundDelay?: Duration.Input
  /** An archive pass runs this often. */
  readonly archiveEvery?: Duration.Input
  /** Completes when the daemon should shut down before `duration` (e.g. on SIGINT). */
  readonly stop?: Effect.Effect<void>
}

/** What one boot did, and what it found left by the previous one. */
export interface DaemonReport {
  readonly boot: number
  /** This boot's owner identity (stable name, fresh boot id). */
  readonly owner: { readonly name: string; readonly boot: string }
  /** The orphan's lease as this boot leaves it (renewed until shutdown, then released). */
  readonly orphanLease: RunLease | null
  /** When the report was made (epoch ms), to show the lease's end relative to it. */
  readonly at: number
  readonly recovered: ReadonlyArray<string>
  readonly resumed: ReadonlyArray<string>
  readonly pickedUp: ReadonlyArray<string>
  /** Final status of each run this boot touched (the orphan stays `started`). */
  readonly outcomes: Readonly<Record<string, WorkflowRunStatus>>
  readonly orphan: string
  readonly messages: number
  readonly blobs: number
  readonly archivedDays: ReadonlyArray<string>
  readonly archivedRows: number
  readonly totals: { readonly runs: number; readonly rows: number; readonly archivedDays: number }
}

const WORKFLOWS = ["build", "review", "deploy"] as const
const DAY_MS = 86_400_000
/** Back-dated rows per old day, so the archive pass has whole days to move. */
const ROWS_PER_OLD_DAY = 200
/** Outputs above this size go to the blob store; the thread keeps the digest. */
const LARGE_OUTPUT = 2048

/** A small deterministic generator, so the memory example is reproducible. */
const makeRandom = (seed: number) => {
  let state = (seed * 2654435761) >>> 0 || 1
  return () => {
    state ^= state << 13
    state ^= state >>> 17
    state ^= state << 5
    return (state >>> 0) / 0x1_0000_0000
  }
}

interface Job {
  readonly runId: string
  readonly workflow: string
}

/** The daemon: needs the three services and a Clock; returns its report when it has shut down. */
export const daemon = (options: DaemonOptions) =>
  Effect.gen(function*() {
    const log = yield* LogStore
    const blobs = yield* BlobStore
    const archive = yield* LogArchive

    const boot = Number(Option.getOrElse(yield* log.getMeta("demo.boots"), () => "0")) + 1
    yield* log.setMeta("demo.boots", String(boot))
    const random = makeRandom(boot)
    const outcomes = new Map<string, WorkflowRunStatus>()
    const messages = yield* Ref.make(0)
    const blobCount = yield* Ref.make(0)

    const step = (job: Job, status: WorkflowRunStatus, payload?: unknown, exitCode?: number) =>
      log.transition(
        { source: WORKFLOW_SOURCE, type: status, ...(payload === undefined ? {} : { payload: JSON.stringify(payload) }) },
        { runId: job.runId, workflow: job.workflow, status, ...(exitCode === undefined ? {} : { exitCode }) }
      ).pipe(Effect.tap(() => Effect.sync(() => outcomes.set(job.runId, status))))

    const say = (job: Job, role: string, content: string, meta?: unknown) =>
      log.appendThreadMessage(job.runId, { role, content, ...(meta === undefined ? {} : { meta }) }).pipe(
        Effect.andThen(Ref.update(messages, (n) => n + 1))
      )

    // 1. Recover what the last boot left behind: runs whose owner is gone (no lease, or an expired
    //    one) and runs an earlier boot of this owner name held, even if their lease still runs.
    //    Runs another live daemon holds are left alone.
    const recovered = yield* log.recoverOrphans()
    const interrupted = yield* log.runs({ status: "interrupted", limit: 1000 })
    const queued = (yield* log.activeRuns()).filter((run) => run.status === "queued")

    // 2. Back-dated logs: three old days per boot, plus a row inside a day an earlier boot already
    //    archived (the archive merges it into that day's file).
    const now = yield* Clock.currentTimeMillis
    for (let day = 0; day < 3; day++) {
      const dayStart = Math.floor(now / DAY_MS) * DAY_MS - (40 + 3 * boot + day) * DAY_MS
      yield* log.appendMany(Array.from({ length: ROWS_PER_OLD_DAY }, (_, i) => ({
        source: "daemon",
        type: "heartbeat",
        payload: JSON.stringify({ boot, seq: i }),
        timestamp: dayStart + Math.floor((i * DAY_MS) / ROWS_PER_OLD_DAY)
      })))
    }
    if (boot > 1) {
      yield* log.append({ source: "daemon", type: "late", payload: "a late row for an archived day", timestamp: now - (40 + 3 * (boot - 1)) * DAY_MS })
    }

    // 3. The work queue and the workers.
    const queue = yield* Queue.unbounded<Job>()
    const capacity = options.queueCapacity ?? 4
    const roundDelay = options.roundDelay ?? "100 millis"

    const execute = (job: Job, trigger: { readonly prompt: string; readonly maxRounds: number }) =>
      Effect.gen(function*() {
        yield* step(job, "started", trigger)
        yield* say(job, "user", trigger.prompt)
        for (let round = 1; round < trigger.maxRounds; round++) {
          yield* Effect.sleep(roundDelay)
          if (random() < 0.05) {
            // The worker process died; the supervisor notices and respawns it.
            yield* step(job, "crashed", { reason: "worker exited with signal 9" })
            yield* step(job, "started", { respawn: true })
          }
          const large = random() < 0.2
          const output = large ? `${job.workflow} output, round ${round}\n`.repeat(200) : `${job.workflow}: round ${round} done`
          if (output.length > LARGE_OUTPUT) {
            const digest = yield* blobs.write(output)
            yield* Ref.update(blobCount, (n) => n + 1)
            yield* say(job, "assistant", `output stored as blob ${digest} (${output.length} bytes)`, { blob: digest })
          } else {
            yield* say(job, "assistant", output)
          }
        }
        const failed = random() < 0.2
        yield* step(job, failed ? "failed" : "completed", undefined, failed ? 1 : 0)
      }).pipe(
        // Graceful shutdown: a run in flight is marked interrupted (the next boot resumes it).
        Effect.onInterrupt(() => step(job, "interrupted").pipe(Effect.ignore))
      )

    const triggerOf = (job: Job) => ({ prompt: `run ${job.workflow} for ${job.runId}`, maxRounds: 2 + Math.floor(random() * 5) })

    const worker = Effect.forever(Effect.gen(function*() {
      const job = yield* Queue.take(queue)
      yield* execute(job, triggerOf(job))
    }))

    // Last boot's queued runs are picked up; its interrupted runs go back into the queue.
    for (const run of queued) yield* Queue.offer(queue, { runId: run.runId, workflow: run.workflow })
    for (const run of interrupted) {
      const job = { runId: run.runId, workflow: run.workflow }
      yield* step(job, "queued", { resumedBy: boot })
      yield* Queue.offer(queue, job)
    }
    // Runs the last boot lost (crashed) are respawned right away.
    const respawns = recovered.map((run) => execute({ runId: run.runId, workflow: run.workflow }, triggerOf({ runId: run.runId, workflow: run.workflow })))

    let counter = 0
    const trigger = Effect.gen(function*() {
      counter++
      const workflow = WORKFLOWS[counter % WORKFLOWS.length] ?? "build"
      const job = { runId: `${workflow}-b${boot}-${String(counter).padStart(3, "0")}`, workflow }
      if ((yield* Queue.size(queue)) >= capacity) {
        yield* step(job, "dropped", { reason: "queue full" })
      } else {
        yield* step(job, "queued", { prompt: `run ${workflow}` })
        yield* Queue.offer(queue, job)
      }
    })

    // The orphan: a run this boot starts and never finishes, as a killed daemon would leave it.
    const orphan = { runId: `deploy-b${boot}-orphan`, workflow: "deploy" }
    yield* step(orphan, "started", { prompt: "left started on purpose: the next boot recovers it", maxRounds: 3 })

    const archivedDays: Array<string> = []
    let archivedRows = 0
    const archivePass = archive.archive().pipe(
      Effect.tap((result) => Effect.sync(() => {
        for (const day of result.days) {
          archivedDays.push(day.day)
          archivedRows += day.rowCount
        }
      })),
      // A day that fails (a damaged file, a full disk) keeps its rows in SQLite; the daemon goes
      // on and the next pass tries again.
      Effect.catch((error) => Effect.logWarning(`archive pass failed: ${error.message}`))
    )

    // 4. Run everything until the deadline (or until interrupted), then shut down in order.
    const background = Effect.all([
      Effect.all(Array.from({ length: options.workers ?? 3 }, () => worker), { concurrency: "unbounded" }),
      Effect.all(respawns, { concurrency: "unbounded" }),
      Effect.repeat(trigger, Schedule.spaced(options.triggerEvery ?? "80 millis")),
      Effect.repeat(archivePass, Schedule.spaced(options.archiveEvery ?? "1 second"))
    ], { concurrency: "unbounded" })
    // The first to end wins: the deadline or a stop signal interrupts the work (and waits for the
    // workers to mark their runs interrupted); a failure of the work fails the daemon.
    yield* Effect.raceFirst(Effect.asVoid(background), Effect.raceFirst(Effect.sleep(options.duration), options.stop ?? Effect.never))

    const runs = yield* log.runs({ limit: 100_000 })
    const rows = yield* log.query({ order: "desc", limit: 1 })
    return {
      boot,
      owner: log.owner,
      orphanLease: Option.getOrNull(yield* log.getLease(orphan.runId)),
      at: yield* Clock.currentTimeMillis,
      recovered: recovered.map((run) => run.runId),
      resumed: interrupted.map((run) => run.runId),
      pickedUp: queued.map((run) => run.runId),
      outcomes: Object.fromEntries(outcomes),
      orphan: orphan.runId,
      messages: yield* Ref.get(messages),
      blobs: yield* Ref.get(blobCount),
      archivedDays,
      archivedRows,
      totals: { runs: runs.length, rows: rows[0]?.id ?? 0, archivedDays: (yield* archive.days()).length }
    } satisfies DaemonReport
  })

/** The report for people, with the commands to look at what was written. */
export const formatReport = (report: DaemonReport, dataDir: string): string => {
  const counts = new Map<string, number>()
  for (const status of Object.values(report.outcomes)) counts.set(status, (counts.get(status) ?? 0) + 1)
  const byStatus = [...counts].sort(([a], [b]) => (a < b ? -1 : 1)).map(([status, n]) => `${status} ${n}`).join(", ")
  const list = (ids: ReadonlyArray<string>) => (ids.length === 0 ? "none" : ids.join(", "))
  const cli = `npx nerve-store --data-dir ${dataDir}`
  return [
    `boot #${report.boot} on ${dataDir} as owner ${report.owner.name} (boot ${report.owner.boot})`,
    `left by the last boot: recovered ${report.recovered.length} orphaned run(s) (${list(report.recovered)}), ` +
    `resumed ${report.resumed.length} interrupted, picked up ${report.pickedUp.length} queued`,
    `this boot: ${Object.keys(report.outcomes).length} runs (${byStatus}); ${report.orphan} left started for the next boot`,
    report.orphanLease === null
      ? `leases: ${report.orphan} holds none`
      : `leases: ${report.orphan} held by ${report.orphanLease.owner}, lease renewed until shutdown ` +
        `(it would end in ${Math.max(0, Math.round((report.orphanLease.expiresAt - report.at) / 1000))}s), then released`,
    `threads: ${report.messages} messages, ${report.blobs} large outputs stored as blobs`,
    `archive: ${report.archivedDays.length} day(s), ${report.archivedRows} rows moved to archive/logs/`,
    `store now: ${report.totals.runs} runs, ${report.totals.rows} log rows written so far, ${report.totals.archivedDays} archived day(s)`,
    "",
    "Look at what it wrote:",
    `  ${cli} runs list`,
    `  ${cli} runs show ${report.recovered[0] ?? report.orphan}`,
    `  ${cli} threads messages ${report.recovered[0] ?? report.orphan}`,
    `  ${cli} logs tail -n 20`,
    `  ${cli} archive days`,
    `  ${cli} db stats`,
    "Run `npm start` again: the next boot recovers what this one left."
  ].join("\n")
}

const main = Command.make("daemon", {
  dataDir: Flag.String("data-dir").pipe(
    Flag.withDescription("the data directory (default: $NERVE_DATA_DIR, else ./data)"),
    Flag.withFallbackConfig(Config.String("NERVE_DATA_DIR")),
    Flag.withDefault("./data")
  ),
  databaseUrl: Flag.String("database-url").pipe(
    Flag.withDescription("run on this PostgreSQL database (postgres://…); files stay in --data-dir"),
    Flag.optional
  ),
  seconds: Flag.Int("seconds").pipe(Flag.withDescription("how long to run (default 4)"), Flag.withDefault(4))
}, ({ dataDir, databaseUrl, seconds }) =>
  Effect.gen(function*() {
    const where = Option.isSome(databaseUrl) ? `PostgreSQL (files in ${dataDir})` : dataDir
    yield* Console.log(`nerve-store daemon demo: ${seconds}s on ${where} (Ctrl-C stops it early)`)
    const options = { dataDir, owner: DEMO_OWNER, leaseTtl: DEMO_LEASE_TTL }
    // Ctrl-C ends the run early; the daemon still shuts down in order and reports. It runs in a
    // fiber of its own so that the interruption runMain sends on SIGINT does not cut the report.
    const sigint = Effect.callback<void>((resume) => {
      const onSignal = () => resume(Effect.void)
      process.once("SIGINT", onSignal)
      return Effect.sync(() => process.off("SIGINT", onSignal))
    })
    const running = yield* Effect.forkDetach(
      daemon({ duration: Duration.seconds(seconds), stop: sigint }).pipe(
        Effect.provide(Option.isSome(databaseUrl)
          ? NerveStorePg({ ...options, url: databaseUrl.value })
          : NerveStoreLive(options))
      )
    )
    const report = yield* Fiber.join(running)
    yield* Console.log(formatReport(report, dataDir))
  }).pipe(Effect.uninterruptible))

if (import.meta.main) {
  main.pipe(Command.run({ version: "0.6.0" }), Effect.provide(Layer.mergeAll(NodeServices.layer)), NodeRuntime.runMain)
}
