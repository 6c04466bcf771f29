/**
 * The issue-16 members of the PostgreSQL repository: lease control, claims, owner boots (each a
 * transaction where it decides), and the reads `followPage`, `countRuns`, `health` (no locks).
 *
 * - `claimQueued` locks the claimable runs with `FOR UPDATE OF r SKIP LOCKED` (claimers never wait
 *   on each other, nor on a transition), reads them again in a new snapshot (a lease another
 *   claimer committed after the locking statement's snapshot is seen), and upserts the leases, in
 *   one transaction: each run goes to exactly one claimer. The upsert takes a stored lease only if
 *   it is still takeable when written, so a holder's renewal that commits after the re-check wins.
 *   A run lost either way makes the claim lock again (up to {@link MAX_CLAIM_ROUNDS} rounds).
 * - `registerBoot` takes a transaction-level advisory lock on the owner name first (a name not
 *   stored yet has no row to lock), so of two registrations of one name exactly one wins.
 *
 * @since 0.9.0
 */
import { Effect, Option, Result } from "effect"
import type { CorruptRow, DatabaseError } from "../../schema/Errors.ts"
import { WorkflowRunStatus } from "../../schema/WorkflowRun.ts"
import type { WorkflowRun } from "../../schema/WorkflowRun.ts"
import type { OwnerBoot } from "../domain/Lease.ts"
import * as LeaseSql from "../sqlite/LeaseSql.ts"
import * as LogSql from "../sqlite/LogSql.ts"
import type { LogRepositoryShape } from "../seam/LogRepository.ts"
import type { StatusCounts } from "../seam/LogRepositoryOps.ts"
import * as PgLeaseSql from "./PgLeaseSql.ts"
import * as PgLogSql from "./PgLogSql.ts"
import type { PgParam, PgRow } from "./PgLogSql.ts"

/** What the members need of the repository being built. */
export interface PgRepositoryContext {
  readonly query: (operation: string, text: string, params?: ReadonlyArray<PgParam>) => Effect.Effect<ReadonlyArray<PgRow>, DatabaseError>
  readonly transaction: <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A, E | DatabaseError, R>
  readonly currentSchemaVersion: Effect.Effect<number, DatabaseError>
  readonly latestSchemaVersion: number
  /** How long the longest lock wait of this stack in progress has lasted (ms; 0 when none). */
  readonly lockWaitMs: Effect.Effect<number>
}

/** The members of {@link LogRepositoryShape} this module answers. */
export type PgLeaseMembers = Pick<
  LogRepositoryShape,
  "leases" | "deleteLease" | "claimQueued" | "registerBoot" | "renewBoot" | "releaseBoot" | "followPage" | "countRuns" | "health"
>

const STATUSES: ReadonlySet<string> = new Set(WorkflowRunStatus.literals)
const byRunId = (row: PgRow) => String(row.runId)
const byId = (row: PgRow) => String(row.id)
const now = Effect.clockWith((clock) => clock.currentTimeMillis)
/** How often one claim locks again after losing runs to claimers that committed meanwhile. */
export const MAX_CLAIM_ROUNDS = 8

/** The members over `context`. */
export const make = (context: PgRepositoryContext): PgLeaseMembers => {
  const { query, transaction } = context
  return {
    leases: (operation, owner) =>
      Effect.flatMap(
        owner === undefined ? query(operation, PgLeaseSql.SELECT_LEASES) : query(operation, PgLeaseSql.SELECT_OWNER_LEASES, [owner]),
        (rows) => LogSql.decodeAll(rows.map(PgLogSql.fromPg), LogSql.decodeLeaseRow, byRunId)
      ),

    deleteLease: (operation, runId, owner) =>
      Effect.map(query(operation, PgLeaseSql.DELETE_OWN_LEASE, [runId, owner.name, owner.boot]), (rows) => rows.length > 0),

    claimQueued: (operation, request) =>
      transaction(Effect.gen(function*() {
        const terms = request.terms(yield* now)
        const { name, boot } = request.owner
        const filter: Array<PgParam> = [request.workflow ?? null, name, boot, terms.deadBefore]
        const claimed: Array<WorkflowRun> = []
        // A run the re-check drops was leased by a claimer that committed meanwhile: lock again
        // (a fresh snapshot skips it), so `[]` means the queue held nothing claimable, not a lost race.
        for (let round = 0; round < MAX_CLAIM_ROUNDS && claimed.length < request.limit; round++) {
          const locked = yield* query(operation, PgLeaseSql.LOCK_CLAIMABLE, [...filter, request.limit - claimed.length])
          if (locked.length === 0) break
          const ids = `{${locked.map((row) => JSON.stringify(String(row.runId))).join(",")}}`
          const rows = yield* query(operation, PgLeaseSql.RECHECK_CLAIMABLE, [...filter, ids])
          let lost = locked.length - rows.length
          for (const row of rows.map(PgLogSql.fromPg)) {
            const decoded = LogSql.decodeRunRow(row, () => byRunId(row))
            if (Result.isFailure(decoded)) continue
            const taken = yield* query(operation, PgLeaseSql.CLAIM_LEASE, [decoded.success.runId, name, boot, terms.deadBefore, terms.expiresAt])
            // No row: its holder renewed the lease after the re-check (committed first): it stays theirs.
            if (taken.length === 0) lost++
            else claimed.push(decoded.success)
          }
          if (lost === 0) break
        }
        return claimed
      })),

    registerBoot: (operation, owner, where, isLive) =>
      transaction(Effect.gen(function*() {
        yield* query(operation, PgLeaseSql.LOCK_OWNER_NAME, [owner.name])
        const found = yield* query(operation, PgLeaseSql.SELECT_BOOT, [owner.name])
        // The time is read after the lock, so a registration that waited judges the stored boot afresh.
        const at = yield* now
        const row = found[0]
        if (row !== undefined) {
          const stored = yield* Effect.fromResult(LeaseSql.decodeBootRow(PgLogSql.fromPg(row), () => owner.name))
          if (stored.boot !== owner.boot && isLive(stored, at)) return Option.some<OwnerBoot>(stored)
        }
        yield* query(operation, PgLeaseSql.UPSERT_BOOT, [owner.name, owner.boot, at, where.renewalMs, where.host, where.pid])
        return Option.none<OwnerBoot>()
      })) as Effect.Effect<Option.Option<OwnerBoot>, CorruptRow | DatabaseError>,

    renewBoot: (operation, owner, renewedAt) =>
      Effect.map(query(operation, PgLeaseSql.RENEW_BOOT, [renewedAt, owner.name, owner.boot]), (rows) => rows.length > 0),

    releaseBoot: (operation, owner) => Effect.asVoid(query(operation, PgLeaseSql.DELETE_BOOT, [owner.name, owner.boot])),

    followPage: (operation, logQuery, limit) => {
      const compiled = PgLeaseSql.compileFollowPage(logQuery, limit)
      return Effect.flatMap(query(operation, compiled.sql, compiled.params), (found) => {
        const rows = found.map(PgLogSql.fromPg)
        const archived = Number(rows[0]?.archived ?? 0)
        const present = rows.filter((row) => row.id !== null && row.id !== undefined)
        return Effect.map(
          LogSql.decodeAll(present, LogSql.decodeLogRow, byId),
          (entries) => ({ rows: entries, archivedThrough: archived })
        )
      })
    },

    countRuns: (operation, filter) => {
      const compiled = PgLeaseSql.compileCountRuns(filter)
      return Effect.map(query(operation, compiled.sql, compiled.params), (rows) => {
        const counts: StatusCounts = {}
        for (const row of rows) {
          const status = String(row.status)
          if (STATUSES.has(status)) (counts as Record<string, number>)[status] = Number(row.n)
        }
        return counts
      })
    },

    health: (_operation) =>
      Effect.gen(function*() {
        const stored = yield* context.currentSchemaVersion
        return {
          schemaVersion: stored,
          knownSchemaVersion: context.latestSchemaVersion,
          readonly: false,
          writable: stored <= context.latestSchemaVersion,
          lockWaitMs: yield* context.lockWaitMs
        }
      })
  }
}
