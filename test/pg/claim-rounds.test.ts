// Issue 17: `claimQueued` on PostgreSQL locks claimable runs (FOR UPDATE SKIP LOCKED), re-reads
// them in a new snapshot, and locks again when the re-read drops runs that another claimer leased
// and committed meanwhile, up to MAX_CLAIM_ROUNDS rounds. The race is made deterministic: the
// members are built over a `query` that, just before a re-check runs, commits leases on locked
// runs through a connection of its own (leases live in `run_leases`, so the claimer's row locks on
// `workflow_runs` do not block it), or, just before a lease write, renews the holder's expired
// lease (the write must then leave it to the holder). No timing: each interference commits before
// the statement it precedes starts.
import { assert, describe, it } from "@effect/vitest"
import { Deferred, Duration, Effect, Fiber, Layer } from "effect"
import { isSqlError } from "effect/sql/SqlError"
import type { DatabaseError } from "../../schema/Errors.ts"
import * as LeaseRepositoryPg from "../../src/pg/LeaseRepositoryPg.ts"
import * as PgDatabase from "../../src/pg/PgDatabase.ts"
import { mapSqlError, toDatabaseError } from "../../src/pg/PgError.ts"
import * as PgLeaseSql from "../../src/pg/PgLeaseSql.ts"
import type { PgParam, PgRow } from "../../src/pg/PgLogSql.ts"
import { freshPgDatabase } from "../support/pgDatabase.ts"
import { emptyPgDatabase } from "../support/pgStore.ts"

const database = freshPgDatabase()
const layer = () => Layer.merge(emptyPgDatabase(database, 2), PgDatabase.layerReactivity)
const owner = { name: "claimer", boot: "1" }
const terms = (now: number) => ({ expiresAt: now + 30_000, deadBefore: null })

/** The run ids of a `text[]` literal as `claimQueued` binds them (`{"a","b"}`). */
const idsOf = (literal: PgParam | undefined): ReadonlyArray<string> =>
  JSON.parse(`[${String(literal).slice(1, -1)}]`) as ReadonlyArray<string>

/**
 * The lease members over the test database, with `beforeRecheck(ids, round)` run just before
 * each re-check statement (`round` counts from 0), `beforeLease(runId)` just before each lease
 * write of a claim, and counts of the locking and re-check statements run.
 */
const membersWith = (
  beforeRecheck: (ids: ReadonlyArray<string>, round: number) => Effect.Effect<void, DatabaseError>,
  beforeLease: (runId: string) => Effect.Effect<void, DatabaseError> = () => Effect.void
) =>
  Effect.gen(function*() {
    const db = yield* PgDatabase.PgDatabase
    const { sql } = db
    const counts = { lock: 0, recheck: 0 }
    const query = (operation: string, text: string, params: ReadonlyArray<PgParam> = []) =>
      Effect.gen(function*() {
        if (text === PgLeaseSql.LOCK_CLAIMABLE) counts.lock++
        if (text === PgLeaseSql.RECHECK_CLAIMABLE) yield* beforeRecheck(idsOf(params[4]), counts.recheck++)
        if (text === PgLeaseSql.CLAIM_LEASE) yield* beforeLease(String(params[0]))
        return yield* sql.unsafe<PgRow>(text, params).pipe(mapSqlError(operation))
      })
    const transaction = <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E | DatabaseError, R> =>
      sql.withTransaction(self).pipe(
        Effect.mapError((error) => (isSqlError(error) ? toDatabaseError("transaction")(error) : error))
      ) as Effect.Effect<A, E | DatabaseError, R>
    const members = LeaseRepositoryPg.make({
      query,
      transaction,
      currentSchemaVersion: db.currentSchemaVersion,
      latestSchemaVersion: db.latestSchemaVersion,
      lockWaitMs: Effect.succeed(0)
    })
    return { members, counts, sql }
  })

/** Another client of the test database (its own connection): what it writes commits at once. */
const rivalClient = Effect.suspend(() => Effect.map(PgDatabase.make({ url: database.url(), maxConnections: 1 }), (db) => db.sql))

/** Queues `n` runs `q00`, `q01`, … oldest first. */
const queue = (n: number) =>
  Effect.gen(function*() {
    const { sql } = yield* PgDatabase.PgDatabase
    for (let i = 0; i < n; i++) {
      yield* sql`INSERT INTO workflow_runs (run_id, workflow, status, timestamp) VALUES (${`q${String(i).padStart(2, "0")}`}, 'w', 'queued', ${i + 1})`
    }
  })

describe("claimQueued on PostgreSQL locks again after losing runs to a committed claim", () => {
  it.live("a run leased by another claimer between the lock and the re-check is skipped, and the claim locks again", () =>
    Effect.gen(function*() {
      yield* queue(3)
      const rival = yield* rivalClient
      const interfered: Array<string> = []
      const { members, counts, sql } = yield* membersWith((ids, round) =>
        round > 0 ? Effect.void : Effect.gen(function*() {
          // The first locked run is leased by a rival that commits now (autocommit, own connection).
          const runId = ids[0]!
          interfered.push(runId)
          yield* rival`INSERT INTO run_leases (run_id, owner, boot, expires_at) VALUES (${runId}, 'rival', '1', ${Date.now() + 60_000})`
            .pipe(mapSqlError("rival lease"))
        })
      )
      const claimed = yield* members.claimQueued("test", { limit: 2, owner, terms })
      // Round 1 locked q00, q01 and lost q00 to the rival; round 2 locked q02 (a fresh snapshot skips q00).
      assert.deepStrictEqual(interfered, ["q00"])
      assert.deepStrictEqual(claimed.map((run) => run.runId), ["q01", "q02"])
      assert.deepStrictEqual(counts, { lock: 2, recheck: 2 })
      const leases = yield* sql<{ runId: string; owner: string }>`SELECT run_id AS "runId", owner FROM run_leases ORDER BY run_id`
      assert.deepStrictEqual(leases.map((row) => [row.runId, row.owner]), [["q00", "rival"], ["q01", "claimer"], ["q02", "claimer"]])
    }).pipe(Effect.scoped, Effect.provide(layer())))

  it.live("a claim that loses every locked run in every round stops after MAX_CLAIM_ROUNDS rounds with what it has", () =>
    Effect.gen(function*() {
      const limit = 2
      const queued = LeaseRepositoryPg.MAX_CLAIM_ROUNDS * limit + 3
      yield* queue(queued)
      const rival = yield* rivalClient
      const { members, counts, sql } = yield* membersWith((ids) =>
        Effect.forEach(ids, (runId) =>
          rival`INSERT INTO run_leases (run_id, owner, boot, expires_at) VALUES (${runId}, 'rival', '1', ${Date.now() + 60_000})`
            .pipe(mapSqlError("rival lease")), { discard: true })
      )
      const claimed = yield* members.claimQueued("test", { limit, owner, terms })
      assert.deepStrictEqual(claimed, [])
      assert.deepStrictEqual(counts, { lock: LeaseRepositoryPg.MAX_CLAIM_ROUNDS, recheck: LeaseRepositoryPg.MAX_CLAIM_ROUNDS })
      // The loop ended at its bound, not on an empty queue: runs nobody leased are still there.
      const free = yield* sql<{ n: number }>`SELECT count(*)::int AS n FROM workflow_runs r
        WHERE NOT EXISTS (SELECT 1 FROM run_leases l WHERE l.run_id = r.run_id)`
      assert.strictEqual(free[0]?.n, queued - LeaseRepositoryPg.MAX_CLAIM_ROUNDS * limit)
      // Nothing the claimer did survives as a lease of its own.
      const own = yield* sql<{ n: number }>`SELECT count(*)::int AS n FROM run_leases WHERE owner = 'claimer'`
      assert.strictEqual(own[0]?.n, 0)
    }).pipe(Effect.scoped, Effect.provide(layer())))

  it.live("a holder's renewal that commits after the re-check keeps its lease, and the claim locks again", () =>
    Effect.gen(function*() {
      yield* queue(2)
      const { sql } = yield* PgDatabase.PgDatabase
      // q00 holds an expired lease of a live holder that is slow to renew; q01 is free.
      yield* sql`INSERT INTO run_leases (run_id, owner, boot, expires_at) VALUES ('q00', 'holder', '1', 5)`
      const rival = yield* rivalClient
      const renewed: Array<string> = []
      const { members, counts } = yield* membersWith(
        () => Effect.void,
        (runId) =>
          runId !== "q00" || renewed.length > 0 ? Effect.void : Effect.gen(function*() {
            // The holder renews between the claimer's re-check and its lease write, and commits first.
            renewed.push(runId)
            yield* rival`UPDATE run_leases SET expires_at = ${Date.now() + 60_000} WHERE owner = 'holder' AND boot = '1'`
              .pipe(mapSqlError("holder renewal"))
          })
      )
      const claimed = yield* members.claimQueued("test", { limit: 1, owner, terms: (now) => ({ expiresAt: now + 30_000, deadBefore: now }) })
      assert.deepStrictEqual(renewed, ["q00"])
      assert.deepStrictEqual(claimed.map((run) => run.runId), ["q01"])
      assert.deepStrictEqual(counts, { lock: 2, recheck: 2 })
      const leases = yield* sql<{ runId: string; owner: string }>`SELECT run_id AS "runId", owner FROM run_leases ORDER BY run_id`
      assert.deepStrictEqual(leases.map((row) => [row.runId, row.owner]), [["q00", "holder"], ["q01", "claimer"]])
    }).pipe(Effect.scoped, Effect.provide(layer())))

  it.live("a claim takes an expired lease and one of its own earlier boot through the conditional write, never a live one", () =>
    Effect.gen(function*() {
      yield* queue(4)
      const { sql } = yield* PgDatabase.PgDatabase
      const live = Date.now() + 60_000
      yield* sql`INSERT INTO run_leases (run_id, owner, boot, expires_at)
        VALUES ('q00', 'other', '1', 5), ('q01', 'claimer', '0', ${live}), ('q02', 'other', '1', ${live})`
      const { members, counts } = yield* membersWith(() => Effect.void)
      const claimed = yield* members.claimQueued("test", { limit: 10, owner, terms: (now) => ({ expiresAt: now + 30_000, deadBefore: now }) })
      assert.deepStrictEqual(claimed.map((run) => run.runId), ["q00", "q01", "q03"])
      assert.deepStrictEqual(counts, { lock: 1, recheck: 1 })
      const leases = yield* sql<{ runId: string; owner: string; boot: string }>`SELECT run_id AS "runId", owner, boot FROM run_leases ORDER BY run_id`
      assert.deepStrictEqual(leases.map((row) => [row.runId, row.owner, row.boot]), [
        ["q00", "claimer", "1"], ["q01", "claimer", "1"], ["q02", "other", "1"], ["q03", "claimer", "1"]
      ])
    }).pipe(Effect.scoped, Effect.provide(layer())))

  it.live("a lease write waits for a renewal in progress and, once it commits, leaves the lease to its holder", () =>
    Effect.gen(function*() {
      yield* queue(2)
      const { sql } = yield* PgDatabase.PgDatabase
      yield* sql`INSERT INTO run_leases (run_id, owner, boot, expires_at) VALUES ('q00', 'holder', '1', 5)`
      const rival = yield* rivalClient
      const updated = yield* Deferred.make<void>()
      const commit = yield* Deferred.make<void>()
      // The holder's renewal holds q00's lease row, uncommitted, until told (reads still see it expired).
      const renewal = yield* Effect.forkChild(rival.withTransaction(Effect.gen(function*() {
        yield* rival`UPDATE run_leases SET expires_at = ${Date.now() + 60_000} WHERE owner = 'holder' AND boot = '1'`
        yield* Deferred.succeed(updated, undefined)
        yield* Deferred.await(commit)
      })).pipe(mapSqlError("holder renewal")))
      yield* Deferred.await(updated)
      const { members } = yield* membersWith(() => Effect.void)
      const claim = yield* Effect.forkChild(
        members.claimQueued("test", { limit: 1, owner, terms: (now) => ({ expiresAt: now + 30_000, deadBefore: now }) })
      )
      // The claim's lease write waits for the renewal's row lock (it must not write before it ends).
      const deadline = Date.now() + 60_000
      while (true) {
        const waiting = yield* sql<{ n: number }>`SELECT count(*)::int AS n FROM pg_stat_activity
          WHERE datname = current_database() AND wait_event_type = 'Lock'`
        if ((waiting[0]?.n ?? 0) > 0) break
        if (Date.now() > deadline) return yield* Effect.die(new Error("the claim never waited for the renewal's lock"))
        yield* Effect.sleep(Duration.millis(10))
      }
      yield* Deferred.succeed(commit, undefined)
      yield* Fiber.join(renewal)
      const claimed = yield* Fiber.join(claim)
      assert.deepStrictEqual(claimed.map((run) => run.runId), ["q01"])
      const leases = yield* sql<{ runId: string; owner: string }>`SELECT run_id AS "runId", owner FROM run_leases ORDER BY run_id`
      assert.deepStrictEqual(leases.map((row) => [row.runId, row.owner]), [["q00", "holder"], ["q01", "claimer"]])
    }).pipe(Effect.scoped, Effect.provide(layer())))
})
