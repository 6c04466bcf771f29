// Processes together: a writer, a reader and two archivers on one data directory for a bounded
// time, as a daemon, an operator's CLI and a scheduled archive would be. Each must finish without a
// failure ("database is locked", a failed readDay, an aborted archive), and afterwards every
// acknowledged row is exactly once in SQLite or the archive.
import { assert, describe, it } from "@effect/vitest"
import { Effect, Stream } from "effect"
import { NerveStoreLive } from "../../layers/index.ts"
import { LogArchive } from "../../src/LogArchive.ts"
import { LogStore } from "../../src/LogStore.ts"
import { rejectOnSpawnError, spawnFixture } from "../support/child.ts"
import { makeTempDir } from "../support/tempDir.ts"

const RUN_MS = 4_000

const play = (role: string, dataDir: string) =>
  Effect.callback<{ readonly code: number | null; readonly stdout: string; readonly stderr: string }>((resume) => {
    const child = spawnFixture("together.ts", [role, dataDir, String(RUN_MS)])
    let stdout = ""
    let stderr = ""
    child.stdout?.on("data", (chunk: Buffer) => void (stdout += chunk.toString()))
    child.stderr?.on("data", (chunk: Buffer) => void (stderr += chunk.toString()))
    child.on("exit", (code) => resume(Effect.succeed({ code, stdout, stderr })))
    rejectOnSpawnError(child, (error) => resume(Effect.die(error)))
    return Effect.sync(() => child.kill("SIGKILL"))
  })

describe("processes together on one data directory", () => {
  it.effect("a writer, a reader and two archivers finish without failures, and every row is exactly once in SQLite or the archive", () =>
    Effect.gen(function*() {
      const dataDir = makeTempDir("nerve-together-")
      // Open once first so the children race on work, not on creating the database.
      yield* LogStore.use((log) => log.query({ limit: 1 })).pipe(Effect.provide(NerveStoreLive({ dataDir })))
      const runs = yield* Effect.all(
        ["writer", "reader", "archiver", "archiver"].map((role) => play(role, dataDir)),
        { concurrency: "unbounded" }
      )
      for (const [i, run] of runs.entries()) {
        assert.strictEqual(run.stderr, "", `child ${i} wrote to stderr`)
        assert.strictEqual(run.code, 0, `child ${i} failed`)
        assert.include(run.stdout, "done ")
      }
      const acked = runs[0]!.stdout.split("\n").filter((l) => l.startsWith("L ")).map((l) => Number(l.slice(2)))
      const seen = new Map<number, number>()
      yield* Effect.gen(function*() {
        const log = yield* LogStore
        const archive = yield* LogArchive
        // One more pass with the others gone: whatever they skipped is archived now.
        yield* archive.archive({ retentionMs: 30 * 86_400_000 })
        const count = (id: number) => Effect.sync(() => void seen.set(id, (seen.get(id) ?? 0) + 1))
        yield* Stream.runForEach(log.stream(), (row) => count(row.id))
        for (const day of yield* archive.days()) yield* Stream.runForEach(archive.readDay(day.day), (row) => count(row.id))
      }).pipe(Effect.provide(NerveStoreLive({ dataDir })))
      assert.isAbove(acked.length, 100)
      for (const id of acked) assert.strictEqual(seen.get(id), 1, `row ${id}`)
    }), { timeout: 120_000 })
})
