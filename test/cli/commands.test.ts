import { assert, beforeAll, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { createHash } from "node:crypto"
import { appendFileSync, chmodSync, existsSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { CliOutput, LogEntry, RestoreResult } from "../../src/index.ts"
import { BlobStat, GcResult } from "../../schema/Blob.ts"
import { VERSION } from "../../src/cli/Version.ts"
import { makeTempDir } from "../support/tempDir.ts"
import { spawn } from "node:child_process"
import { DatabaseSync } from "node:sqlite"
import { waitForLine, watchSpawn } from "../support/child.ts"
import { cli, decodeJson, decodeJsonLines, lines, ROOT } from "./run.ts"
import { appendLate, OLD_ROWS, seed, type Seeded } from "./seed.ts"

let dataDir = ""
let seeded: Seeded

beforeAll(async () => {
  dataDir = makeTempDir("nerve-cli-read-")
  seeded = await seed(dataDir)
})

/** The column at which `header` starts in the first line, checked to be the same on every line. */
const columnStart = (table: string, header: string, cell: (line: string) => string) => {
  const [head = "", ...rows] = lines(table)
  const at = head.indexOf(header)
  assert.isAtLeast(at, 0, `header ${header} in ${head}`)
  for (const row of rows) assert.strictEqual(row.indexOf(cell(row), at), at, `aligned ${header}: ${row}`)
  return at
}

describe("nerve-store, reading a data directory", () => {
  it.live("--help lists every command group, --version prints the package's version", () =>
    Effect.gen(function*() {
      const help = yield* cli(["--help"])
      assert.strictEqual(help.code, 0)
      for (const group of ["logs", "runs", "threads", "archive", "blobs", "db"]) assert.match(help.stdout, new RegExp(`\\n  ${group} `))
      const version = yield* cli(["--version"])
      assert.strictEqual(version.code, 0)
      const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string }
      assert.strictEqual(VERSION, pkg.version)
      assert.include(version.stdout, pkg.version)
    }))

  it.live("runs list shows an aligned table to people and RunsList JSON to scripts; --status and --active filter", () =>
    Effect.gen(function*() {
      const human = yield* cli(["--data-dir", dataDir, "runs", "list"])
      assert.strictEqual(human.code, 0, human.stderr)
      assert.strictEqual(lines(human.stdout).length, 5)
      columnStart(human.stdout, "STATUS", (line) => ["completed", "failed", "started", "queued"].find((s) => line.includes(` ${s} `)) ?? "?")
      assert.match(human.stdout, /r-done\s+build\s+completed\s+0 /)

      const all = decodeJson(CliOutput.RunsList, (yield* cli(["runs", "list", "--json", "--data-dir", dataDir])).stdout)
      assert.sameMembers(all.runs.map((r) => r.runId), ["r-done", "r-failed", "r-active", "r-queued"])
      const some = decodeJson(CliOutput.RunsList, (yield* cli(["runs", "list", "--json", "--status", "started", "--status", "failed", "--data-dir", dataDir])).stdout)
      assert.sameMembers(some.runs.map((r) => r.runId), ["r-failed", "r-active"])
      const active = decodeJson(CliOutput.RunsList, (yield* cli(["runs", "list", "--active", "--workflow", "deploy", "--json"], { env: { NERVE_DATA_DIR: dataDir } })).stdout)
      assert.deepStrictEqual(active.runs.map((r) => r.runId), ["r-active", "r-queued"])
    }))

  it.live("runs show prints the run, its transitions, its trigger and its last rounds", () =>
    Effect.gen(function*() {
      const human = yield* cli(["--data-dir", dataDir, "runs", "show", "r-done"])
      assert.strictEqual(human.code, 0, human.stderr)
      assert.match(human.stdout, /^run:\s+r-done$/m)
      assert.match(human.stdout, /^status:\s+completed$/m)
      assert.match(human.stdout, /^rounds:\s+3$/m)
      assert.match(human.stdout, /History:\nFROM\s+TO\s+AT\s+EXIT\s+LOG\n-\s+queued .*\nqueued\s+started .*\nstarted\s+completed\s.*\s0\s+\d+\n/)
      assert.include(human.stdout, `"prompt": "compile the project"`)
      assert.match(human.stdout, /\s3\s+assistant\s+done\n/)

      const shown = decodeJson(CliOutput.RunShow, (yield* cli(["--data-dir", dataDir, "--json", "runs", "show", "r-done"])).stdout)
      assert.deepStrictEqual(shown.history.map((t) => t.to), ["queued", "started", "completed"])
      assert.deepStrictEqual(shown.trigger, { prompt: "compile the project", maxRounds: 3, dryRun: false })
      assert.strictEqual(shown.roundCount, 3)
      assert.deepStrictEqual(shown.lastRounds.map((r) => r.round), [3, 2, 1])

      const missing = yield* cli(["--data-dir", dataDir, "runs", "show", "nope"])
      assert.strictEqual(missing.code, 1)
      assert.strictEqual(missing.stderr, "nerve-store: run nope not found\n")
    }))

  it.live("threads rounds pages newest first and threads messages lists oldest first", () =>
    Effect.gen(function*() {
      const page = decodeJson(CliOutput.ThreadRounds, (yield* cli(["--data-dir", dataDir, "--json", "threads", "rounds", "r-done", "--before", "3", "--limit", "1"])).stdout)
      assert.deepStrictEqual(page.rounds.map((r) => [r.round, r.message.content]), [[2, "compiling"]])
      assert.strictEqual(page.roundCount, 3)
      const messages = decodeJson(CliOutput.ThreadMessages, (yield* cli(["--data-dir", dataDir, "--json", "threads", "messages", "r-done"])).stdout)
      assert.deepStrictEqual(messages.messages.map((m) => m.content), ["compile it", "compiling", "done"])
      const human = yield* cli(["--data-dir", dataDir, "threads", "rounds", "r-done"])
      assert.match(human.stdout, /^ROUND\s+LOG\s+AT\s+ROLE\s+CONTENT\n\s+3\s/)
    }))

  it.live("logs query filters by source, type, ref and time (ISO or epoch ms) and prints JSON Lines of LogEntry", () =>
    Effect.gen(function*() {
      const [day] = seeded.oldDays
      const rows = decodeJsonLines(LogEntry, (yield* cli([
        "--data-dir", dataDir, "--json", "logs", "query", "--source", "daemon", "--type", "heartbeat",
        "--since", `${day}T00:10:00Z`, "--until", String(Date.parse(`${day}T00:12:00Z`)), "--order", "desc"
      ])).stdout)
      assert.deepStrictEqual(rows.map((r) => r.payload), ['{"i":12}', '{"i":11}', '{"i":10}'])
      const byRef = decodeJsonLines(LogEntry, (yield* cli(["--data-dir", dataDir, "--json", "logs", "query", "--ref", "r-done", "--limit", "2"])).stdout)
      assert.deepStrictEqual(byRef.map((r) => r.type), ["queued", "started"])
      const after = decodeJsonLines(LogEntry, (yield* cli(["--data-dir", dataDir, "--json", "logs", "query", "--ref", "r-done", "--after-id", String(byRef[1]?.id)])).stdout)
      assert.strictEqual(after[0]?.type, "thread_workflow_message")
      const tail = yield* cli(["--data-dir", dataDir, "logs", "tail", "-n", "2"])
      assert.strictEqual(lines(tail.stdout).length, 2)
      assert.match(tail.stdout, /daemon\/heartbeat\s+\{"i":49\}\n$/)
    }))

  it.live("db check and db stats describe the database, the data directory and its sizes", () =>
    Effect.gen(function*() {
      const check = decodeJson(CliOutput.DbCheck, (yield* cli(["--data-dir", dataDir, "--json", "db", "check"])).stdout)
      assert.isTrue(check.ok)
      assert.deepStrictEqual(check.integrity, ["ok"])
      assert.strictEqual(check.schemaVersion, check.latestSchemaVersion)
      assert.isFalse(check.legacy05)
      assert.deepStrictEqual(check.layout.map((e) => [e.path, e.found]), [[".", "ok"], ["nerve.db", "ok"], ["archive/logs", "missing"], ["blobs", "ok"]])
      assert.deepStrictEqual([check.problems, check.archiveDays], [[], []])
      assert.deepStrictEqual(check.layout.slice(0, 2).map((e) => [e.mode, e.expectedMode, e.modeOk]), [["0700", "0700", true], ["0600", "0600", true]])

      const stats = decodeJson(CliOutput.DbStats, (yield* cli(["--data-dir", dataDir, "--json", "db", "stats"])).stdout)
      assert.strictEqual(stats.rows, 2 * OLD_ROWS + 10)
      assert.deepStrictEqual(stats.runsByStatus, { completed: 1, failed: 1, started: 1, queued: 1 })
      assert.strictEqual(stats.oldestDay, seeded.oldDays[0])
      assert.strictEqual(stats.blobCount, 1)
      assert.isAbove(stats.sizes.database, 0)

      const human = yield* cli(["--data-dir", dataDir, "db", "stats"])
      assert.strictEqual(human.code, 0, human.stderr)
      assert.match(human.stdout, new RegExp(`^log rows:\\s+${2 * OLD_ROWS + 10} \\(ids 1\\.\\.${2 * OLD_ROWS + 10}, days ${seeded.oldDays[0]}\\.\\.`, "m"))
      assert.match(human.stdout, /^blobs:\s+\d+ B in 1 blob\(s\)$/m)
      // The counts are right-aligned under RUNS: every line of that table ends in the same column.
      const byStatus = lines(human.stdout.split("\n\n")[1] ?? "")
      assert.deepStrictEqual(byStatus.map((line) => line.length), byStatus.map(() => byStatus[0]?.length))
      assert.match(human.stdout, /\nSTATUS\s+RUNS\ncompleted\s+1\nfailed\s+1\nqueued\s+1\nstarted\s+1\n/)
    }))

  it.live("blobs stat, get and verify read the blob store", () =>
    Effect.gen(function*() {
      const stat = decodeJson(BlobStat, (yield* cli(["--data-dir", dataDir, "--json", "blobs", "stat", seeded.digest.toUpperCase()])).stdout)
      assert.strictEqual(stat.size, Buffer.byteLength("the output of run r-done\n"))
      assert.instanceOf(stat.mtime, Date)
      const got = yield* cli(["--data-dir", dataDir, "blobs", "get", seeded.digest])
      assert.strictEqual(got.stdout, "the output of run r-done\n")
      const verified = decodeJson(CliOutput.BlobVerify, (yield* cli(["--data-dir", dataDir, "--json", "blobs", "verify", "--all"])).stdout)
      assert.deepStrictEqual(verified.report.totals, { checked: 1, ok: 1, mismatch: 0, unreadable: 0, bytes: stat.size })
    }))
})

describe("nerve-store, changing a data directory", () => {
  it.live("archive --dry-run writes nothing; archive moves the old days (plain lines when piped), then days, read and restore", () =>
    Effect.gen(function*() {
      const dir = makeTempDir("nerve-cli-archive-")
      const { oldDays } = yield* Effect.promise(() => seed(dir))
      const dry = decodeJson(CliOutput.ArchiveRun, (yield* cli(["--data-dir", dir, "--json", "archive", "--dry-run"])).stdout)
      assert.deepStrictEqual(dry.plan.days.map((d) => [d.day, d.rowCount]), oldDays.map((day) => [day, OLD_ROWS]))
      assert.isNull(dry.result)
      const stillThere = decodeJson(CliOutput.DbStats, (yield* cli(["--data-dir", dir, "--json", "db", "stats"])).stdout)
      assert.strictEqual(stillThere.rows, 2 * OLD_ROWS + 10)

      const piped = yield* cli(["--data-dir", dir, "archive", "--max-days", "1", "--gzip"])
      assert.strictEqual(piped.code, 0, piped.stderr)
      assert.notInclude(piped.stdout, "\r")
      assert.match(piped.stdout, new RegExp(`^${oldDays[0]}: archiving ${OLD_ROWS} rows \\(day 1 of 1\\)\\n${oldDays[0]}: archived ${OLD_ROWS} rows -> .*\\.jsonl\\.gz \\(.*\\)\\nDAY\\s+ROWS\\s+LINES\\s+SIZE\\s+FILE\\n${oldDays[0]}\\s+${OLD_ROWS}\\s+${OLD_ROWS}\\s`))
      assert.match(piped.stdout, /1 day\(s\), 50 rows archived\n$/)

      const rest = decodeJson(CliOutput.ArchiveRun, (yield* cli(["--data-dir", dir, "--json", "archive", "--retention", "30d"])).stdout)
      assert.deepStrictEqual(rest.result?.days.map((d) => d.day), [oldDays[1]])
      const days = decodeJson(CliOutput.ArchiveDays, (yield* cli(["--data-dir", dir, "--json", "archive", "days"])).stdout)
      assert.deepStrictEqual(days.days.map((d): ReadonlyArray<unknown> => [d.day, d.compressed, d.lineCount]), [[oldDays[0] ?? "", true, OLD_ROWS], [oldDays[1] ?? "", false, OLD_ROWS]])
      const read = decodeJsonLines(LogEntry, (yield* cli(["--data-dir", dir, "--json", "archive", "read", oldDays[0] ?? ""])).stdout)
      assert.strictEqual(read.length, OLD_ROWS)
      const restored = decodeJson(RestoreResult, (yield* cli(["--data-dir", dir, "--json", "archive", "restore", oldDays[0] ?? ""])).stdout)
      assert.deepStrictEqual([restored.restored, restored.skipped], [OLD_ROWS, 0])
      const after = decodeJson(CliOutput.DbStats, (yield* cli(["--data-dir", dir, "--json", "db", "stats"])).stdout)
      assert.strictEqual(after.rows, OLD_ROWS + 10)
      assert.strictEqual(after.archivedDays, 2)

      // A restored day is held back from the next archive run unless --include-restored.
      const again = yield* cli(["--data-dir", dir, "archive", "restore", oldDays[0] ?? ""])
      assert.match(again.stdout, /restored 0 rows .*; archive holds the day back for 7 days \(archive --include-restored takes it now\)\n$/)
      const held = decodeJson(CliOutput.ArchiveRun, (yield* cli(["--data-dir", dir, "--json", "archive"])).stdout)
      assert.deepStrictEqual([held.skipped.map((d) => d.day), held.archived, held.failed], [[oldDays[0] ?? ""], [], []])
      const forced = decodeJson(CliOutput.ArchiveRun, (yield* cli(["--data-dir", dir, "--json", "archive", "--include-restored"])).stdout)
      assert.deepStrictEqual(forced.archived.map((d) => d.day), [oldDays[0] ?? ""])

      // A day file changed outside nerve-store: db check reports it; archiving into it fails that day.
      const [, day1 = ""] = oldDays
      yield* Effect.sync(() => appendFileSync(join(dir, "archive", "logs", `${day1}.jsonl`), "tampered\n"))
      const checked = yield* cli(["--data-dir", dir, "--json", "db", "check"])
      assert.strictEqual(checked.code, 1)
      const report = decodeJson(CliOutput.DbCheck, checked.stdout)
      assert.deepStrictEqual([report.ok, report.archiveDays.map((d) => [d.day, d.status])], [false, [[day1, "mismatch"]]])
      assert.match(report.problems.join("\n"), new RegExp(`archived day ${day1} is mismatch`))
      yield* Effect.promise(() => appendLate(dir, Date.parse(`${day1}T12:00:00Z`)))
      const failing = yield* cli(["--data-dir", dir, "archive"])
      assert.strictEqual(failing.code, 1)
      assert.match(failing.stdout, new RegExp(`^${day1}: archiving 1 rows \\(day 1 of 1\\)\\n${day1}: FAILED \\(.+\\)\\n`))
      assert.match(failing.stdout, new RegExp(`\\nFAILED DAY\\s+ERROR\\s+MESSAGE\\n${day1}\\s+\\w+\\s+.+\\n0 day\\(s\\), 0 rows archived; 1 day\\(s\\) FAILED`))
      assert.match(failing.stderr, new RegExp(`^nerve-store: 1 day\\(s\\) failed to archive \\(${day1}\\); first: [^\\n]+\\n$`))
      const failingJson = yield* cli(["--data-dir", dir, "--json", "archive"])
      assert.strictEqual(failingJson.code, 1)
      const failedRun = decodeJson(CliOutput.ArchiveRun, failingJson.stdout)
      assert.deepStrictEqual([failedRun.result, failedRun.failed.map((f) => f.day)], [null, [day1]])
      assert.strictEqual(decodeJson(CliOutput.DbStats, (yield* cli(["--data-dir", dir, "--json", "db", "stats"])).stdout).rows, 11)
    }))

  it.live("db check lists runs whose stored round count differs from their rows; db upgrade recounts them", () =>
    Effect.gen(function*() {
      const dir = makeTempDir("nerve-cli-rounds-")
      yield* Effect.promise(() => seed(dir))
      // Another program (nerve-store 0.5, the sqlite3 shell) writes rows and counts behind our back.
      yield* Effect.sync(() => {
        const db = new DatabaseSync(join(dir, "nerve.db"))
        db.prepare("UPDATE thread_round_counts SET rounds = 7 WHERE ref_id = 'r-done'").run()
        db.prepare("INSERT INTO logs (source, type, ref_id, payload, timestamp) VALUES ('workflow', 'thread_workflow_message', 'r-new', ?, 1)")
          .run(JSON.stringify({ role: "user", content: "hi" }))
        db.close()
      })
      const checked = yield* cli(["--data-dir", dir, "--json", "db", "check"])
      assert.strictEqual(checked.code, 1, checked.stderr)
      const report = decodeJson(CliOutput.DbCheck, checked.stdout)
      assert.isFalse(report.ok)
      assert.deepStrictEqual(report.roundCounts, [{ runId: "r-done", stored: 7, actual: 3 }, { runId: "r-new", stored: 0, actual: 1 }])
      assert.strictEqual(report.problems.filter((line) => line.includes("`nerve-store db upgrade` recounts them")).length, 2)
      const human = yield* cli(["--data-dir", dir, "db", "check"])
      assert.match(human.stdout, /\nRUN\s+STORED\s+ROUNDS IN ROWS\nr-done\s+7\s+3\nr-new\s+0\s+1\n/)
      assert.match(human.stdout, /run r-done: stored round count 7, its rows hold 3 rounds/)

      const upgraded = decodeJson(CliOutput.DbUpgrade, (yield* cli(["--data-dir", dir, "--json", "db", "upgrade"])).stdout)
      assert.deepStrictEqual(upgraded, { from: report.latestSchemaVersion, to: report.latestSchemaVersion, roundCountsRepaired: 2 })
      const after = decodeJson(CliOutput.DbCheck, (yield* cli(["--data-dir", dir, "--json", "db", "check"])).stdout)
      assert.deepStrictEqual([after.ok, after.roundCounts], [true, []])
      assert.match((yield* cli(["--data-dir", dir, "db", "check"])).stdout, /\nround counts: all match their rows\n/)
      assert.match((yield* cli(["--data-dir", dir, "db", "upgrade"])).stdout, /is at schema version \d+: nothing to do\n$/)
    }))

  it.live("blobs put streams a file or stdin and prints the digest; get -o writes a file; gc --live removes the rest", () =>
    Effect.gen(function*() {
      const dir = makeTempDir("nerve-cli-blobs-")
      const file = join(dir, "input.bin")
      const bytes = Buffer.alloc(300_000, 7)
      yield* Effect.sync(() => writeFileSync(file, bytes))
      // Writing commands never create a data directory (issue 18 item 5): `db init` does.
      assert.strictEqual((yield* cli(["--data-dir", join(dir, "data"), "db", "init"])).code, 0)
      const fromFile = yield* cli(["--data-dir", join(dir, "data"), "blobs", "put", file])
      assert.strictEqual(fromFile.code, 0, fromFile.stderr)
      const digest = fromFile.stdout.trim()
      assert.strictEqual(digest, createHash("sha256").update(bytes).digest("hex"))
      const fromStdin = decodeJson(CliOutput.BlobPut, (yield* cli(["--data-dir", join(dir, "data"), "--json", "blobs", "put", "-"], { input: "hello" })).stdout)
      assert.strictEqual(fromStdin.size, 5)
      const out = join(dir, "out.bin")
      const got = yield* cli(["--data-dir", join(dir, "data"), "blobs", "get", digest, "-o", out])
      assert.strictEqual(got.code, 0, got.stderr)
      assert.isTrue(Buffer.compare(readFileSync(out), bytes) === 0)
      const live = join(dir, "live.txt")
      yield* Effect.sync(() => writeFileSync(live, `# keep the big one\n${digest}\n\n`))
      const gc = decodeJson(GcResult, (yield* cli(["--data-dir", join(dir, "data"), "--json", "blobs", "gc", "--live", live])).stdout)
      assert.deepStrictEqual([...gc.removedBlobs], [fromStdin.digest])
    }))

  it.live("a corrupt blob: get exits non-zero and removes the partial -o file; verify --dry-run reports it, verify quarantines it", () =>
    Effect.gen(function*() {
      const dir = makeTempDir("nerve-cli-corrupt-")
      const { digest } = yield* Effect.promise(() => seed(dir))
      const path = join(dir, "blobs", digest.slice(0, 2), digest.slice(2))
      yield* Effect.sync(() => {
        chmodSync(path, 0o600)
        writeFileSync(path, "tampered")
      })
      const out = join(dir, "out.txt")
      const got = yield* cli(["--data-dir", dir, "blobs", "get", digest, "-o", out])
      assert.strictEqual(got.code, 1)
      assert.match(got.stderr, new RegExp(`^nerve-store: blob ${digest} is corrupt: .*\\n$`))
      assert.isFalse(existsSync(out))
      const dry = yield* cli(["--data-dir", dir, "--json", "blobs", "verify", "--all", "--dry-run"])
      assert.strictEqual(dry.code, 1)
      assert.strictEqual(decodeJson(CliOutput.BlobVerify, dry.stdout).report.totals.mismatch, 1)
      assert.isTrue(existsSync(path))
      const real = yield* cli(["--data-dir", dir, "blobs", "verify", digest])
      assert.strictEqual(real.code, 1)
      assert.match(real.stdout, /1 checked: 0 ok \(0 B\), 1 corrupt, 0 unreadable\n$/)
      assert.strictEqual(real.stderr, "nerve-store: 1 of 1 blob(s) failed verification\n")
      assert.isFalse(existsSync(path))
    }))

  it.live("runs show and db stats show a live daemon's owner and lease; runs recover takes only runs whose owner is gone", () =>
    Effect.gen(function*() {
      const dir = makeTempDir("nerve-cli-recover-")
      yield* Effect.promise(() => seed(dir))
      // A daemon of another process holds `held`; the seed's stack is gone, so `r-active` is orphaned.
      const holder = yield* Effect.acquireRelease(
        Effect.sync(() => watchSpawn(spawn(process.execPath, ["--conditions=source", join(import.meta.dirname, "holder.ts"), dir, "daemon-x", "held"], { stdio: ["ignore", "pipe", "pipe"] }))),
        (child) => Effect.sync(() => child.kill("SIGKILL"))
      )
      yield* Effect.promise(() => waitForLine(holder, "ready"))
      const shown = decodeJson(CliOutput.RunShow, (yield* cli(["--data-dir", dir, "--json", "runs", "show", "held"])).stdout)
      assert.strictEqual(shown.lease?.owner, "daemon-x")
      assert.isFalse(shown.lease?.expired)
      assert.isAbove(shown.lease?.expiresAt ?? 0, Date.now())
      const human = yield* cli(["--data-dir", dir, "runs", "show", "held"])
      assert.match(human.stdout, new RegExp(`^owner:\\s+daemon-x \\(boot ${shown.lease?.boot}\\), lease ends .* \\(in [^)]+\\)$`, "m"))
      assert.match((yield* cli(["--data-dir", dir, "runs", "show", "r-done"])).stdout, /^owner:\s+- \(no lease\)$/m)

      const stats = decodeJson(CliOutput.DbStats, (yield* cli(["--data-dir", dir, "--json", "db", "stats"])).stdout)
      assert.deepStrictEqual(stats.owners.map((o) => [o.owner, o.runs]), [["daemon-x", 1]])
      const humanStats = yield* cli(["--data-dir", dir, "db", "stats"])
      assert.match(humanStats.stdout, /\nOWNER\s+RUNS\s+LEASE ENDS\ndaemon-x\s+1\s+\d{4}-.* \(in [^)]+\)\n?$/)

      const recovered = decodeJson(CliOutput.RunsRecover, (yield* cli(["--data-dir", dir, "--json", "runs", "recover"])).stdout)
      assert.deepStrictEqual(recovered.recovered.map((r) => [r.runId, r.status]), [["r-active", "crashed"]])
      const queued = yield* cli(["--data-dir", dir, "runs", "recover", "--include-queued"])
      assert.match(queued.stdout, /^recovered 1 orphaned run\(s\):\nRUN .*\nr-queued\s+deploy\s+interrupted /)
      assert.strictEqual((yield* cli(["--data-dir", dir, "runs", "recover", "--include-queued"])).stdout, "no orphaned runs\n")
      const held = decodeJson(CliOutput.RunShow, (yield* cli(["--data-dir", dir, "--json", "runs", "show", "held"])).stdout)
      assert.strictEqual(held.run.status, "started")
    }))
})
