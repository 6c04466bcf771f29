// The LogArchive contract (test/archive/archiveContract.ts) on NerveStorePg against the test
// server, and two archivers (two stacks, as on two machines sharing the data folder) on one
// database at once: the advisory lock of the archive's steps lets each day be archived once.
import { assert, it } from "@effect/vitest"
import { ConfigProvider, Deferred, Effect, Fiber, Layer, Redacted, Stream } from "effect"
import { readdirSync } from "node:fs"
import { join } from "node:path"
import { LogStorePg, NerveStoreConfig, NerveStorePg } from "../../layers/index.ts"
import { ArchiveRepository } from "../../src/seam/ArchiveRepository.ts"
import * as ArchiveRepositoryPg from "../../src/pg/ArchiveRepositoryPg.ts"
import * as LogStorePgImpl from "../../src/pg/LogStorePg.ts"
import { PgDatabase } from "../../src/pg/PgDatabase.ts"
import { LogArchive, LogStore, utcDayStartMs } from "../../src/index.ts"
import { archiveContract } from "../archive/archiveContract.ts"
import { freshPgDatabase } from "../support/pgDatabase.ts"
import { afterTruncating, emptyPgDatabase } from "../support/pgStore.ts"
import { makeTempDir } from "../support/tempDir.ts"

const database = freshPgDatabase()

archiveContract("NerveStorePg", () =>
  afterTruncating(database, NerveStorePg({ url: database.url(), dataDir: makeTempDir("nerve-pg-archive-"), maxConnections: 4 })))

const NOW = Date.UTC(2024, 2, 31, 12)
const DAYS = ["2024-01-01", "2024-01-02", "2024-01-03"]
const ROWS_PER_DAY = 3_000

it.live("two archivers on one database at once archive each day once and lose no row", () =>
  Effect.gen(function*() {
    const dataDir = makeTempDir("nerve-pg-archivers-")
    const stack = () => NerveStorePg({ url: database.url(), dataDir, maxConnections: 4 })
    const first = yield* Layer.build(afterTruncating(database, stack()))
    const second = yield* Layer.build(stack())
    const rows = yield* Effect.gen(function*() {
      const store = yield* LogStore
      return yield* store.appendMany(DAYS.flatMap((day) =>
        Array.from({ length: ROWS_PER_DAY }, (_, i) => ({ source: "s", type: "t", payload: `p${i}`, timestamp: utcDayStartMs(day) + i }))))
    }).pipe(Effect.provideContext(first))
    const archiveWith = (context: typeof first) =>
      Effect.gen(function*() {
        const archive = yield* LogArchive
        return yield* archive.archive({ now: NOW })
      }).pipe(Effect.provideContext(context))
    const [a, b] = yield* Effect.all([archiveWith(first), archiveWith(second)], { concurrency: 2 })
    const done = [...a.days, ...b.days].filter((d) => d.rowCount > 0).sort((x, y) => (x.day < y.day ? -1 : 1))
    assert.deepStrictEqual(done.map((d) => [d.day, d.rowCount, d.lineCount]), DAYS.map((day) => [day, ROWS_PER_DAY, ROWS_PER_DAY]))
    // Nothing is left in the database; each day's file holds exactly its rows, once.
    const { left, read } = yield* Effect.gen(function*() {
      const store = yield* LogStore
      const archive = yield* LogArchive
      const left = yield* store.query({})
      const read = yield* Effect.forEach(DAYS, (day) => Effect.map(Stream.runCollect(archive.readDay(day)), (es) => es.map((e) => e.id)))
      return { left, read }
    }).pipe(Effect.provideContext(second))
    assert.deepStrictEqual(left, [])
    assert.deepStrictEqual(read.flat(), rows.map((e) => e.id))
    assert.deepStrictEqual(readdirSync(join(dataDir, "archive", "logs")).sort(), DAYS.map((day) => `${day}.jsonl`))
  }).pipe(Effect.scoped), 120_000)

it.effect("restore inserts rows with their own ids, skips present ones, and keeps the id sequence ahead of them", () =>
  Effect.gen(function*() {
    const repo = yield* ArchiveRepository
    const log = yield* LogStore
    // A day file from elsewhere: its ids are beyond anything this database's sequence handed out.
    const row = { id: 1_000_000, source: "s", type: "t", refId: null, payload: "p", timestamp: utcDayStartMs("2024-01-01") }
    assert.strictEqual(yield* repo.insertIgnoringPresent([row]), 1)
    assert.strictEqual(yield* repo.insertIgnoringPresent([row, { ...row, id: 999_999 }]), 1)
    const next = yield* log.append({ source: "s", type: "t", payload: "after", timestamp: utcDayStartMs("2024-01-02") })
    assert.isTrue(next.id > 1_000_000, `id ${next.id} would be reused`)
    assert.deepStrictEqual((yield* log.query({})).map((e) => e.id), [999_999, 1_000_000, next.id])
  }).pipe(Effect.provide(Layer.mergeAll(ArchiveRepositoryPg.layer, LogStorePgImpl.layerWith()).pipe(
    Layer.provide(emptyPgDatabase(database))
  ))))

it.effect("NerveStoreConfig opens the PostgreSQL stack when NERVE_DATABASE_URL is set", () =>
  Effect.gen(function*() {
    const env = { NERVE_DATABASE_URL: Redacted.value(database.url()), NERVE_DATA_DIR: makeTempDir("nerve-pg-config-") }
    const written = yield* Effect.gen(function*() {
      const log = yield* LogStore
      return yield* log.append({ source: "s", type: "config", payload: null, timestamp: 1 })
    }).pipe(Effect.provide(afterTruncating(database, NerveStoreConfig).pipe(
      Layer.provide(ConfigProvider.layer(ConfigProvider.fromEnvRecord(env)))
    )))
    const seen = yield* Effect.gen(function*() {
      const log = yield* LogStore
      return yield* log.query({ type: "config" })
    }).pipe(Effect.provide(LogStorePg({ url: database.url(), maxConnections: 1 })))
    assert.deepStrictEqual(seen, [written])
  }))

it.live("an archive transaction on one pool holds off the archive of another stack until it commits", () =>
  Effect.gen(function*() {
    const white = yield* Layer.build(Layer.mergeAll(ArchiveRepositoryPg.layer, LogStorePgImpl.layerWith()).pipe(
      Layer.provideMerge(emptyPgDatabase(database))
    ))
    const other = yield* Layer.build(NerveStorePg({ url: database.url(), dataDir: makeTempDir("nerve-pg-lock-"), maxConnections: 2 }))
    const { repo, log, sql } = yield* Effect.gen(function*() {
      return { repo: yield* ArchiveRepository, log: yield* LogStore, sql: (yield* PgDatabase).sql }
    }).pipe(Effect.provideContext(white))
    const [row] = yield* log.appendMany([{ source: "s", type: "t", payload: "p", timestamp: utcDayStartMs(DAYS[0]!) }])
    const held = yield* Deferred.make<void>()
    const release = yield* Deferred.make<void>()
    const holder = yield* Effect.forkChild(repo.transaction(Effect.andThen(Deferred.succeed(held, undefined), Deferred.await(release))))
    yield* Deferred.await(held)
    const archiver = yield* Effect.forkChild(Effect.gen(function*() {
      const archive = yield* LogArchive
      return yield* archive.archive({ now: NOW })
    }).pipe(Effect.provideContext(other)))
    // Wait (no time limit but the test's) until the other stack's backend waits on the advisory lock.
    const waiting = sql<{ readonly n: number }>`SELECT count(*)::int AS n FROM pg_locks
      WHERE locktype = 'advisory' AND NOT granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`
    while (((yield* waiting)[0]?.n ?? 0) === 0) yield* Effect.sleep("20 millis")
    assert.deepStrictEqual((yield* log.query({})).map((e) => e.id), [row?.id])
    yield* Deferred.succeed(release, undefined)
    yield* Fiber.join(holder)
    const result = yield* Fiber.join(archiver)
    assert.deepStrictEqual(result.days.map((d) => [d.day, d.rowCount]), [[DAYS[0], 1]])
    assert.deepStrictEqual(yield* log.query({}), [])
  }).pipe(Effect.scoped), 120_000)
