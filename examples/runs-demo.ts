/**
 * The main job for now: records a few workflow runs through their life cycle in the data
 * directory and prints them. `npm start -- --data-dir <dir>` (else NERVE_DATA_DIR, else ./data).
 */
import { NodeRuntime, NodeServices } from "@effect/platform-node"
import { Config, Console, Effect, Layer } from "effect"
import { Command, Flag } from "effect/cli"
import { BlobStore, LogArchive, LogStore, type RunTransitionInput, type WorkflowRun } from "@uncaged/nerve-store"
import { NerveStoreLive } from "@uncaged/nerve-store/layers"

const dataDir = Flag.String("data-dir").pipe(
  Flag.withDescription("the data directory (default: $NERVE_DATA_DIR, else ./data)"),
  Flag.withFallbackConfig(Config.String("NERVE_DATA_DIR")),
  Flag.withDefault("./data")
)

const table = (runs: ReadonlyArray<WorkflowRun>) =>
  runs.map((run) =>
    [run.runId.padEnd(28), run.workflow.padEnd(10), run.status.padEnd(12), String(run.exitCode ?? "-").padEnd(5),
      new Date(run.timestamp).toISOString()].join(" ")
  ).join("\n")

const recordRuns = Effect.gen(function*() {
  const log = yield* LogStore
  const session = Date.now().toString(36)
  const step = (runId: string, workflow: string, status: RunTransitionInput["status"], payload?: unknown, exitCode?: number) =>
    log.transition(
      { source: "workflow", type: status, ...(payload === undefined ? {} : { payload: JSON.stringify(payload) }) },
      { runId, workflow, status, ...(exitCode === undefined ? {} : { exitCode }) }
    )

  const build = `build-${session}`
  yield* step(build, "build", "queued")
  yield* step(build, "build", "started", { prompt: "compile the project", maxRounds: 3 })
  yield* log.append({ source: "workflow", type: "thread_workflow_message", refId: build, payload: JSON.stringify({ role: "user", content: "compile it" }) })
  yield* log.append({ source: "workflow", type: "thread_workflow_message", refId: build, payload: JSON.stringify({ role: "assistant", content: "done" }) })
  yield* step(build, "build", "completed", undefined, 0)

  // The daemon died while this run was started; on restart it was marked crashed and respawned.
  // (The daemon does that with `markOrphansCrashed()`; the demo leaves other runs in ./data alone.)
  const review = `review-${session}`
  yield* step(review, "review", "started", { prompt: "review the change", maxRounds: 5 })
  yield* step(review, "review", "crashed")
  yield* step(review, "review", "started")
  yield* step(review, "review", "failed", undefined, 2)

  const overflow = `overflow-${session}`
  yield* step(overflow, "build", "dropped")
  const refused = yield* Effect.flip(step(overflow, "build", "started"))

  yield* Console.log(`recorded 3 runs: ${build}, ${review}, ${overflow}`)
  yield* Console.log(`an illegal move was refused: ${refused.message}`)
  yield* Console.log(`\nruns, newest first:\n${table(yield* log.runs({ limit: 10 }))}`)
  const history = yield* log.runHistory(review)
  yield* Console.log(`\nhistory of ${review}: ${history.map((t) => `${t.from ?? "new"}→${t.to}`).join(", ")}`)
  const rounds = yield* log.threadRounds(build, { before: 0, limit: 10 })
  yield* Console.log(`rounds of ${build}: ${rounds.map((r) => `#${r.round} ${r.message.role}: ${r.message.content}`).join(" | ")}`)

  const blobs = yield* BlobStore
  const digest = yield* blobs.write(JSON.stringify({ runId: build, output: "build artefacts" }))
  const output = yield* blobs.read(digest) // fails with DigestMismatch if the file was altered
  yield* Console.log(`\nthe build's output is blob ${digest} (${output.byteLength} bytes, read back and verified)`)
  const plan = yield* (yield* LogArchive).plan()
  yield* Console.log(
    `archive: ${plan.days.length} day(s) older than 30 days to archive (last eligible day ${plan.lastEligibleDay})`
  )
})

const demo = Command.make("runs-demo", { dataDir }, ({ dataDir }) =>
  Effect.gen(function*() {
    yield* Console.log(`nerve-store demo on ${dataDir}`)
    yield* Effect.provide(recordRuns, NerveStoreLive({ dataDir }))
  }))

demo.pipe(
  Command.run({ version: "0.6.0" }),
  Effect.provide(Layer.mergeAll(NodeServices.layer)),
  NodeRuntime.runMain
)
