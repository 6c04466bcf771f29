// Issue 18 items 7 and 10 and "wanted": lists say when they are cut and page with --cursor; a
// bare `logs query` shows the newest rows; `runs show` explains a missing trigger; a bare
// `archive` only previews; `runs list` shows owner and lease; `runs cancel` / `runs retry`;
// `logs tail --follow` takes the filters of `logs query`.
import { assert, beforeAll, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { type ChildProcess, spawn } from "node:child_process"
import { join } from "node:path"
import { CliOutput, LogEntry, LogStore } from "../../src/index.ts"
import { NerveStoreLive } from "../../layers/index.ts"
import { waitForLine } from "../support/child.ts"
import { makeTempDir } from "../support/tempDir.ts"
import { cli, decodeJson, decodeJsonLines, fingerprint, lines, MAIN } from "./run.ts"
import { appendLate, DAY_MS } from "./seed.ts"
import { NO_TRIGGER_RUN, RUNS, seedOperator } from "./seedOperator.ts"

let dataDir = ""

beforeAll(async () => {
  dataDir = join(makeTempDir("nerve-cli-operator-"), "data")
  await seedOperator(dataDir)
})

const spawnChild = (args: ReadonlyArray<string>) =>
  Effect.acquireRelease(
    Effect.sync(() => spawn(process.execPath, ["--conditions=source", ...args], { stdio: ["ignore", "pipe", "pipe"] })),
    (child) => Effect.sync(() => child.kill("SIGKILL"))
  )

/** Resolves with the first `count` lines the child prints (fails if it exits or cannot start). */
const firstLines = (child: ChildProcess, count: number): Promise<ReadonlyArray<string>> =>
  new Promise((resolve, reject) => {
    let buffer = ""
    child.stdout?.on("data", (chunk: Buffer) => {
      buffer += chunk.toString()
      const done = buffer.split("\n").slice(0, -1)
      if (done.length >= count) resolve(done.slice(0, count))
    })
    child.on("error", reject)
    child.on("exit", (code) => reject(new Error(`exited (${code}) after ${JSON.stringify(buffer)}`)))
  })

describe("an operator's listing and moves", () => {
  it.live("runs list says when it is cut and pages with --cursor; the pages hold every run once", () =>
    Effect.gen(function*() {
      const first = yield* cli(["--data-dir", dataDir, "runs", "list"])
      assert.strictEqual(first.code, 0, first.stderr)
      assert.strictEqual(lines(first.stdout).length, 51)
      const cursor = /--cursor (\S+) for more\n$/.exec(first.stderr)?.[1] ?? ""
      assert.strictEqual(first.stderr, `50 of ${RUNS + 2} runs; --limit or --cursor ${cursor} for more\n`)
      const page1 = decodeJson(CliOutput.RunsList, (yield* cli(["--data-dir", dataDir, "--json", "runs", "list"])).stdout)
      assert.deepStrictEqual([page1.runs.length, page1.total, page1.nextCursor], [50, RUNS + 2, cursor])
      const page2 = decodeJson(CliOutput.RunsList, (yield* cli(["--data-dir", dataDir, "--json", "runs", "list", "--cursor", cursor])).stdout)
      assert.deepStrictEqual([page2.runs.length, page2.nextCursor], [RUNS + 2 - 50, null])
      assert.strictEqual(new Set([...page1.runs, ...page2.runs].map((r) => r.runId)).size, RUNS + 2)
    }))

  it.live("a bare logs query shows the newest rows (oldest of them first), says it is cut, and pages back with --cursor", () =>
    Effect.gen(function*() {
      const all = decodeJsonLines(LogEntry, (yield* cli(["--data-dir", dataDir, "--json", "logs", "query", "--order", "asc", "--limit", "1000"])).stdout)
      const newest = yield* cli(["--data-dir", dataDir, "--json", "logs", "query", "--limit", "5"])
      assert.deepStrictEqual(decodeJsonLines(LogEntry, newest.stdout).map((r) => r.id), all.slice(-5).map((r) => r.id))
      assert.strictEqual(newest.stderr, "")
      const cursor = all.at(-5)?.id
      const human = yield* cli(["--data-dir", dataDir, "logs", "query", "--limit", "5"])
      assert.deepStrictEqual(lines(human.stdout).map((line) => Number(line.trim().split(" ")[0])), all.slice(-5).map((r) => r.id))
      assert.strictEqual(human.stderr, `5 rows shown, older rows match; --limit or --cursor ${cursor} for more\n`)
      const older = decodeJsonLines(LogEntry, (yield* cli(["--data-dir", dataDir, "--json", "logs", "query", "--limit", "5", "--cursor", String(cursor)])).stdout)
      assert.deepStrictEqual(older.map((r) => r.id), all.slice(-10, -5).map((r) => r.id))
    }))

  it.live("runs show: a started row that is JSON but not a trigger is 'none' by the SPEC's rule, and its payload is shown", () =>
    Effect.gen(function*() {
      const shown = decodeJson(CliOutput.RunShow, (yield* cli(["--data-dir", dataDir, "--json", "runs", "show", NO_TRIGGER_RUN])).stdout)
      assert.deepStrictEqual([shown.trigger, shown.startedPayload], [null, `{"workflowInput":{"branch":"main"}}`])
      const human = yield* cli(["--data-dir", dataDir, "runs", "show", NO_TRIGGER_RUN])
      assert.match(human.stdout, /\nTrigger:\nnone: the started row's payload has no prompt and maxRounds \(SPEC §Log conventions\)\n {2}payload: \{"workflowInput":\{"branch":"main"\}\}\n/)
    }))

  it.live("a bare archive previews and writes nothing; --yes archives", () =>
    Effect.gen(function*() {
      yield* Effect.promise(() => appendLate(dataDir, Date.now() - 40 * DAY_MS))
      const before = fingerprint(dataDir)
      const bare = yield* cli(["--data-dir", dataDir, "archive"])
      assert.strictEqual(bare.code, 0, bare.stderr)
      assert.match(bare.stdout, /\(preview: 1 day\(s\) would be archived; nothing was written; add --yes to archive them\)\n$/)
      assert.strictEqual(fingerprint(dataDir), before)
      const done = decodeJson(CliOutput.ArchiveRun, (yield* cli(["--data-dir", dataDir, "--json", "archive", "--yes"])).stdout)
      assert.strictEqual(done.archived.length, 1)
    }))

  it.live("runs list shows a live daemon's owner and lease; cancel is refused for its run, retry needs crashed or interrupted", () =>
    Effect.gen(function*() {
      const holder = yield* spawnChild([join(import.meta.dirname, "holder.ts"), dataDir, "daemon-x", "held"])
      yield* Effect.promise(() => waitForLine(holder, "ready"))
      const listed = decodeJson(CliOutput.RunsList, (yield* cli(["--data-dir", dataDir, "--json", "runs", "list", "--status", "started"])).stdout)
      assert.strictEqual(listed.leases.find((l) => l.runId === "held")?.lease?.owner, "daemon-x")
      const human = yield* cli(["--data-dir", dataDir, "runs", "list", "--status", "started"])
      assert.match(human.stdout, /^RUN\s+WORKFLOW\s+STATUS\s+EXIT\s+UPDATED\s+OWNER\s+LEASE\n/)
      assert.match(human.stdout, /\nheld\s+hold\s+started\s+-\s+\S+ \S+\s+.* ago\s+daemon-x\s+ends in \d+s\n/)

      const leased = yield* cli(["--data-dir", dataDir, "runs", "cancel", "held"])
      assert.strictEqual(leased.code, 1)
      assert.include(leased.stderr, "daemon-x")
      const cancelled = decodeJson(CliOutput.RunMoved, (yield* cli(["--data-dir", dataDir, "--json", "runs", "cancel", "r-001"])).stdout)
      assert.deepStrictEqual([cancelled.from, cancelled.run.status], ["queued", "killed"])
      const again = yield* cli(["--data-dir", dataDir, "runs", "retry", "r-001"])
      assert.strictEqual(again.code, 2)
      assert.include(again.stderr, "run r-001 is killed: only crashed or interrupted runs can be retried")
      // The seed's stack is gone, so its started run is orphaned: recover makes it crashed, retry queues it.
      yield* cli(["--data-dir", dataDir, "runs", "recover"])
      const retried = yield* cli(["--data-dir", dataDir, "runs", "retry", NO_TRIGGER_RUN])
      assert.strictEqual(retried.code, 0, retried.stderr)
      assert.match(retried.stdout, new RegExp(`^run ${NO_TRIGGER_RUN}: crashed -> queued\\n`))
      const history = decodeJson(CliOutput.RunShow, (yield* cli(["--data-dir", dataDir, "--json", "runs", "show", NO_TRIGGER_RUN])).stdout).history
      assert.deepStrictEqual(history.map((t) => t.to), ["started", "crashed", "queued"])
    }).pipe(Effect.scoped))

  it.live("logs tail --follow takes the filters of logs query", () =>
    Effect.gen(function*() {
      const tail = yield* spawnChild([MAIN, "--data-dir", dataDir, "--json", "logs", "tail", "-f", "-n", "1", "--source", "tool", "--ref", "with-ref"])
      const seen = firstLines(tail, 2)
      seen.catch(() => undefined)
      // Wait for the first (old) line, then write rows that do not match before one that does.
      yield* Effect.promise(() => firstLines(tail, 1))
      yield* Effect.promise(() =>
        Effect.runPromise(Effect.gen(function*() {
          const log = yield* LogStore
          yield* log.append({ source: "tool", type: "output", refId: "other-ref" })
          yield* log.append({ source: "daemon", type: "output", refId: "with-ref" })
          yield* log.append({ source: "tool", type: "followed", refId: "with-ref" })
        }).pipe(Effect.provide(NerveStoreLive({ dataDir }))))
      )
      const lines2 = yield* Effect.promise(() => seen)
      const rows = lines2.map((line) => decodeJson(LogEntry, line))
      assert.deepStrictEqual(rows.map((r) => [r.source, r.type, r.refId]), [["tool", "output", "with-ref"], ["tool", "followed", "with-ref"]])
    }).pipe(Effect.scoped))
})
