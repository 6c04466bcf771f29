/**
 * The lease-control members of the SQLite repository (issue 16): `leases`, `deleteLease`,
 * `claimQueued` and the owner boots. Each write is one synchronous `BEGIN IMMEDIATE` step, so a
 * claim or a registration is decided and written under one write lock: two processes never
 * claim one run, nor register one owner name, twice.
 *
 * @since 0.8.0
 */
import { Effect, Option, Result } from "effect"
import type { CorruptRow } from "../../schema/Errors.ts"
import type { WorkflowRun } from "../../schema/WorkflowRun.ts"
import type { OwnerBoot } from "../domain/Lease.ts"
import type { LogRepositoryShape } from "../seam/LogRepository.ts"
import * as LeaseSql from "./LeaseSql.ts"
import * as LogSql from "./LogSql.ts"
import type { SqliteShape } from "./Sqlite.ts"

/** The members of {@link LogRepositoryShape} this module answers. */
export type LeaseMembers = Pick<LogRepositoryShape, "leases" | "deleteLease" | "claimQueued" | "registerBoot" | "renewBoot" | "releaseBoot">

/** The lease-control members over `sql`. */
export const make = (sql: SqliteShape): LeaseMembers => ({
  leases: (operation, owner) =>
    Effect.flatMap(
      sql.sync(operation, (connection) =>
        owner === undefined ? connection.all(LeaseSql.SELECT_LEASES) : connection.all(LeaseSql.SELECT_OWNER_LEASES, [owner])),
      (rows) => LogSql.decodeAll(rows, LogSql.decodeLeaseRow, LogSql.byRunId)
    ),

  deleteLease: (operation, runId, owner) =>
    sql.sync(operation, (connection) => connection.run(LeaseSql.DELETE_OWN_LEASE, [runId, owner.name, owner.boot]).changes > 0),

  claimQueued: (operation, request) =>
    Effect.clockWith((clock) =>
      sql.syncTransaction(operation, (connection) => {
        const now = clock.currentTimeMillisUnsafe()
        const terms = request.terms(now)
        const { name, boot } = request.owner
        const rows = connection.all(LeaseSql.SELECT_CLAIMABLE, [request.workflow ?? null, name, boot, terms.deadBefore, request.limit])
        const claimed: Array<WorkflowRun> = []
        for (const row of rows) {
          const decoded = LogSql.decodeRunRow(row, () => LogSql.byRunId(row))
          if (Result.isFailure(decoded)) continue
          connection.run(LogSql.UPSERT_LEASE, [decoded.success.runId, name, boot, terms.expiresAt])
          claimed.push(decoded.success)
        }
        return claimed
      })
    ),

  registerBoot: (operation, owner, where, isLive) =>
    Effect.clockWith((clock) =>
      Effect.flatMap(
        sql.syncTransaction(operation, (connection): Result.Result<Option.Option<OwnerBoot>, CorruptRow> => {
          const now = clock.currentTimeMillisUnsafe()
          const row = connection.get(LeaseSql.SELECT_BOOT, [owner.name])
          if (row !== undefined) {
            const stored = LeaseSql.decodeBootRow(row, () => owner.name)
            if (Result.isFailure(stored)) return Result.fail(stored.failure)
            if (stored.success.boot !== owner.boot && isLive(stored.success, now)) return Result.succeed(Option.some(stored.success))
          }
          connection.run(LeaseSql.UPSERT_BOOT, [owner.name, owner.boot, now, where.renewalMs, where.host, where.pid])
          return Result.succeed(Option.none())
        }),
        Effect.fromResult
      )
    ),

  renewBoot: (operation, owner, renewedAt) =>
    sql.sync(operation, (connection) => connection.run(LeaseSql.RENEW_BOOT, [renewedAt, owner.name, owner.boot]).changes > 0),

  releaseBoot: (operation, owner) =>
    sql.sync(operation, (connection) => {
      connection.run(LeaseSql.DELETE_BOOT, [owner.name, owner.boot])
    })
})
