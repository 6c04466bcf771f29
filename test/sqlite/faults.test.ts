// SQLite faults (issue 11): each ends in a typed DatabaseError with the right reason, never a
// hang, and the store goes on once the fault is gone.
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { chmodSync, closeSync, openSync, statSync, writeFileSync, writeSync } from "node:fs"
import { DatabaseSync } from "node:sqlite"
import { join } from "node:path"
import { LogStore } from "../../src/LogStore.ts"
import * as LogStoreSqlite from "../../src/logstore/LogStoreSqlite.ts"
import * as Database from "../../src/sqlite/Database.ts"
import type { SqliteOptions } from "../../src/sqlite/Sqlite.ts"
import { spawnFixture, waitForExit, waitForLine } from "../support/child.ts"
import { makeTempDir } from "../support/tempDir.ts"

const stack = (options: SqliteOptions) => Layer.provideMerge(LogStoreSqlite.layer, Database.layer(options))

const reasonOf = (error: { readonly _tag: string; readonly reason?: unknown }) =>
  error._tag === "DatabaseError" ? error.reason : error._tag

const logCount = (filename: string) => {
  const db = new DatabaseSync(filename, { readOnly: true })
  const n = Number(db.prepare("SELECT count(*) AS n FROM logs").get()?.n)
  db.close()
  return n
}

describe("SQLite faults", () => {
  it.effect("a full database fails 'full', writes nothing, and takes rows again once there is room", () =>
    Effect.gen(function*() {
      const filename = join(makeTempDir(), "nerve.db")
      yield* Effect.gen(function*() {
        const log = yield* LogStore
        const { sql } = yield* Database.Database
        yield* log.append({ source: "s", type: "before" })
        const pages = Number((yield* sql.get("PRAGMA page_count"))?.page_count)
        yield* sql.exec(`PRAGMA max_page_count = ${pages + 2}`)
        // Larger than the pages the migrations left free (a dropped table leaves its pages for reuse).
        const big = "x".repeat(256 * 1024)
        const single = yield* Effect.flip(log.append({ source: "s", type: "big", payload: big }))
        const many = yield* Effect.flip(log.appendMany(Array.from({ length: 8 }, () => ({ source: "s", type: "big", payload: big }))))
        assert.deepStrictEqual([reasonOf(single), reasonOf(many)], ["full", "full"])
        assert.isFalse(single._tag === "DatabaseError" && single.isRetryable)
        assert.deepStrictEqual((yield* log.query()).map((row) => row.type), ["before"])
        yield* sql.exec("PRAGMA max_page_count = 1073741823")
        yield* log.append({ source: "s", type: "big", payload: big })
        assert.strictEqual((yield* log.query()).length, 2)
      }).pipe(Effect.provide(stack({ filename })))
    }))

  it.effect("a read-only file opened read-only refuses every write with 'readOnly' and keeps its rows", () =>
    Effect.gen(function*() {
      const filename = join(makeTempDir(), "nerve.db")
      yield* Effect.provide(LogStore.use((log) => log.append({ source: "s", type: "t" })), stack({ filename }))
      chmodSync(filename, 0o444)
      yield* Effect.gen(function*() {
        const log = yield* LogStore
        const errors = yield* Effect.all([
          Effect.flip(log.append({ source: "s", type: "t" })),
          Effect.flip(log.transition({ source: "workflow", type: "started" }, { runId: "r", workflow: "w", status: "started" })),
          Effect.flip(log.setMeta("k", "v"))
        ])
        assert.deepStrictEqual(errors.map(reasonOf), ["readOnly", "readOnly", "readOnly"])
        assert.strictEqual((yield* log.query()).length, 1)
      }).pipe(Effect.provide(stack({ filename, readonly: true })))
      assert.strictEqual(logCount(filename), 1)
    }))

  it.effect("a file of garbage fails to open as 'corrupt', saying it was opening", () =>
    Effect.gen(function*() {
      const filename = join(makeTempDir(), "nerve.db")
      writeFileSync(filename, "not a database, only text ".repeat(400))
      const error = yield* Effect.flip(Effect.provide(Effect.void, Database.layer({ filename })))
      if (error._tag !== "DatabaseError") return assert.fail(`expected a DatabaseError, got ${error._tag}`)
      assert.strictEqual(error.reason, "corrupt")
      assert.strictEqual(error.operation, `open ${filename}`)
    }))

  it.effect("a page of garbage inside a valid file is found by integrityCheck; appends go on, reads across the page fail 'corrupt'", () =>
    Effect.gen(function*() {
      const filename = join(makeTempDir(), "nerve.db")
      yield* Effect.gen(function*() {
        const log = yield* LogStore
        const db = yield* Database.Database
        yield* log.appendMany(Array.from({ length: 2000 }, (_, i) => ({ source: "s", type: "t", payload: "p".repeat(200), timestamp: i })))
        assert.deepStrictEqual(yield* db.integrityCheck(), { ok: true, problems: [], schemaVersion: db.schemaVersion, latestSchemaVersion: db.schemaVersion })
      }).pipe(Effect.provide(stack({ filename })))
      // Closing checkpointed the WAL into the file; overwrite one page of the logs table's leaves.
      const pageSize = 4096
      const fd = openSync(filename, "r+")
      writeSync(fd, Buffer.alloc(pageSize, 0xa5), 0, pageSize, 40 * pageSize)
      closeSync(fd)
      yield* Effect.gen(function*() {
        const log = yield* LogStore
        const db = yield* Database.Database
        const report = yield* db.integrityCheck()
        assert.isFalse(report.ok)
        assert.isAbove(report.problems.length, 0)
        const appended = yield* log.append({ source: "s", type: "after", timestamp: 5000 })
        assert.strictEqual(appended.id, 2001)
        assert.strictEqual((yield* log.query({ order: "desc", limit: 1 }))[0]?.type, "after")
        const scan = yield* Effect.flip(log.query({ limit: 5000 }))
        assert.strictEqual(reasonOf(scan), "corrupt")
      }).pipe(Effect.provide(stack({ filename })))
    }))

  it.live("a WAL left by a killed process is recovered on open: every acknowledged row is there", () =>
    Effect.gen(function*() {
      const filename = join(makeTempDir(), "nerve.db")
      const child = spawnFixture("sqlite-kill.ts", [filename, "100"])
      const acked: Array<number> = []
      child.stdout?.on("data", (chunk: Buffer) => {
        for (const line of chunk.toString().split("\n")) if (line.startsWith("acked ")) acked.push(Number(line.slice(6)))
      })
      const exit = yield* Effect.promise(() => waitForExit(child))
      assert.strictEqual(child.signalCode, "SIGKILL", exit.stderr)
      assert.strictEqual(acked.length, 151)
      assert.isAbove(statSync(`${filename}-wal`).size, 0, "the killed process left its WAL behind")
      yield* Effect.gen(function*() {
        const log = yield* LogStore
        const db = yield* Database.Database
        assert.isTrue((yield* db.integrityCheck()).ok)
        const ids = (yield* log.query({ limit: 1000 })).map((row) => row.id)
        assert.deepStrictEqual(ids, acked)
        assert.strictEqual((yield* log.runHistory("killed-run")).length, 1)
        const next = yield* log.append({ source: "parent", type: "after" })
        assert.isAbove(next.id, Math.max(...acked))
      }).pipe(Effect.provide(stack({ filename })))
    }))

  it.live("another process holding the write lock past the busy timeout: writes fail 'busy', never hang; reads and opening go on", () =>
    Effect.gen(function*() {
      const filename = join(makeTempDir(), "nerve.db")
      yield* Effect.provide(LogStore.use((log) => log.append({ source: "s", type: "t" })), stack({ filename }))
      const child = spawnFixture("sqlite-hold-lock.ts", [filename])
      yield* Effect.addFinalizer(() => Effect.sync(() => child.kill("SIGKILL")))
      yield* Effect.promise(() => waitForLine(child, "locked"))
      yield* Effect.gen(function*() {
        const log = yield* LogStore
        const errors = yield* Effect.all([
          Effect.flip(log.append({ source: "s", type: "t" })),
          Effect.flip(log.appendMany([{ source: "s", type: "t" }])),
          Effect.flip(log.transition({ source: "workflow", type: "started" }, { runId: "r", workflow: "w", status: "started" }))
        ], { concurrency: "unbounded" })
        assert.deepStrictEqual(errors.map(reasonOf), ["busy", "busy", "busy"])
        assert.strictEqual((yield* log.query()).length, 1, "reads do not wait for the writer")
        child.kill("SIGKILL")
        yield* Effect.promise(() => waitForExit(child))
        yield* log.append({ source: "s", type: "after" })
        assert.strictEqual((yield* log.query()).length, 2)
      }).pipe(Effect.provide(stack({ filename, busyTimeoutMs: 300 })))
    }).pipe(Effect.scoped))
})
