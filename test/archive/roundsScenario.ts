// The archive and restore of days with thread rows, checked against the SPEC's rule for role
// rounds (the pure model in src/domain/ThreadLog.ts) after every step: shared by the contract
// suite (public API only) and the storage suite, which adds a check of the stored counts.
import { assert } from "@effect/vitest"
import { Effect } from "effect"
import * as ThreadLog from "../../src/domain/ThreadLog.ts"
import { LogArchive, LogStore, utcDayStartMs } from "../../src/index.ts"

const NOW = Date.UTC(2024, 2, 31, 12)
const at = (day: string, offsetMs = 0) => utcDayStartMs(day) + offsetMs

/** Runs the scenario; `checkStorage` runs after each check of the counts. */
export const roundCountsFollowRows = <E, R>(checkStorage: Effect.Effect<void, E, R>) =>
  Effect.gen(function*() {
    const archive = yield* LogArchive
    const log = yield* LogStore
    const thread = (refId: string, timestamp: number, payload: unknown, type = ThreadLog.THREAD_MESSAGE_TYPE) => ({
      source: "workflow",
      type,
      refId,
      payload: typeof payload === "string" ? payload : JSON.stringify(payload),
      timestamp
    })
    const say = (content: string) => ({ role: "user", content })
    yield* log.appendMany([
      thread("a", at("2024-01-01", 1), { type: "thread_start" }, ThreadLog.THREAD_EVENT_TYPE),
      thread("a", at("2024-01-01", 2), say("a1")),
      thread("b", at("2024-01-01", 3), say("b1")),
      thread("a", at("2024-01-01", 4), "{bad json"),
      thread("a", at("2024-01-01", 5), { type: "tool" }, ThreadLog.THREAD_EVENT_TYPE),
      { source: "daemon", type: "tick", refId: "a", payload: "{}", timestamp: at("2024-01-01", 6) },
      thread("a", at("2024-01-02", 1), say("a3")),
      thread("a", at("2024-01-02", 2), say("a4")),
      // Back-dated: inside the id range of 2024-01-01's rows, but of 2024-01-02.
      thread("b", at("2024-01-02", 3), say("b2")),
      thread("b", at("2024-01-01", 7), say("b3")),
      thread("a", at("2024-03-30", 1), say("a5"))
    ])
    /** Each run's count and pages against the SPEC's rule over the rows SQLite holds now. */
    const expectCounts = (expected: Record<string, number>) =>
      Effect.gen(function*() {
        for (const [runId, count] of Object.entries(expected)) {
          const rows = yield* log.query({ refId: runId, source: "workflow", limit: 1_000 })
          assert.strictEqual(ThreadLog.numberRounds(rows).length, count, `the model's count of ${runId}`)
          assert.strictEqual(yield* log.threadRoundCount(runId), count, `count of ${runId}`)
          for (const params of [{ before: 0, limit: 10 }, { before: 0, limit: 1 }, { before: 2, limit: 10 }, { before: count, limit: 1 }]) {
            assert.deepStrictEqual(yield* log.threadRounds(runId, params), ThreadLog.threadRounds(rows, params), `${runId} ${JSON.stringify(params)}`)
          }
        }
        yield* checkStorage
      })
    yield* expectCounts({ a: 5, b: 3 })
    const first = yield* archive.archive({ now: NOW, maxDays: 1 })
    assert.deepStrictEqual(first.days.map((d) => [d.day, d.rowCount]), [["2024-01-01", 7]])
    yield* expectCounts({ a: 3, b: 1 })
    yield* archive.archive({ now: NOW })
    yield* expectCounts({ a: 1, b: 0 })
    yield* archive.restore("2024-01-02")
    yield* expectCounts({ a: 3, b: 1 })
    yield* archive.restore("2024-01-01")
    yield* expectCounts({ a: 5, b: 3 })
    // Every row is there already: the restore inserts nothing and counts nothing.
    const again = yield* archive.restore("2024-01-01")
    assert.deepStrictEqual([again.restored, again.skipped], [0, 7])
    yield* expectCounts({ a: 5, b: 3 })
    const forced = yield* archive.archive({ now: NOW, includeRestored: true })
    assert.deepStrictEqual(forced.days.map((d) => d.day), ["2024-01-01", "2024-01-02"])
    yield* expectCounts({ a: 1, b: 0 })
  })
