/**
 * The SQLite connection as a scoped Effect service.
 *
 * One `DatabaseSync` per layer, opened with WAL and the chosen `synchronous` level (or read-only),
 * closed exactly once when the scope ends. node:sqlite is synchronous and one connection has one
 * transaction state, so every use of the handle goes through a single permit: a write transaction
 * holds it from `BEGIN IMMEDIATE` to `COMMIT`/`ROLLBACK`, and statements issued by the fiber that
 * holds it (found through a fiber-local reference) run inside that transaction. A synchronous step
 * runs to its end before any other fiber runs, so it takes the permit only when someone else holds
 * or awaits it.
 *
 * Lock waits never block the event loop: SQLite's own busy timeout (which sleeps inside the
 * synchronous call) stays 0, and a step that found another connection's lock is tried again on an
 * Effect `Schedule` (jittered exponential backoff, capped, within `busyTimeoutMs` in all, on the
 * Effect `Clock`), so the other fibers of the process keep running meanwhile. Only what is safe to
 * repeat is repeated: a failed `BEGIN IMMEDIATE`, a step that had written nothing yet, a `COMMIT`
 * (the transaction stays open and whole). A transaction body is never run a second time on top of
 * its own half.
 *
 * @since 0.6.0
 */
import { Context, Effect, Exit, type Fiber, Layer, Semaphore } from "effect"
import type { DatabaseSync, SQLInputValue, SQLOutputValue, StatementSync } from "node:sqlite"
import type { DatabaseError } from "../../schema/Errors.ts"
import { fromStep, isLockWait, LockWait, retryLockWait, type Step, toError, waitForLocks, type WaitTracker } from "./LockWait.ts"
import * as Metrics from "../Metrics.ts"
import { openHandle, type SqliteOptions } from "./SqliteOpen.ts"
import { isLockConflict, toDatabaseError } from "./SqliteError.ts"
import * as StatementCache from "./StatementCache.ts"

export type { SqliteOptions } from "./SqliteOpen.ts"
export { lockWaitSchedule } from "./LockWait.ts"

/** A value bound to a `?` placeholder. */
export type SqlParam = SQLInputValue
/** A row as node:sqlite returns it; decode it with a schema before it leaves the store. */
export type SqlRow = Record<string, SQLOutputValue>

/** Synchronous access to the connection inside `Sqlite.sync`: methods throw, `sync` maps it. */
export interface SyncConnection {
  /** Runs a write (or any statement whose rows are not needed). */
  readonly run: (sql: string, params?: ReadonlyArray<SqlParam>) => { readonly changes: number; readonly lastInsertRowid: number }
  /** Rows of a read. Use `run` for anything that writes: only `run` marks a step as not repeatable. */
  readonly all: (sql: string, params?: ReadonlyArray<SqlParam>) => ReadonlyArray<SqlRow>
  /** The first row of a read, if any. */
  readonly get: (sql: string, params?: ReadonlyArray<SqlParam>) => SqlRow | undefined
  /**
   * Rows of a read as arrays of column values, in select-list order. node:sqlite builds an array
   * several times faster than an object (whose properties are then slow to read), so hot reads
   * that build their own rows use this.
   */
  readonly values: (sql: string, params?: ReadonlyArray<SqlParam>) => ReadonlyArray<ReadonlyArray<SQLOutputValue>>
}

/** The connection service. Every operation takes the connection's permit unless this fiber holds it. */
export interface SqliteShape {
  readonly filename: string
  /** Whether the connection was opened read-only. */
  readonly readonly: boolean
  /** Rows of one prepared (and cached) statement. */
  readonly all: (sql: string, params?: ReadonlyArray<SqlParam>) => Effect.Effect<ReadonlyArray<SqlRow>, DatabaseError>
  /** The first row, if any. */
  readonly get: (sql: string, params?: ReadonlyArray<SqlParam>) => Effect.Effect<SqlRow | undefined, DatabaseError>
  /** Runs a statement; `lastInsertRowid` is the rowid of the last insert on this connection. */
  readonly run: (
    sql: string,
    params?: ReadonlyArray<SqlParam>
  ) => Effect.Effect<{ readonly changes: number; readonly lastInsertRowid: number }, DatabaseError>
  /**
   * Runs one or more statements without preparing or caching them (DDL, PRAGMA, VACUUM). Outside
   * a transaction a lock conflict repeats the whole text: pass one statement, or statements that
   * are safe to repeat.
   */
  readonly exec: (sql: string) => Effect.Effect<void, DatabaseError>
  /**
   * Runs a synchronous body with the connection, under the permit, as one step: nothing else can
   * interleave with it. `operation` names it in a `DatabaseError`. For hot paths and batches.
   * Outside a transaction, a body that meets another connection's lock before its first `run`
   * succeeded is run again after a wait.
   */
  readonly sync: <A>(operation: string, body: (connection: SyncConnection) => A) => Effect.Effect<A, DatabaseError>
  /**
   * `sync` inside a `BEGIN IMMEDIATE` transaction: commits when `body` returns, rolls back when it
   * throws. Joins the current transaction when this fiber already holds one. When another
   * connection holds the lock at `COMMIT` outside the permit, the transaction is rolled back
   * whole and `body` runs again: keep it free of effects outside the database.
   */
  readonly syncTransaction: <A>(operation: string, body: (connection: SyncConnection) => A) => Effect.Effect<A, DatabaseError>
  /** Whether the current fiber is inside a `transaction` of this connection. */
  readonly inTransaction: Effect.Effect<boolean>
  /**
   * Runs `self` in a `BEGIN IMMEDIATE` transaction: commits when it succeeds, rolls back when it
   * fails, dies or is interrupted. Nested calls join the outer transaction.
   */
  readonly transaction: <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A, E | DatabaseError, R>
  /** How long this connection's longest current wait for another connection's lock has lasted, in ms (0: none). */
  readonly lockWaitMs: () => number
}

/**
 * The SQLite connection.
 *
 * @example
 * ```ts
 * const count = Effect.gen(function*() {
 *   const sql = yield* Sqlite
 *   const row = yield* sql.get("SELECT count(*) AS n FROM logs")
 *   return row?.n
 * }).pipe(Effect.provide(Sqlite.layer({ filename: ":memory:" })))
 * ```
 */
export class Sqlite extends Context.Service<Sqlite, SqliteShape>()("@uncaged/nerve-store/Sqlite") {
  /** A layer holding one connection for the layer's lifetime. */
  static readonly layer = (options: SqliteOptions): Layer.Layer<Sqlite, DatabaseError> => Layer.effect(Sqlite, make(options))
}

const HeldConnections = Context.Reference<ReadonlySet<object>>("@uncaged/nerve-store/Sqlite/HeldConnections", {
  defaultValue: () => new Set()
})

const DEFAULT_BUSY_TIMEOUT_MS = 10_000

/** Opens the connection in the current scope; see {@link SqliteShape}. */
export const make = Effect.fnUntraced(function*(options: SqliteOptions) {
  const budgetMs = options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS
  const readonly = options.readonly === true
  const openOperation = `open ${options.filename}`
  const permit = yield* Semaphore.make(1)
  // Waits for another connection's lock under way, and when the first of them began (real time).
  let waiting = 0
  let waitingSince = 0
  const track: WaitTracker = (wait) =>
    Effect.acquireUseRelease(
      Effect.sync(() => {
        if (waiting++ === 0) waitingSince = performance.now()
      }),
      () => wait.pipe(Metrics.trackSeconds(Metrics.lockWaitSeconds), Effect.tapError(Metrics.countBusy)),
      () => Effect.sync(() => waiting--)
    )

  // Nothing is written by a failed open, so a lock met while opening is waited out like any other.
  const openOnce = Effect.suspend((): Effect.Effect<DatabaseSync, DatabaseError | LockWait> => {
    const opened = openHandle(options)
    if ("db" in opened) return Effect.succeed(opened.db)
    const error = toDatabaseError(opened.cause, openOperation)
    return Effect.fail(isLockConflict(error) ? new LockWait(error) : error)
  })
  const db = yield* Effect.acquireRelease(
    waitForLocks(openOnce, budgetMs, track),
    // Waiting for the permit means no statement is mid-flight when the handle closes.
    (db) => withPermit(Effect.sync(() => db.isOpen && db.close()))
  )
  const statements = StatementCache.make(db)
  const prepare = (sql: string): StatementSync => statements.prepare(sql, false)
  // How many `run`s have succeeded on this connection: a step whose count moved has written
  // something (in autocommit: committed it), so it must not be repeated.
  let writes = 0
  const connection: SyncConnection = {
    run: (sql, params = []) => {
      const result = prepare(sql).run(...params)
      writes++
      return { changes: Number(result.changes), lastInsertRowid: Number(result.lastInsertRowid) }
    },
    all: (sql, params = []) => prepare(sql).all(...params),
    get: (sql, params = []) => prepare(sql).get(...params),
    values: (sql, params = []) => statements.prepare(sql, true).all(...params) as unknown as ReadonlyArray<ReadonlyArray<SQLOutputValue>>
  }

  const token = {}
  // How many fibers hold or wait for the permit. A synchronous body cannot interleave with anything
  // (JavaScript runs it to the end), so when nobody holds the permit it may skip taking it.
  let contenders = 0
  function withPermit<A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> {
    return Effect.acquireUseRelease(
      Effect.sync(() => contenders++),
      () => permit.withPermits(1)(self),
      () => Effect.sync(() => contenders--)
    )
  }
  const holds = (fiber: Fiber.Fiber<unknown, unknown>) => fiber.getRef(HeldConnections).has(token)

  /** One synchronous try of an autocommit step: a lock met before anything was written is a `LockWait`. */
  const autocommitStep = <A>(operation: string, body: (connection: SyncConnection) => A): Step<A> => {
    const before = writes
    try {
      return { ok: true, value: body(connection) }
    } catch (cause) {
      const error = toDatabaseError(cause, operation)
      return { ok: false, error: isLockConflict(error) && writes === before ? new LockWait(error) : error }
    }
  }
  /** One try inside this fiber's own transaction: never repeated (the transaction is half done). */
  const insideOnce = <A>(operation: string, body: (connection: SyncConnection) => A): Effect.Effect<A, DatabaseError> =>
    Effect.try({ try: () => body(connection), catch: (cause) => toDatabaseError(cause, operation) })

  /**
   * Runs `step` now when nobody holds the permit (the hot path: no extra fiber hop), else under
   * the permit; a `LockWait` is waited out by running it again on the schedule.
   */
  const stepWithLockWaits = <A>(step: () => Step<A>): Effect.Effect<A, DatabaseError> => {
    const again = Effect.suspend(() => contenders === 0 ? fromStep(step()) : withPermit(Effect.suspend(() => fromStep(step()))))
    if (contenders !== 0) return waitForLocks(again, budgetMs, track)
    const first = step()
    if (first.ok) return Effect.succeed(first.value)
    return isLockWait(first.error) ? retryLockWait(first.error, again, budgetMs, track) : Effect.fail(first.error)
  }

  const sync = <A>(operation: string, body: (connection: SyncConnection) => A): Effect.Effect<A, DatabaseError> =>
    Effect.withFiber((fiber) =>
      holds(fiber) ? insideOnce(operation, body) : stepWithLockWaits(() => autocommitStep(operation, body))
    )

  /**
   * One synchronous try of a whole `BEGIN IMMEDIATE … COMMIT`. A lock at BEGIN, or at COMMIT
   * (after rolling the transaction back whole), is a `LockWait`; anything else rolls back and fails.
   */
  const transactionStep = <A>(operation: string, body: (connection: SyncConnection) => A): Step<A> => {
    try {
      prepare("BEGIN IMMEDIATE").run()
    } catch (cause) {
      const error = toDatabaseError(cause, operation)
      return { ok: false, error: isLockConflict(error) ? new LockWait(error) : error }
    }
    let value: A
    try {
      value = body(connection)
    } catch (cause) {
      if (db.isTransaction) db.exec("ROLLBACK")
      return { ok: false, error: toDatabaseError(cause, operation) }
    }
    try {
      prepare("COMMIT").run()
      return { ok: true, value }
    } catch (cause) {
      if (db.isTransaction) db.exec("ROLLBACK")
      const error = toDatabaseError(cause, operation)
      return { ok: false, error: isLockConflict(error) ? new LockWait(error) : error }
    }
  }

  const syncTransaction = <A>(operation: string, body: (connection: SyncConnection) => A): Effect.Effect<A, DatabaseError> =>
    Effect.withFiber((fiber) =>
      holds(fiber) ? insideOnce(operation, body) : stepWithLockWaits(() => transactionStep(operation, body))
    )

  /** `db.exec` as one try: outside a transaction a lock conflict may be waited out. */
  const execOnce = (operation: string, sql: string, repeatable: boolean) =>
    Effect.suspend((): Effect.Effect<void, DatabaseError | LockWait> => {
      try {
        db.exec(sql)
        return Effect.void
      } catch (cause) {
        const error = toDatabaseError(cause, operation)
        return Effect.fail(repeatable && isLockConflict(error) ? new LockWait(error) : error)
      }
    })
  const unlocked = (operation: string, sql: string): Effect.Effect<void, DatabaseError> =>
    waitForLocks(execOnce(operation, sql, true), budgetMs, track)

  const exec = (sql: string): Effect.Effect<void, DatabaseError> =>
    Effect.withFiber((fiber) =>
      holds(fiber)
        ? Effect.mapError(execOnce("exec", sql, false), toError)
        : withPermit(unlocked("exec", sql))
    )

  const transaction = <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E | DatabaseError, R> =>
    Effect.withFiber((fiber) => {
      const held = fiber.getRef(HeldConnections)
      if (held.has(token)) return self
      const inside = Effect.provideService(self, HeldConnections, new Set([...held, token]))
      return withPermit(Effect.uninterruptibleMask((restore) =>
        Effect.flatMap(unlocked("begin transaction", "BEGIN IMMEDIATE"), () =>
          Effect.flatMap(Effect.exit(restore(inside)), (exit): Effect.Effect<A, E | DatabaseError> =>
            Exit.isSuccess(exit)
              ? Effect.as(
                // A COMMIT refused for a lock leaves the transaction open and whole: try it again.
                Effect.tapError(unlocked("commit", "COMMIT"), () => rollback),
                exit.value
              )
              : Effect.andThen(rollback, exit)
          ))
      ))
    })
  // A failed COMMIT may already have ended the transaction; only roll back an open one.
  const rollback = Effect.sync(() => {
    if (db.isTransaction) db.exec("ROLLBACK")
  })

  if (!readonly) {
    if (options.filename !== ":memory:") yield* unlocked(openOperation, "PRAGMA journal_mode = WAL")
    yield* unlocked(openOperation, `PRAGMA synchronous = ${options.synchronous ?? "NORMAL"}`)
  }

  return Sqlite.of({
    filename: options.filename,
    readonly,
    all: (sql, params) => sync("query", (c) => c.all(sql, params)),
    get: (sql, params) => sync("query", (c) => c.get(sql, params)),
    run: (sql, params) => sync("execute", (c) => c.run(sql, params)),
    exec,
    sync,
    syncTransaction,
    inTransaction: Effect.withFiber((fiber) => Effect.succeed(holds(fiber))),
    transaction,
    lockWaitMs: () => waiting === 0 ? 0 : Math.max(0, Math.round(performance.now() - waitingSince))
  })
})
