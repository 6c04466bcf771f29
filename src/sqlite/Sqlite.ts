/**
 * The SQLite connection as a scoped Effect service.
 *
 * One `DatabaseSync` per layer, opened with a busy timeout, WAL and the chosen `synchronous`
 * level, closed exactly once when the scope ends. node:sqlite is synchronous and one connection
 * has one transaction state, so every use of the handle goes through a single permit: a write
 * transaction holds it from `BEGIN IMMEDIATE` to `COMMIT`/`ROLLBACK`, and statements issued by the
 * fiber that holds it (found through a fiber-local reference) run inside that transaction. A
 * synchronous step runs to its end before any other fiber runs, so it takes the permit only when
 * someone else holds or awaits it.
 *
 * @since 0.6.0
 */
import { Context, Effect, Exit, Layer, Semaphore } from "effect"
import { DatabaseSync, type SQLInputValue, type SQLOutputValue, type StatementSync } from "node:sqlite"
import type { DatabaseError } from "../../schema/Errors.ts"
import { toDatabaseError } from "./SqliteError.ts"

/** A value bound to a `?` placeholder. */
export type SqlParam = SQLInputValue
/** A row as node:sqlite returns it; decode it with a schema before it leaves the store. */
export type SqlRow = Record<string, SQLOutputValue>

/** How to open the database. */
export interface SqliteOptions {
  /** A file path, or `":memory:"` for a private in-memory database. */
  readonly filename: string
  /** How long a statement waits for another process's lock before failing `busy` (default 10 s). */
  readonly busyTimeoutMs?: number
  /** `NORMAL` (default, durable across process crashes) or `FULL` (also across power loss). */
  readonly synchronous?: "NORMAL" | "FULL"
}

/** Synchronous access to the connection inside `Sqlite.sync`: methods throw, `sync` maps it. */
export interface SyncConnection {
  readonly run: (sql: string, params?: ReadonlyArray<SqlParam>) => { readonly changes: number; readonly lastInsertRowid: number }
  readonly all: (sql: string, params?: ReadonlyArray<SqlParam>) => ReadonlyArray<SqlRow>
  readonly get: (sql: string, params?: ReadonlyArray<SqlParam>) => SqlRow | undefined
}

/** The connection service. Every operation takes the connection's permit unless this fiber holds it. */
export interface SqliteShape {
  readonly filename: string
  /** Rows of one prepared (and cached) statement. */
  readonly all: (sql: string, params?: ReadonlyArray<SqlParam>) => Effect.Effect<ReadonlyArray<SqlRow>, DatabaseError>
  /** The first row, if any. */
  readonly get: (sql: string, params?: ReadonlyArray<SqlParam>) => Effect.Effect<SqlRow | undefined, DatabaseError>
  /** Runs a statement; `lastInsertRowid` is the rowid of the last insert on this connection. */
  readonly run: (
    sql: string,
    params?: ReadonlyArray<SqlParam>
  ) => Effect.Effect<{ readonly changes: number; readonly lastInsertRowid: number }, DatabaseError>
  /** Runs one or more statements without preparing or caching them (DDL, PRAGMA, VACUUM). */
  readonly exec: (sql: string) => Effect.Effect<void, DatabaseError>
  /**
   * Runs a synchronous body with the connection, under the permit, as one step: nothing else can
   * interleave with it. `operation` names it in a `DatabaseError`. For hot paths and batches.
   */
  readonly sync: <A>(operation: string, body: (connection: SyncConnection) => A) => Effect.Effect<A, DatabaseError>
  /**
   * `sync` inside a `BEGIN IMMEDIATE` transaction: commits when `body` returns, rolls back when it
   * throws. Joins the current transaction when this fiber already holds one.
   */
  readonly syncTransaction: <A>(operation: string, body: (connection: SyncConnection) => A) => Effect.Effect<A, DatabaseError>
  /** Whether the current fiber is inside a `transaction` of this connection. */
  readonly inTransaction: Effect.Effect<boolean>
  /**
   * Runs `self` in a `BEGIN IMMEDIATE` transaction: commits when it succeeds, rolls back when it
   * fails, dies or is interrupted. Nested calls join the outer transaction.
   */
  readonly transaction: <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A, E | DatabaseError, R>
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

const open = (options: SqliteOptions) =>
  Effect.try({
    try: () => {
      const db = new DatabaseSync(options.filename, { timeout: options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS })
      let configured = false
      try {
        if (options.filename !== ":memory:") db.exec("PRAGMA journal_mode = WAL")
        db.exec(`PRAGMA synchronous = ${options.synchronous ?? "NORMAL"}`)
        configured = true
      } finally {
        if (!configured) db.close()
      }
      return db
    },
    catch: (cause) => toDatabaseError(cause, `open ${options.filename}`)
  })

/** Opens the connection in the current scope; see {@link SqliteShape}. */
export const make = Effect.fnUntraced(function*(options: SqliteOptions) {
  const permit = yield* Semaphore.make(1)
  const db = yield* Effect.acquireRelease(
    open(options),
    // Waiting for the permit means no statement is mid-flight when the handle closes.
    (db) => withPermit(Effect.sync(() => db.isOpen && db.close()))
  )
  const statements = new Map<string, StatementSync>()
  const prepare = (sql: string): StatementSync => {
    let statement = statements.get(sql)
    if (statement === undefined) {
      statement = db.prepare(sql)
      statements.set(sql, statement)
    }
    return statement
  }
  const connection: SyncConnection = {
    run: (sql, params = []) => {
      const result = prepare(sql).run(...params)
      return { changes: Number(result.changes), lastInsertRowid: Number(result.lastInsertRowid) }
    },
    all: (sql, params = []) => prepare(sql).all(...params),
    get: (sql, params = []) => prepare(sql).get(...params)
  }

  const token = {}
  // How many fibers hold or wait for the permit. A synchronous body cannot interleave with anything
  // (JavaScript runs it to the end), so when nobody holds the permit it may skip taking it.
  let contenders = 0
  const withPermit = <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
    Effect.acquireUseRelease(
      Effect.sync(() => contenders++),
      () => permit.withPermits(1)(self),
      () => Effect.sync(() => contenders--)
    )
  const withConnection = <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
    Effect.withFiber((fiber) => fiber.getRef(HeldConnections).has(token) ? self : withPermit(self))

  const sync = <A>(operation: string, body: (connection: SyncConnection) => A): Effect.Effect<A, DatabaseError> => {
    const run = Effect.try({ try: () => body(connection), catch: (cause) => toDatabaseError(cause, operation) })
    return Effect.withFiber((fiber) => contenders === 0 || fiber.getRef(HeldConnections).has(token) ? run : withPermit(run))
  }

  const syncTransaction = <A>(operation: string, body: (connection: SyncConnection) => A): Effect.Effect<A, DatabaseError> =>
    Effect.withFiber((fiber) => {
      if (fiber.getRef(HeldConnections).has(token)) return sync(operation, body)
      const run = Effect.try({
        try: () => {
          prepare("BEGIN IMMEDIATE").run()
          let committed = false
          try {
            const result = body(connection)
            prepare("COMMIT").run()
            committed = true
            return result
          } finally {
            if (!committed && db.isTransaction) db.exec("ROLLBACK")
          }
        },
        catch: (cause) => toDatabaseError(cause, operation)
      })
      return contenders === 0 ? run : withPermit(run)
    })

  const unlocked = (operation: string, sql: string) =>
    Effect.try({ try: () => db.exec(sql), catch: (cause) => toDatabaseError(cause, operation) })

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

  return Sqlite.of({
    filename: options.filename,
    all: (sql, params) => sync("query", (c) => c.all(sql, params)),
    get: (sql, params) => sync("query", (c) => c.get(sql, params)),
    run: (sql, params) => sync("execute", (c) => c.run(sql, params)),
    exec: (sql) => withConnection(unlocked("exec", sql)),
    sync,
    syncTransaction,
    inTransaction: Effect.withFiber((fiber) => Effect.succeed(fiber.getRef(HeldConnections).has(token))),
    transaction
  })
})
