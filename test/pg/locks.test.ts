// Issue 16's locking on PostgreSQL at the storage seam: a claimer skips runs another claimer's
// open transaction holds instead of waiting for it (FOR UPDATE SKIP LOCKED), and of two boots
// registering one owner name at once exactly one wins (the advisory lock on the name); a fenced
// insert reads the run only once another transaction writing it has committed. No timed
// assertions: a claimer that waited would wait for a transaction the test only ends after it.
import { assert, describe, it } from "@effect/vitest"
import { Deferred, Duration, Effect, Fiber, Layer, Option, Result } from "effect"
import * as LogRepositoryPg from "../../src/pg/LogRepositoryPg.ts"
import { PgDatabase } from "../../src/pg/PgDatabase.ts"
import { LogRepository } from "../../src/seam/LogRepository.ts"
import { freshPgDatabase } from "../support/pgDatabase.ts"
import { emptyPgDatabase } from "../support/pgStore.ts"

const database = freshPgDatabase()
const layer = () => Layer.provideMerge(LogRepositoryPg.layer, emptyPgDatabase(database, 4))
const terms = (now: number) => ({ expiresAt: now + 30_000, deadBefore: null })

describe("PostgreSQL locks of issue 16", () => {
  it.live("a claimer skips the runs another claimer's open transaction holds, without waiting for it", () =>
    Effect.gen(function*() {
      const repository = yield* LogRepository
      const { sql } = yield* PgDatabase
      yield* sql`INSERT INTO workflow_runs (run_id, workflow, status, timestamp) VALUES ('a', 'w', 'queued', 1), ('b', 'w', 'queued', 2)`
      const claimedA = yield* Deferred.make<ReadonlyArray<string>>()
      const release = yield* Deferred.make<void>()
      const first = yield* Effect.forkChild(repository.transaction(Effect.gen(function*() {
        const runs = yield* repository.claimQueued("test", { limit: 1, owner: { name: "one", boot: "1" }, terms })
        yield* Deferred.succeed(claimedA, runs.map((run) => run.runId))
        yield* Deferred.await(release)
      })))
      assert.deepStrictEqual(yield* Deferred.await(claimedA), ["a"])
      // "a" is locked by the open transaction (its lease not committed yet): skipped, not waited for.
      const second = yield* repository.claimQueued("test", { limit: 2, owner: { name: "two", boot: "1" }, terms })
      assert.deepStrictEqual(second.map((run) => run.runId), ["b"])
      yield* Deferred.succeed(release, undefined)
      yield* Fiber.join(first)
      const leases = yield* repository.leases("test", undefined)
      assert.deepStrictEqual(leases.map((lease) => [lease.runId, lease.owner]), [["a", "one"], ["b", "two"]])
      // Both leases are live and neither owner's earlier boot: nothing is left to claim.
      assert.deepStrictEqual(yield* repository.claimQueued("test", { limit: 2, owner: { name: "three", boot: "1" }, terms }), [])
    }).pipe(Effect.provide(layer())))

  it.live("of two boots registering one owner name at once, exactly one wins", () =>
    Effect.gen(function*() {
      const repository = yield* LogRepository
      const where = { renewalMs: 10_000, host: "h", pid: 1 }
      for (let round = 0; round < 10; round++) {
        const name = `daemon-${round}`
        const results = yield* Effect.all(
          ["b1", "b2", "b3"].map((boot) => repository.registerBoot("test", { name, boot }, where, () => true)),
          { concurrency: "unbounded" }
        )
        assert.strictEqual(results.filter(Option.isNone).length, 1, `round ${round}: one registration wins`)
      }
    }).pipe(Effect.provide(layer())))

  it.live("a fenced insert waits for the transaction writing its run and judges the committed run", () =>
    Effect.gen(function*() {
      const repository = yield* LogRepository
      const { sql } = yield* PgDatabase
      yield* sql`INSERT INTO workflow_runs (run_id, workflow, status, timestamp) VALUES ('r', 'w', 'started', 1)`
      const updated = yield* Deferred.make<void>()
      const commit = yield* Deferred.make<void>()
      // Another writer finishes the run in a transaction it keeps open until told.
      const writer = yield* Effect.forkChild(sql.withTransaction(Effect.gen(function*() {
        yield* sql`UPDATE workflow_runs SET status = 'completed' WHERE run_id = 'r'`
        yield* Deferred.succeed(updated, undefined)
        yield* Deferred.await(commit)
      })))
      yield* Deferred.await(updated)
      const row = { source: "workflow", type: "thread.message", refId: "r", payload: "{}", timestamp: 2 }
      const fenced = yield* Effect.forkChild(Effect.result(repository.insertChecked("test", "r", (stored) =>
        stored.run?.status === "started" ? Result.succeed(row) : Result.fail(stored.run?.status ?? "missing"))))
      // The fenced insert is waiting for the writer's row lock (it must not read the run before that).
      const deadline = Date.now() + 60_000
      while (true) {
        const waiting = yield* sql<{ n: number }>`SELECT count(*)::int AS n FROM pg_stat_activity
          WHERE datname = current_database() AND wait_event_type = 'Lock'`
        if ((waiting[0]?.n ?? 0) > 0) break
        if (Date.now() > deadline) return yield* Effect.die(new Error("the fenced insert never waited for the run's lock"))
        yield* Effect.sleep(Duration.millis(10))
      }
      yield* Deferred.succeed(commit, undefined)
      yield* Fiber.join(writer)
      const result = yield* Fiber.join(fenced)
      assert.deepStrictEqual(Result.isFailure(result) ? result.failure : result, "completed")
      const rows = yield* sql<{ n: number }>`SELECT count(*)::int AS n FROM logs`
      assert.strictEqual(rows[0]?.n, 0)
    }).pipe(Effect.provide(layer())))
})
