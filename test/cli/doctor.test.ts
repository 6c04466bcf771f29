// `nerve-store doctor`: the database, the blob quarantine, stale leases and round-count drift in
// one command that says what to do (issue 18).
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { chmodSync, mkdirSync, writeFileSync } from "node:fs"
import { DatabaseSync } from "node:sqlite"
import { join } from "node:path"
import { NerveStoreLive } from "../../layers/index.ts"
import { LogStore } from "../../src/LogStore.ts"
import { DoctorReport } from "../../src/cli/Doctor.ts"
import { makeHotJournal } from "../maintenance/hotJournal.ts"
import { makeTempDir } from "../support/tempDir.ts"
import { cli, decodeJson } from "./run.ts"

/** Run `r-gone`, started by `gone-daemon`, with two role rounds. */
const seedRuns = (dataDir: string) =>
  Effect.gen(function*() {
    const log = yield* LogStore
    yield* log.transition({ source: "workflow", type: "started" }, { runId: "r-gone", workflow: "build", status: "started" })
    for (const role of ["user", "assistant"]) {
      yield* log.append({ source: "workflow", type: "thread_workflow_message", refId: "r-gone", payload: JSON.stringify({ role, content: "x" }) })
    }
  }).pipe(Effect.provide(NerveStoreLive({ dataDir, owner: "gone-daemon" })))

describe("nerve-store doctor", () => {
  it.live("a healthy data directory: all ok, exit 0", () =>
    Effect.gen(function*() {
      const dataDir = makeTempDir()
      yield* seedRuns(dataDir)
      const result = yield* cli(["--data-dir", dataDir, "doctor"])
      assert.strictEqual(result.code, 0, result.stdout + result.stderr)
      assert.match(result.stdout, /: database, layout, archive, blob quarantine, leases and round counts all ok\n$/)
    }))

  it.live("quarantine, a stale lease, round-count drift and a loose mode: each found with what to do, exit 1", () =>
    Effect.gen(function*() {
      const dataDir = makeTempDir()
      yield* seedRuns(dataDir)
      const db = new DatabaseSync(join(dataDir, "nerve.db"))
      // A daemon killed while it held the run leaves its lease behind (a graceful stop releases it).
      db.exec("INSERT OR REPLACE INTO run_leases (run_id, owner, boot, expires_at) VALUES ('r-gone', 'gone-daemon', 'boot-1', 1000)")
      db.exec("UPDATE thread_round_counts SET rounds = 9 WHERE ref_id = 'r-gone'")
      db.close()
      mkdirSync(join(dataDir, "blobs", "quarantine"), { recursive: true, mode: 0o700 })
      writeFileSync(join(dataDir, "blobs", "quarantine", `${"ef".repeat(32)}.1764900000000.12345678`), "corrupt", { mode: 0o600 })
      chmodSync(dataDir, 0o750)

      const json = yield* cli(["--data-dir", dataDir, "--json", "doctor"])
      assert.strictEqual(json.code, 1)
      const report = decodeJson(DoctorReport, json.stdout)
      assert.isFalse(report.ok)
      assert.deepStrictEqual(report.findings.map((f) => [f.area, f.severity]), [
        ["layout", "warning"],
        ["quarantine", "problem"],
        ["leases", "problem"],
        ["roundCounts", "problem"]
      ])
      assert.deepStrictEqual(report.staleLeases.map((l) => [l.runId, l.owner, l.status]), [["r-gone", "gone-daemon", "started"]])
      assert.match(report.findings[2]?.todo ?? "", /`nerve-store runs recover` marks it crashed/)
      assert.match(report.findings[3]?.todo ?? "", /`nerve-store db upgrade`/)

      const human = yield* cli(["--data-dir", dataDir, "doctor"])
      assert.strictEqual(human.code, 1)
      assert.match(human.stdout, /^AREA\s+FINDING\s+WHAT TO DO$/m)
      assert.match(human.stdout, /^leases\s+run r-gone \(started\) is leased by gone-daemon/m)
      assert.match(human.stdout, /\n3 problem\(s\) found\n$/)
      assert.strictEqual(human.stderr, `nerve-store: doctor found 3 problem(s) in ${dataDir}\n`)
    }))

  it.live("a hot rollback journal: doctor says to run db upgrade", () =>
    Effect.gen(function*() {
      const dataDir = makeTempDir()
      yield* Effect.promise(() => makeHotJournal(dataDir))
      const result = yield* cli(["--data-dir", dataDir, "--json", "doctor"])
      assert.strictEqual(result.code, 1)
      const report = decodeJson(DoctorReport, result.stdout)
      assert.deepStrictEqual(report.findings.filter((f) => f.severity === "problem").map((f) => f.area), ["database"])
      assert.match(report.findings[0]?.todo ?? "", /nerve-store db upgrade/)
    }))
})
