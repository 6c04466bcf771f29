import { Effect, Stream } from "effect"
import { BlobStore, LogArchive, LogStore } from "@uncaged/nerve-store"
import { NerveStoreLive, NerveStoreMemory } from "@uncaged/nerve-store/layers"

export const program = Effect.gen(function*() {
  const log = yield* LogStore
  const blobs = yield* BlobStore
  const archive = yield* LogArchive

  // A run moves through the state machine; every accepted move is one log row + the run row.
  const trigger = JSON.stringify({ prompt: "summarise the logs", maxRounds: 3 })
  yield* log.transition({ source: "workflow", type: "started", payload: trigger }, { runId: "r1", workflow: "digest", status: "started" })
  yield* log.transition({ source: "workflow", type: "completed" }, { runId: "r1", workflow: "digest", status: "completed", exitCode: 0 })

  // Illegal moves fail with a typed error and write nothing.
  const refused = yield* log.transition({ source: "workflow", type: "started" }, { runId: "r1", workflow: "digest", status: "started" }).pipe(
    Effect.as("accepted"),
    Effect.catchTag("IllegalTransition", (e) => Effect.succeed(`refused ${e.from} -> ${e.to}`))
  )

  // Content-addressed blobs: the digest is the sha256 of the bytes, verified on every read.
  const digest = yield* blobs.write("the run's output")
  const output = new TextDecoder().decode(yield* blobs.read(digest))

  // Old whole UTC days leave SQLite for archive/logs/YYYY-MM-DD.jsonl.
  const plan = yield* archive.plan({ retentionMs: 7 * 24 * 60 * 60 * 1000 })

  return {
    run: yield* log.getRun("r1"),
    history: yield* log.runHistory("r1"),
    trigger: yield* log.triggerPayload("r1"),
    refused,
    output,
    rows: yield* Stream.runCount(log.stream({ refId: "r1" })),
    daysToArchive: plan.days.length
  }
})

// The daemon provides the live stack; its tests provide the in-memory one. Nothing else changes.
export const live = program.pipe(Effect.provide(NerveStoreLive({ dataDir: "./data" })))
export const inTests = program.pipe(Effect.provide(NerveStoreMemory))
