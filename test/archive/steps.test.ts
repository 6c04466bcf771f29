// Issue 19 item 9: archiving a large day must not hold the event loop for a whole day's DELETE.
// The rows go in bounded steps (one transaction each) with a turn of the event loop between them,
// and the SPEC's safety rules hold across steps: a crash between two steps leaves every row in
// SQLite or in the complete day file and a re-run finishes; a restore between two steps stops the
// deleting. No timing is measured: the steps are counted through a wrapped connection. The first
// test runs on the live clock: under TestClock the steps do not yield (src/seam/Steps.ts).
import { assert, describe, it } from "@effect/vitest"
import { Effect, Stream } from "effect"
import { ArchiveFaultHook } from "../../src/archive/FaultHook.ts"
import { DayFiles } from "../../src/archive/DayFileStore.ts"
import { make as makeLogArchive } from "../../src/archive/LogArchiveLive.ts"
import { readDayLines } from "../../src/archive/DayFile.ts"
import { LogStore } from "../../src/LogStore.ts"
import * as ThreadRoundCounts from "../../src/sqlite/ThreadRoundCounts.ts"
import * as ArchiveRepositorySqlite from "../../src/sqlite/ArchiveRepositorySqlite.ts"
import { Sqlite, type SqliteShape, type SyncConnection } from "../../src/sqlite/Sqlite.ts"
import { utcDayStartMs } from "../../src/domain/UtcDay.ts"
import { memoryArchiveStack } from "../support/archiveStack.ts"

const NOW = Date.UTC(2024, 2, 31, 12)
const DAY = "2024-01-09"
const ROWS = 20_000
/** The most rows one synchronous step may delete. */
const MAX_STEP_ROWS = 4096

/** One synchronous step that deleted log rows: how many, and how often the event loop had turned before it. */
interface DeleteStep {
  readonly rows: number
  readonly loopTurns: number
}

/**
 * The connection with every synchronous step watched: a step that deletes log rows is recorded
 * with the number of event-loop turns (a self-rescheduling `setImmediate`) seen so far.
 */
const watched = (sql: SqliteShape, steps: Array<DeleteStep>, loopTurns: () => number): SqliteShape => {
  const watch = <A>(body: (connection: SyncConnection) => A) => (connection: SyncConnection): A => {
    let rows = 0
    const result = body({
      ...connection,
      run: (statement, params) => {
        const outcome = connection.run(statement, params)
        if (/^\s*DELETE FROM logs\b/i.test(statement)) rows += outcome.changes
        return outcome
      }
    })
    if (rows > 0) steps.push({ rows, loopTurns: loopTurns() })
    return result
  }
  return {
    ...sql,
    run: (statement, params) => sql.sync("execute", watch((c) => c.run(statement, params))),
    exec: (statement) => /^\s*DELETE FROM logs\b/i.test(statement) ? Effect.die("unwatched DELETE") : sql.exec(statement),
    sync: (operation, body) => sql.sync(operation, watch(body)),
    syncTransaction: (operation, body) => sql.syncTransaction(operation, watch(body))
  }
}

/** Counts event-loop turns while the scope is open. */
const loopTurnCounter = Effect.acquireRelease(
  Effect.sync(() => {
    const state = { turns: 0, handle: undefined as NodeJS.Immediate | undefined }
    const tick = () => {
      state.turns++
      state.handle = setImmediate(tick)
    }
    state.handle = setImmediate(tick)
    return state
  }),
  (state) => Effect.sync(() => state.handle !== undefined && clearImmediate(state.handle))
)

/** A day of `ROWS` rows, every other one a thread message of one of 10 runs. */
const fillDay = Effect.gen(function*() {
  const log = yield* LogStore
  const rows = Array.from({ length: ROWS }, (_, i) =>
    i % 2 === 1
      ? { source: "workflow", type: "thread_workflow_message", refId: `run-${i % 10}`, payload: JSON.stringify({ role: "user", content: `m${i}` }), timestamp: utcDayStartMs(DAY) + i }
      : { source: "daemon", type: "tick", payload: `{"n":${i}}`, timestamp: utcDayStartMs(DAY) + i })
  return (yield* log.appendMany(rows)).map((entry) => entry.id)
})

/** A LogArchive on the watched connection, beside the stack's own. */
const watchedArchive = (steps: Array<DeleteStep>) =>
  Effect.gen(function*() {
    const counter = yield* loopTurnCounter
    const sql = watched(yield* Sqlite, steps, () => counter.turns)
    return yield* makeLogArchive(ArchiveRepositorySqlite.make(sql), yield* DayFiles)
  })

const idsInSqlite = Effect.gen(function*() {
  const sql = yield* Sqlite
  return (yield* sql.all("SELECT id FROM logs ORDER BY id")).map((row) => Number(row.id))
})

/** The ids in the published day files, decoded line by line without trusting the manifest. */
const idsInFiles = Effect.gen(function*() {
  const store = yield* DayFiles
  const ids: Array<number> = []
  for (const file of yield* store.list) {
    ids.push(...(yield* Stream.runCollect(readDayLines(store, file.name))).map((line) => line.entry.id))
  }
  return ids
})

describe("LogArchive deletes a day in bounded steps (issue 19)", () => {
  it.live(`a day of ${ROWS} rows is deleted in steps of at most ${MAX_STEP_ROWS} rows, with the event loop turning between them`, () =>
    Effect.gen(function*() {
      const steps: Array<DeleteStep> = []
      const archive = yield* watchedArchive(steps)
      yield* fillDay
      const result = yield* archive.archive({ now: NOW })
      assert.deepStrictEqual(result.days.map((d) => [d.day, d.rowCount]), [[DAY, ROWS]])
      assert.strictEqual(steps.reduce((n, s) => n + s.rows, 0), ROWS)
      assert.isAbove(steps.length, 1)
      for (const step of steps) assert.isAtMost(step.rows, MAX_STEP_ROWS)
      for (let i = 1; i < steps.length; i++) {
        assert.isAbove(steps[i]?.loopTurns ?? 0, steps[i - 1]?.loopTurns ?? 0, `the event loop did not turn before delete step ${i + 1}`)
      }
      assert.deepStrictEqual(yield* idsInSqlite, [])
      assert.deepStrictEqual(yield* ThreadRoundCounts.mismatches(yield* Sqlite), [])
    }).pipe(Effect.scoped, Effect.provide(memoryArchiveStack())), 120_000)

  it.effect("a crash between two delete steps leaves every row in SQLite or in the complete file, and a re-run finishes", () =>
    Effect.gen(function*() {
      const steps: Array<DeleteStep> = []
      const archive = yield* watchedArchive(steps)
      const ids = yield* fillDay
      const crashed = yield* archive.archive({ now: NOW }).pipe(
        Effect.provideService(ArchiveFaultHook, (stage) => stage === "after-delete-step" ? Effect.die("killed") : Effect.void),
        Effect.exit
      )
      assert.isTrue(crashed._tag === "Failure")
      assert.strictEqual(steps.length, 1)
      const inSqlite = yield* idsInSqlite
      assert.isAbove(inSqlite.length, 0)
      assert.isBelow(inSqlite.length, ROWS)
      // The file is complete: it holds every row, those deleted and those still in SQLite.
      assert.deepStrictEqual(yield* idsInFiles, ids)
      assert.deepStrictEqual(yield* ThreadRoundCounts.mismatches(yield* Sqlite), [])
      const rerun = yield* archive.archive({ now: NOW })
      assert.deepStrictEqual(rerun.days.map((d) => [d.day, d.rowCount, d.lineCount]), [[DAY, inSqlite.length, ROWS]])
      assert.deepStrictEqual(yield* idsInSqlite, [])
      assert.deepStrictEqual(yield* idsInFiles, ids)
      assert.deepStrictEqual(yield* ThreadRoundCounts.mismatches(yield* Sqlite), [])
    }).pipe(Effect.scoped, Effect.provide(memoryArchiveStack())), 120_000)

  it.effect("a restore between two delete steps (another archiver, as another process would be) stops the deleting", () =>
    Effect.gen(function*() {
      const steps: Array<DeleteStep> = []
      const archive = yield* watchedArchive(steps)
      const other = yield* makeLogArchive(ArchiveRepositorySqlite.make(yield* Sqlite), yield* DayFiles)
      const ids = yield* fillDay
      let restored = -1
      const result = yield* archive.archive({ now: NOW }).pipe(
        Effect.provideService(ArchiveFaultHook, (stage) =>
          stage === "after-delete-step" && restored < 0
            ? Effect.map(Effect.orDie(other.restore(DAY)), (r) => void (restored = r.restored))
            : Effect.void)
      )
      assert.strictEqual(steps.length, 1)
      const deletedFirst = steps[0]?.rows ?? 0
      assert.strictEqual(restored, deletedFirst)
      assert.deepStrictEqual(result.days.map((d) => [d.day, d.rowCount]), [[DAY, deletedFirst]])
      // The restore put back what the first step took; the steps after it deleted nothing.
      assert.deepStrictEqual(yield* idsInSqlite, ids)
      assert.deepStrictEqual(yield* ThreadRoundCounts.mismatches(yield* Sqlite), [])
      assert.isNotNull((yield* archive.days())[0]?.restoredAt)
    }).pipe(Effect.scoped, Effect.provide(memoryArchiveStack())), 120_000)
})
