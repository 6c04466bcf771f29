// A small, known data directory for the CLI tests, written through the library itself.
import { Effect } from "effect"
import { BlobStore, LogStore } from "../../src/index.ts"
import { NerveStoreLive } from "../../layers/index.ts"

export const DAY_MS = 86_400_000
/** Rows per back-dated day. */
export const OLD_ROWS = 50
export const BLOB_TEXT = "the output of run r-done\n"

/** What `seed` wrote. */
export interface Seeded {
  readonly oldDays: ReadonlyArray<string>
  readonly digest: string
}

/**
 * Runs `r-done` (completed, with a trigger and three messages), `r-active` (started), `r-queued`,
 * `r-failed`; two whole days 40 and 41 days ago with `OLD_ROWS` rows each; one blob.
 */
export const seed = (dataDir: string): Promise<Seeded> =>
  Effect.runPromise(Effect.gen(function*() {
    const log = yield* LogStore
    const blobs = yield* BlobStore
    const go = (runId: string, workflow: string, status: "queued" | "started" | "completed" | "failed", payload?: unknown, exitCode?: number) =>
      log.transition(
        { source: "workflow", type: status, ...(payload === undefined ? {} : { payload: JSON.stringify(payload) }) },
        { runId, workflow, status, ...(exitCode === undefined ? {} : { exitCode }) }
      )
    yield* go("r-done", "build", "queued")
    yield* go("r-done", "build", "started", { prompt: "compile the project", maxRounds: 3 })
    for (const [role, content] of [["user", "compile it"], ["assistant", "compiling"], ["assistant", "done"]] as const) {
      yield* log.append({ source: "workflow", type: "thread_workflow_message", refId: "r-done", payload: JSON.stringify({ role, content, timestamp: 1_700_000_000_000 }) })
    }
    yield* go("r-done", "build", "completed", undefined, 0)
    yield* go("r-failed", "review", "started", { prompt: "review", maxRounds: 1 })
    yield* go("r-failed", "review", "failed", undefined, 2)
    yield* go("r-active", "deploy", "started", { prompt: "deploy", maxRounds: 5 })
    yield* go("r-queued", "deploy", "queued")
    const today = Math.floor(Date.now() / DAY_MS) * DAY_MS
    const oldDays = [41, 40].map((ago) => new Date(today - ago * DAY_MS).toISOString().slice(0, 10))
    for (const day of oldDays) {
      const start = Date.parse(`${day}T00:00:00Z`)
      yield* log.appendMany(Array.from({ length: OLD_ROWS }, (_, i) => ({
        source: "daemon",
        type: "heartbeat",
        payload: JSON.stringify({ i }),
        timestamp: start + i * 60_000
      })))
    }
    const digest = yield* blobs.write(BLOB_TEXT)
    return { oldDays, digest }
  }).pipe(Effect.provide(NerveStoreLive({ dataDir }))))

/** Appends one row at `timestamp` (e.g. inside a day already archived). */
export const appendLate = (dataDir: string, timestamp: number): Promise<void> =>
  Effect.runPromise(
    LogStore.use((log) => log.append({ source: "daemon", type: "late", timestamp })).pipe(
      Effect.asVoid,
      Effect.provide(NerveStoreLive({ dataDir }))
    )
  )
