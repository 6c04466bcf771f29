/**
 * The storage seam of the LogStore: the few calls a backend answers (rows, runs, leases, history,
 * idempotency keys, round counts, meta, with its transaction), in the spirit of effect's
 * `SqlConnection`. The LogStore's `make` (`src/logstore/LogStoreMake.ts`) is written once on top
 * of it, and the rules are the pure functions of `src/domain/`; a backend folder (`src/sqlite/`,
 * `src/pg/`) implements this interface and nothing more.
 *
 * Conventions of every member:
 * - `operation` is the public operation the call serves (`"LogStore.transition"`); a backend names
 *   it in the `DatabaseError` it fails with.
 * - Rows leave the backend decoded (`effect/Schema`); a stored row that does not decode is
 *   `CorruptRow` naming its table and key, except in listings, which report it beside the page
 *   (a legacy row must not block a daemon's start).
 * - A call made inside {@link LogRepositoryShape.transaction} joins it; outside, each write is
 *   atomic on its own.
 * - The backend owns its I/O and its clock reads where a rule needs "now" inside its transaction
 *   (`transition`): a backend whose every call is asynchronous (PostgreSQL: `SELECT … FOR UPDATE`
 *   then the writes, in one transaction) and one that does it in one synchronous step (SQLite)
 *   both hand the stored state to the same `decide`.
 *
 * Room for issue 16 (not built here): `leases({ owner })` is one more read beside `getLease`;
 * `releaseLease(runId)` and lease-lost fencing are `transition`-shaped (read run + lease, decide,
 * write) and reuse it with another planner; `claimQueued` is a read-and-lock of the oldest
 * claimable queued run (`FOR UPDATE SKIP LOCKED` on PostgreSQL) followed by `transition`;
 * `countRuns` is `selectRuns` without rows; `health` is a `ping` member.
 *
 * @since 0.8.0
 */
import { Context, type Effect, type Option, type Result, type Stream } from "effect"
import type { CorruptRow, DatabaseError } from "../../schema/Errors.ts"
import type { LogEntry, LogQuery } from "../../schema/LogEntry.ts"
import type { RunLease, RunTransition, WorkflowRun, WorkflowRunStatus } from "../../schema/WorkflowRun.ts"
import type { StoredKey } from "../domain/Idempotency.ts"
import type { Owner, OwnerBoot } from "../domain/Lease.ts"
import type { Candidate } from "../domain/Orphans.ts"
import type { RoundLogRow, RoundPage } from "../domain/ThreadRounds.ts"
import type { NewLogRow, StoredRun, TransitionPlan } from "../domain/TransitionPlan.ts"
import type { BackendHealth, FollowPage, StatusCounts } from "./LogRepositoryOps.ts"
import type { TransitionResult } from "../LogStore.ts"

/** A stored value a run listing pages by (a legacy row may hold another type than its schema says). */
export type RunKeyValue = string | number | bigint | null | Uint8Array

/**
 * Where a page of a run listing starts: after the run with this `(timestamp, runId)` in listing
 * order (newest first by timestamp, then by run id). A caller's cursor is a decoded run; a stream
 * pages by the stored values of the last row read.
 */
export interface RunKey {
  readonly timestamp: RunKeyValue
  readonly runId: RunKeyValue
}

/** The filters of a run listing. */
export interface RunFilter {
  readonly workflow?: string | undefined
  readonly status?: WorkflowRunStatus | ReadonlyArray<WorkflowRunStatus> | undefined
}

/** One page of a run listing, newest first. */
export interface RunsPage {
  /** The rows that decoded, in listing order. */
  readonly runs: ReadonlyArray<WorkflowRun>
  /** Rows that did not decode (left out of `runs`; the caller logs them). */
  readonly invalid: ReadonlyArray<CorruptRow>
  /** How many rows were read (decoded or not): a full page means there may be more. */
  readonly read: number
  /** The key of the last row read, the cursor of the next page. */
  readonly last: RunKey | undefined
}

/** The active runs `recoverOrphans` looks at, with their leases, oldest first. */
export interface OrphanCandidates {
  readonly candidates: ReadonlyArray<Candidate>
  /** Rows that did not decode (never recovered; the caller logs them). */
  readonly invalid: ReadonlyArray<CorruptRow>
}

/** An idempotency key to store with the result of its write. */
export interface KeyRecord {
  readonly key: string
  readonly operation: string
  /** The request's fingerprint (`domain/Idempotency.fingerprint`). */
  readonly request: string
  /** The result as JSON text. */
  readonly result: string
  readonly createdAt: number
}

/**
 * The decision a transition is written by: given the run and its lease as read inside the
 * transaction, and the time read there, a plan to write or a refusal (nothing written).
 * Synchronous and pure, so a backend may call it inside a synchronous step.
 */
export type Decide<E> = (stored: StoredRun, now: number) => Result.Result<TransitionPlan, E>

/** What a LogStore backend answers. See the module comment for the conventions. */
export interface LogRepositoryShape {
  /** The backend's name (`"sqlite"`, `"postgres"`), for spans and messages. */
  readonly backend: string

  // --- transactions ---
  /**
   * Runs `self` in one write transaction: every repository call inside it commits when it
   * succeeds, none when it fails, dies or is interrupted. Nested calls join the outer one.
   */
  readonly transaction: <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A, E | DatabaseError, R>
  /** Whether the current fiber is inside a `transaction` of this repository. */
  readonly inTransaction: Effect.Effect<boolean>
  /**
   * Where the backend hears of commits that added log rows, its own and other processes' (PostgreSQL:
   * LISTEN/NOTIFY): one element per commit heard (or more; each wakes `follow`), never failing.
   * Absent, `follow` finds other processes' rows by polling only.
   */
  readonly commits?: Stream.Stream<void>

  // --- log rows ---
  /**
   * Inserts `rows` in one transaction (all or none; joins the caller's), in order, and adds their
   * thread rounds to the round counts in the same transaction. Returns the rows with their ids.
   * Group commit batches concurrent appends into one call: make it one multi-row statement where
   * the backend can.
   */
  readonly insertMany: (operation: string, rows: ReadonlyArray<NewLogRow>) => Effect.Effect<ReadonlyArray<LogEntry>, DatabaseError>
  /**
   * Rows matching `query`'s filters (source, type, refId, since, until), after `query.afterId`
   * (before it for `order: "desc"`), by id in `query.order`, at most `limit`.
   */
  readonly selectLogs: (
    operation: string,
    query: LogQuery,
    limit: number
  ) => Effect.Effect<ReadonlyArray<LogEntry>, CorruptRow | DatabaseError>
  /** The highest log id (0 for an empty log): where `follow` starts by default. */
  readonly lastLogId: (operation: string) => Effect.Effect<number, DatabaseError>
  /** The run's thread rows (`source: "workflow"`, a thread type, `refId: runId`), by id. */
  readonly threadRows: (operation: string, runId: string) => Effect.Effect<ReadonlyArray<LogEntry>, CorruptRow | DatabaseError>
  /** The first row (lowest id) with this `refId`, `source` and `type`, if any. */
  readonly firstRow: (
    operation: string,
    match: { readonly refId: string; readonly source: string; readonly type: string }
  ) => Effect.Effect<Option.Option<LogEntry>, CorruptRow | DatabaseError>

  // --- runs and their history ---
  /** The run, if stored. */
  readonly getRun: (operation: string, runId: string) => Effect.Effect<Option.Option<WorkflowRun>, CorruptRow | DatabaseError>
  /** One page of runs matching `filter` after `cursor`, newest first; `limit` -1 = no limit. */
  readonly selectRuns: (
    operation: string,
    filter: RunFilter,
    cursor: RunKey | undefined,
    limit: number
  ) => Effect.Effect<RunsPage, DatabaseError>
  /** The runs in `statuses` with their leases, oldest first (by timestamp, then insertion). */
  readonly orphanCandidates: (
    operation: string,
    statuses: ReadonlyArray<WorkflowRunStatus>
  ) => Effect.Effect<OrphanCandidates, DatabaseError>
  /**
   * One move of a run, in one transaction (joins the caller's): reads the run and its lease
   * (locking the run where the backend can: `SELECT … FOR UPDATE`), reads the time, calls
   * `decide`, and writes its plan: the log row (with its round), the run, the history record
   * pointing at the row, and the lease taken or released. A refusal writes nothing and fails
   * with it. A stored run or lease that does not decode is `CorruptRow`.
   */
  readonly transition: <E>(
    operation: string,
    runId: string,
    decide: Decide<E>
  ) => Effect.Effect<TransitionResult, E | CorruptRow | DatabaseError>
  /** The accepted transitions of a run, oldest first. */
  readonly runHistory: (operation: string, runId: string) => Effect.Effect<ReadonlyArray<RunTransition>, CorruptRow | DatabaseError>

  // --- leases ---
  /** The run's lease, if stored (expired or not). */
  readonly getLease: (operation: string, runId: string) => Effect.Effect<Option.Option<RunLease>, CorruptRow | DatabaseError>
  /** Moves the expiry of every lease `owner` (name and boot) holds to `expiresAt`; how many it renewed. */
  readonly renewLeases: (operation: string, owner: Owner, expiresAt: number) => Effect.Effect<number, DatabaseError>
  /** Deletes every lease `owner` (name and boot) holds (a graceful stop). */
  readonly releaseLeases: (operation: string, owner: Owner) => Effect.Effect<void, DatabaseError>

  // --- idempotency keys ---
  /** Forgets the keys created before `before` (epoch ms). */
  readonly pruneKeys: (operation: string, before: number) => Effect.Effect<void, DatabaseError>
  /** The stored key, if any. */
  readonly findKey: (operation: string, key: string) => Effect.Effect<Option.Option<StoredKey>, DatabaseError>
  /** Stores a key with its result (inside the transaction of the write it keys). */
  readonly storeKey: (operation: string, record: KeyRecord) => Effect.Effect<void, DatabaseError>

  // --- round counts ---
  /** How many role rounds the run has (kept by `insertMany` and `transition`). */
  readonly roundCount: (operation: string, runId: string) => Effect.Effect<number, DatabaseError>
  /**
   * At most `rows` of the run's round rows, newest first, below `page.belowId`, skipping the
   * rounds `>= page.before` (0 = none), each with the run's round count (read in one snapshot).
   */
  readonly roundPage: (
    operation: string,
    runId: string,
    page: RoundPage,
    rows: number
  ) => Effect.Effect<ReadonlyArray<RoundLogRow>, CorruptRow | DatabaseError>

  // --- meta ---
  /** The value stored under `key`, if any. */
  readonly getMeta: (operation: string, key: string) => Effect.Effect<Option.Option<string>, DatabaseError>
  /** Stores `value` under `key` (insert or replace). */
  readonly setMeta: (operation: string, key: string, value: string) => Effect.Effect<void, DatabaseError>

  // --- issue 16: fenced thread writes, follow gaps, counts, health (see LogRepositoryOps.ts) ---
  /**
   * One fenced insert, in one transaction (joins the caller's): reads the run and its lease
   * (locking the run where the backend can, as `transition` does), reads the time, calls `decide`,
   * and inserts the row it returns (adding its thread round to the round counts). A refusal writes
   * nothing and fails with it. No transition of the run may commit between the read and the insert.
   */
  readonly insertChecked: <E>(
    operation: string,
    runId: string,
    decide: (stored: StoredRun, now: number) => Result.Result<NewLogRow, E>
  ) => Effect.Effect<LogEntry, E | CorruptRow | DatabaseError>
  /**
   * `follow`'s read: like `selectLogs` (`order: "asc"`), and, read in the SAME snapshot as the rows,
   * the highest log id moved out of the store by the archive (0 when none; days put back by a
   * restore do not count). A backend must read both consistently (SQLite: one statement;
   * PostgreSQL: one REPEATABLE READ transaction), or a row archived between the two reads is
   * skipped without a `FollowGap`.
   */
  readonly followPage: (operation: string, query: LogQuery, limit: number) => Effect.Effect<FollowPage, CorruptRow | DatabaseError>
  /**
   * How many runs match `filter`, by stored status (statuses that are not a known status are left
   * out). A read: takes no write lock.
   */
  readonly countRuns: (operation: string, filter: RunFilter) => Effect.Effect<StatusCounts, DatabaseError>
  /**
   * The backend's state for `health()`, without taking the write lock and without waiting for
   * one: the schema version stored now, the version this build knows, whether this stack is
   * read-only or may write, and how long this stack's longest current wait for another
   * connection's write lock has lasted (0 when it waits for none).
   */
  readonly health: (operation: string) => Effect.Effect<BackendHealth, DatabaseError>
  // --- issue 16: lease control, claims, owner boots (src/logstore/Claims.ts, OwnerBoots.ts) ---
  /**
   * The stored leases (expired or not), of every owner or of the owner name `owner` (any boot),
   * by run id. A lease row that does not decode is `CorruptRow`.
   */
  readonly leases: (operation: string, owner: string | undefined) => Effect.Effect<ReadonlyArray<RunLease>, CorruptRow | DatabaseError>
  /**
   * Deletes the run's lease if `owner` (name and boot) holds it, atomically (one
   * `DELETE … WHERE run_id AND owner AND boot`); whether it deleted one. Never touches another
   * owner's lease.
   */
  readonly deleteLease: (operation: string, runId: string, owner: Owner) => Effect.Effect<boolean, DatabaseError>
  /**
   * Claims queued runs, in one write transaction (joins the caller's): reads the time, asks
   * `request.terms(now)`, selects at most `request.limit` runs in status `queued` (of
   * `request.workflow` when given), oldest first (by timestamp, then insertion), whose lease is
   * absent, belongs to an earlier boot of `request.owner.name`, or belongs to another owner and
   * expired at or before `terms.deadBefore` (none when `null`); never a run `request.owner`'s
   * boot already holds. It writes a lease to `request.owner` until `terms.expiresAt` on each and
   * returns them (rows that do not decode are skipped, never claimed).
   *
   * A backend must give each run to exactly one claimer however many stacks (processes,
   * machines) claim at once: SQLite serialises the select and the lease writes in one
   * `BEGIN IMMEDIATE` step; PostgreSQL selects with `FOR UPDATE OF r SKIP LOCKED` and upserts
   * the leases in the same transaction.
   */
  readonly claimQueued: (operation: string, request: ClaimRequest) => Effect.Effect<ReadonlyArray<WorkflowRun>, DatabaseError>
  /**
   * Registers `owner`'s boot as the live boot of its name, in one write transaction: reads the
   * stored boot of `owner.name` and the time; when a stored boot of another boot id is still
   * live (`isLive(stored, now)`), writes nothing and returns it (the caller fails `OwnerInUse`);
   * otherwise stores `{ owner, boot, renewedAt: now, renewalMs, host, pid }` (replacing a dead boot's row)
   * and returns none. Two stacks registering one name at once: exactly one wins (SQLite: one
   * `BEGIN IMMEDIATE` step; PostgreSQL: `SELECT … FOR UPDATE` or an upsert with a `WHERE`).
   */
  readonly registerBoot: (
    operation: string,
    owner: Owner,
    where: { readonly renewalMs: number; readonly host: string; readonly pid: number },
    isLive: (stored: OwnerBoot, now: number) => boolean
  ) => Effect.Effect<Option.Option<OwnerBoot>, CorruptRow | DatabaseError>
  /**
   * Sets `renewedAt` of `owner`'s boot row if it still names this boot; whether it did (false: a
   * later boot of the name took it over, or the row is gone).
   */
  readonly renewBoot: (operation: string, owner: Owner, renewedAt: number) => Effect.Effect<boolean, DatabaseError>
  /** Deletes `owner`'s boot row if it still names this boot (a graceful stop). */
  readonly releaseBoot: (operation: string, owner: Owner) => Effect.Effect<void, DatabaseError>
}

/** What `claimQueued` asks of the backend (see {@link LogRepositoryShape.claimQueued}). */
export interface ClaimRequest {
  readonly workflow?: string | undefined
  readonly limit: number
  readonly owner: Owner
  /** The terms at `now` (epoch ms, read by the backend inside its transaction). */
  readonly terms: (now: number) => ClaimTerms
}

/** The terms of a claim at one instant. */
export interface ClaimTerms {
  /** When the leases taken end unless renewed. */
  readonly expiresAt: number
  /** A lease of another owner that expired at or before this is dead and may be taken; `null`: none. */
  readonly deadBefore: number | null
}

/**
 * The repository of a stack's backend, for the backend-neutral LogStore `make` and the seam's
 * contract suite (`test/logstore/repositoryContract.ts`).
 */
export class LogRepository extends Context.Service<LogRepository, LogRepositoryShape>()("@uncaged/nerve-store/LogRepository") {}
