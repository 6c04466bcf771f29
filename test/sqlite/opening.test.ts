// Opening the database (issue 8 §Opening): no write lock when the schema is current, errors that
// say they were opening, a read-only mode, and owner-only files.
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { spawn } from "node:child_process"
import { chmodSync, existsSync, statSync } from "node:fs"
import { DatabaseSync } from "node:sqlite"
import { dirname, join } from "node:path"
import { NerveStoreLive } from "../../layers/index.ts"
import { LogStore } from "../../src/LogStore.ts"
import * as LogStoreSqlite from "../../src/logstore/LogStoreSqlite.ts"
import * as Database from "../../src/sqlite/Database.ts"
import { LATEST_SCHEMA_VERSION } from "../../src/sqlite/Migrations.ts"
import type { SqliteOptions } from "../../src/sqlite/Sqlite.ts"
import { create05Database } from "../fixtures/sqlite-legacy05.ts"
import { makeTempDir } from "../support/tempDir.ts"

const stack = (options: SqliteOptions) => Layer.provideMerge(LogStoreSqlite.layer, Database.layer(options))

/** A migrated nerve.db holding `rows` log rows, closed (so no -wal or -shm is left). */
const currentDatabase = (rows: number) =>
  Effect.gen(function*() {
    const filename = join(makeTempDir(), "nerve.db")
    yield* Effect.gen(function*() {
      const log = yield* LogStore
      for (let i = 0; i < rows; i++) yield* log.append({ source: "s", type: "t", timestamp: i })
    }).pipe(Effect.provide(stack({ filename })))
    return filename
  })

const inspect = (filename: string) => {
  const db = new DatabaseSync(filename, { readOnly: true })
  const version = Number(db.prepare("PRAGMA user_version").get()?.user_version)
  const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all().map((row) => row.name)
  const runColumns = db.prepare("PRAGMA table_info(workflow_runs)").all().map((row) => row.name)
  db.close()
  return { version, tables, runColumns }
}

describe("opening the database", () => {
  it.live("a current database opens while another connection holds the write lock, and can be read", () =>
    Effect.gen(function*() {
      const filename = yield* currentDatabase(3)
      const other = new DatabaseSync(filename)
      other.exec("BEGIN IMMEDIATE; INSERT INTO meta (key, value) VALUES ('held', 'yes')")
      const result = yield* Effect.gen(function*() {
        const log = yield* LogStore
        const rows = (yield* log.query()).length
        const append = yield* Effect.flip(log.append({ source: "s", type: "t" }))
        return { rows, append: append._tag === "DatabaseError" ? append.reason : append._tag }
      }).pipe(Effect.provide(stack({ filename, busyTimeoutMs: 0 })), Effect.ensuring(Effect.sync(() => other.close())))
      // With no wait allowed, only an open that took no write lock can succeed.
      assert.deepStrictEqual(result, { rows: 3, append: "busy" })
    }))

  it.live("a database that must be migrated waits for the lock, and a failure says it was migrating", () =>
    Effect.gen(function*() {
      const filename = join(makeTempDir(), "nerve.db")
      const other = new DatabaseSync(filename)
      other.exec("PRAGMA journal_mode = WAL; CREATE TABLE other (x INTEGER); BEGIN IMMEDIATE; INSERT INTO other VALUES (1)")
      const error = yield* Effect.flip(Effect.provide(Effect.void, Database.layer({ filename, busyTimeoutMs: 200 })))
      if (error._tag !== "DatabaseError") return assert.fail(`expected a DatabaseError, got ${error._tag}`)
      assert.strictEqual(error.reason, "busy")
      assert.strictEqual(error.operation, `migrate ${filename}`)
      other.exec("COMMIT")
      other.close()
      yield* Effect.provide(Effect.void, Database.layer({ filename }))
      assert.strictEqual(inspect(filename).version, LATEST_SCHEMA_VERSION)
    }))

  it.effect("a file that cannot be opened says it was opening", () =>
    Effect.gen(function*() {
      const filename = join(makeTempDir(), "missing-folder", "nerve.db")
      const error = yield* Effect.flip(Effect.provide(Effect.void, Database.layer({ filename })))
      assert.strictEqual(error._tag === "DatabaseError" ? error.operation : error._tag, `open ${filename}`)
    }))

  it.effect("nerve.db, its -wal and its -shm are created owner-only whatever the umask", () =>
    Effect.gen(function*() {
      const previous = process.umask(0o002)
      const filename = join(makeTempDir(), "nerve.db")
      yield* Effect.gen(function*() {
        const log = yield* LogStore
        yield* log.append({ source: "s", type: "t" })
        for (const file of [filename, `${filename}-wal`, `${filename}-shm`]) {
          assert.strictEqual((statSync(file).mode & 0o777).toString(8), "600", file)
        }
      }).pipe(Effect.provide(stack({ filename })), Effect.ensuring(Effect.sync(() => process.umask(previous))))
    }))

  describe("read-only", () => {
    it.effect("opens a nerve-store 0.5 file as it is: reads work, writes fail 'readOnly', nothing is migrated", () =>
      Effect.gen(function*() {
        const filename = join(makeTempDir(), "nerve.db")
        const legacyRows = create05Database(filename, false)
        const before = inspect(filename)
        yield* Effect.gen(function*() {
          const log = yield* LogStore
          const db = yield* Database.Database
          assert.strictEqual(db.schemaVersion, 0)
          assert.isTrue(db.readonly)
          assert.strictEqual((yield* log.query()).length, legacyRows.length)
          for (const write of [log.append({ source: "s", type: "t" }), log.appendMany([{ source: "s", type: "t" }]), log.setMeta("k", "v")]) {
            const error = yield* Effect.flip(write)
            assert.strictEqual(error._tag === "DatabaseError" ? error.reason : error._tag, "readOnly")
          }
        }).pipe(Effect.provide(stack({ filename, readonly: true })))
        assert.deepStrictEqual(inspect(filename), before)
        assert.strictEqual(before.version, 0)
      }))

    it.effect("a file that does not exist is not created", () =>
      Effect.gen(function*() {
        const filename = join(makeTempDir(), "nerve.db")
        const error = yield* Effect.flip(Effect.provide(Effect.void, Database.layer({ filename, readonly: true })))
        assert.strictEqual(error._tag === "DatabaseError" ? error.operation : error._tag, `open ${filename}`)
        assert.isFalse(existsSync(filename))
      }))

    it.live("works on a read-only file in a read-only folder (checked as an unprivileged user when run as root)", () =>
      Effect.gen(function*() {
        const filename = yield* currentDatabase(5)
        const folder = dirname(filename)
        chmodSync(dirname(folder), 0o755)
        chmodSync(filename, 0o444)
        chmodSync(folder, 0o555)
        yield* Effect.addFinalizer(() => Effect.sync(() => chmodSync(folder, 0o755)))
        const { code, stderr, stdout } = yield* Effect.tryPromise(() => runReadonlyChild(filename)).pipe(Effect.orDie)
        assert.strictEqual(code, 0, stderr)
        assert.deepStrictEqual(JSON.parse(stdout), { rows: 5, schemaVersion: LATEST_SCHEMA_VERSION, append: "readOnly" })
        assert.isFalse(existsSync(`${filename}-wal`))
      }).pipe(Effect.scoped))
  })
})

describe("a file newer than this build (issue 16 item 5: the schema guard)", () => {
  /** A data directory written by this build (a row and a run), then marked as schema 99. */
  const newerDataDir = Effect.gen(function*() {
    const dataDir = makeTempDir()
    yield* Effect.gen(function*() {
      const log = yield* LogStore
      yield* log.append({ source: "s", type: "t", payload: "before" })
      yield* log.transition({ source: "workflow", type: "queued" }, { runId: "r1", workflow: "w", status: "queued" })
    }).pipe(Effect.provide(NerveStoreLive({ dataDir })))
    const db = new DatabaseSync(join(dataDir, "nerve.db"))
    db.exec("PRAGMA user_version = 99")
    db.close()
    return dataDir
  })

  const snapshot = (filename: string) => {
    const db = new DatabaseSync(filename, { readOnly: true })
    const version = Number(db.prepare("PRAGMA user_version").get()?.user_version)
    const logs = db.prepare("SELECT id, type, payload FROM logs ORDER BY id").all().map((row) => ({ ...row }))
    const runs = db.prepare("SELECT run_id, status FROM workflow_runs ORDER BY run_id").all().map((row) => ({ ...row }))
    db.close()
    return { version, logs, runs }
  }

  it.effect("a writable open of the live stack fails with SchemaTooNew { found, known } and writes nothing", () =>
    Effect.gen(function*() {
      const dataDir = yield* newerDataDir
      const before = snapshot(join(dataDir, "nerve.db"))
      const error = yield* Effect.flip(
        LogStore.use((log) => log.append({ source: "s", type: "t", payload: "after" })).pipe(Effect.provide(NerveStoreLive({ dataDir })))
      )
      if (error._tag !== "SchemaTooNew") return assert.fail(`expected SchemaTooNew, got ${error._tag}: ${error.message}`)
      assert.deepStrictEqual({ found: error.found, known: error.known }, { found: 99, known: LATEST_SCHEMA_VERSION })
      assert.include(error.message, "read-only")
      assert.deepStrictEqual(snapshot(join(dataDir, "nerve.db")), before)
      assert.strictEqual(before.version, 99)
      const direct = yield* Effect.flip(Effect.provide(Effect.void, Database.layer({ filename: join(dataDir, "nerve.db") })))
      assert.strictEqual(direct._tag, "SchemaTooNew")
    }))

  it.effect("a read-only open still reads it: rows, runs and the version it found", () =>
    Effect.gen(function*() {
      const dataDir = yield* newerDataDir
      const read = yield* Effect.gen(function*() {
        const log = yield* LogStore
        const db = yield* Database.Database
        const rows = yield* log.query({ source: "s" })
        const run = yield* log.getRun("r1")
        const write = yield* Effect.flip(log.append({ source: "s", type: "t" }))
        return {
          version: db.schemaVersion,
          payloads: rows.map((row) => row.payload),
          status: run._tag === "Some" ? run.value.status : null,
          write: write._tag === "DatabaseError" ? write.reason : write._tag
        }
      }).pipe(Effect.provide(stack({ filename: join(dataDir, "nerve.db"), readonly: true })))
      assert.deepStrictEqual(read, { version: 99, payloads: ["before"], status: "queued", write: "readOnly" })
      const live = yield* LogStore.use((log) => log.query({ source: "s" })).pipe(Effect.provide(NerveStoreLive({ dataDir, readonly: true })))
      assert.deepStrictEqual(live.map((row) => row.payload), ["before"])
    }))
})

const ROOT = join(import.meta.dirname, "..", "..")

/**
 * How to run the read-only fixture so that the 0444/0555 modes bind it. Not root: as we are.
 * Root ignores modes, and an unprivileged user such as `nobody` may not reach the pinned Node or
 * the fixture (a checkout inside a 0700 folder, issue 19 item 11), so the child runs as the
 * checkout's owner, who can reach it wherever it lives: a plain user with `uid`/`gid`, or root
 * itself without any capability (`setpriv`, util-linux), for whom the modes then hold too.
 */
const readonlyChildCommand = (args: ReadonlyArray<string>) => {
  const node = [process.execPath, "--conditions=source", join(ROOT, "test", "fixtures", "sqlite-readonly.ts"), ...args]
  if (process.getuid?.() !== 0) return { command: node[0]!, args: node.slice(1), options: {} }
  const owner = statSync(ROOT)
  if (owner.uid !== 0) return { command: node[0]!, args: node.slice(1), options: { uid: owner.uid, gid: owner.gid } }
  return { command: "setpriv", args: ["--bounding-set=-all", "--inh-caps=-all", "--no-new-privs", "--", ...node], options: {} }
}

/** Runs the read-only fixture (see {@link readonlyChildCommand}); a child that cannot start rejects. */
const runReadonlyChild = (filename: string) =>
  new Promise<{ code: number | null; stderr: string; stdout: string }>((resolve, reject) => {
    const { args, command, options } = readonlyChildCommand([filename])
    const child = spawn(command, args, { ...options, stdio: ["ignore", "pipe", "pipe"] })
    let stdout = ""
    let stderr = ""
    child.on("error", (error) => reject(new Error(`cannot start ${command} for the read-only check: ${error.message}`)))
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()))
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()))
    child.on("exit", (code) => resolve({ code, stderr, stdout }))
  })
