import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { spawn } from "node:child_process"
import { existsSync } from "node:fs"
import { join } from "node:path"
import { CliOutput, LogEntry } from "../../src/index.ts"
import { makeTempDir } from "../support/tempDir.ts"
import { DEMO_OWNER } from "../../examples/daemon.ts"
import { cli, decodeJson, decodeJsonLines, MAIN, ROOT, runCli } from "./run.ts"

describe("beside a running daemon", () => {
  it.live("the CLI reads and tails while another process appends and archives: no lock errors, every new row followed", () =>
    Effect.gen(function*() {
      const dataDir = join(makeTempDir("nerve-cli-live-"), "data")
      // The main job: concurrent runs, thread messages, blobs, back-dated rows archived every second.
      const daemon = spawn(process.execPath, ["--conditions=source", join(ROOT, "examples", "daemon.ts"), "--data-dir", dataDir, "--seconds", "120"], {
        stdio: ["ignore", "pipe", "pipe"]
      })
      let report = ""
      daemon.stdout.on("data", (chunk: Buffer) => (report += chunk.toString()))
      const daemonExit = new Promise<number | null>((resolve, reject) => daemon.on("error", reject).on("close", resolve))
      yield* Effect.promise(async () => {
        while (!existsSync(join(dataDir, "nerve.db")) || !report.includes("demo")) await new Promise((r) => setTimeout(r, 100))
      })

      const tail = spawn(process.execPath, ["--conditions=source", MAIN, "--data-dir", dataDir, "--json", "logs", "tail", "-n", "0", "--follow"], {
        stdio: ["ignore", "pipe", "pipe"]
      })
      let followed = ""
      let tailErrors = ""
      tail.stdout.on("data", (chunk: Buffer) => (followed += chunk.toString()))
      tail.stderr.on("data", (chunk: Buffer) => (tailErrors += chunk.toString()))
      const tailExit = new Promise<number | null>((resolve, reject) => tail.on("error", reject).on("close", resolve))

      // Readers while it writes.
      const reads = yield* Effect.all([
        cli(["--data-dir", dataDir, "--json", "runs", "list"]),
        cli(["--data-dir", dataDir, "--json", "db", "stats"]),
        cli(["--data-dir", dataDir, "--json", "logs", "query", "--type", "thread_workflow_message", "--order", "desc", "--limit", "5"]),
        cli(["--data-dir", dataDir, "--json", "archive", "days"])
      ], { concurrency: 2 })
      for (const read of reads) assert.deepStrictEqual([read.code, read.stderr], [0, ""])
      const [runs, stats, messages] = reads
      assert.isAbove(decodeJson(CliOutput.RunsList, runs?.stdout ?? "").runs.length, 0)
      assert.isAbove(decodeJson(CliOutput.DbStats, stats?.stdout ?? "").rows, 0)
      assert.isAtMost(decodeJsonLines(LogEntry, messages?.stdout ?? "").length, 5)

      // The daemon's owner and lease, seen from another process while it runs.
      const orphan = yield* Effect.promise(async () => {
        for (;;) {
          const shown = await runCli(["--data-dir", dataDir, "--json", "runs", "show", "deploy-b1-orphan"])
          if (shown.code === 0) return decodeJson(CliOutput.RunShow, shown.stdout)
          await new Promise((r) => setTimeout(r, 100))
        }
      })
      assert.strictEqual(orphan.lease?.owner, DEMO_OWNER)
      assert.isFalse(orphan.lease?.expired)
      const owners = decodeJson(CliOutput.DbStats, (yield* cli(["--data-dir", dataDir, "--json", "db", "stats"])).stdout).owners
      assert.deepStrictEqual(owners.map((o) => o.owner), [DEMO_OWNER])

      // However slow the machine, stop the daemon only after its archive pass moved a day out.
      yield* Effect.promise(async () => {
        for (;;) {
          const days = await runCli(["--data-dir", dataDir, "--json", "archive", "days"])
          if (days.code === 0 && decodeJson(CliOutput.ArchiveDays, days.stdout).days.length > 0) return
          await new Promise((r) => setTimeout(r, 200))
        }
      })
      daemon.kill("SIGINT")
      assert.include([0, 130], yield* Effect.promise(() => daemonExit))
      assert.match(report, /archive: [1-9]\d* day\(s\)/)
      const last = decodeJsonLines(LogEntry, (yield* cli(["--data-dir", dataDir, "--json", "logs", "query", "--order", "desc", "--limit", "1"])).stdout)[0]
      // Wait until the follower has caught up with the daemon's last row, then Ctrl-C it.
      yield* Effect.promise(async () => {
        while (!followed.includes(`"id":${last?.id},`)) await new Promise((r) => setTimeout(r, 100))
      })
      tail.kill("SIGINT")
      assert.strictEqual(yield* Effect.promise(() => tailExit), 130)
      assert.strictEqual(tailErrors, "")
      const rows = decodeJsonLines(LogEntry, followed)
      assert.isAbove(rows.length, 50)
      for (let i = 1; i < rows.length; i++) assert.isAbove(rows[i]?.id ?? 0, rows[i - 1]?.id ?? 0)
      assert.isTrue(rows.some((row) => row.type === "thread_workflow_message"))
      assert.strictEqual(rows.at(-1)?.id, last?.id)
    }))
})
