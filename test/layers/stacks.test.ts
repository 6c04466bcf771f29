import { assert, describe, it } from "@effect/vitest"
import { ConfigProvider, Effect, Option } from "effect"
import { TestClock } from "effect/testing"
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { hostname } from "node:os"
import { NerveStoreConfig, NerveStoreLive, NerveStoreMemory } from "../../layers/index.ts"
import { BlobStore } from "../../src/BlobStore.ts"
import { LogArchive } from "../../src/LogArchive.ts"
import { LogStore } from "../../src/LogStore.ts"
import { program } from "../../examples/quickstart.ts"
import { makeTempDir } from "../support/tempDir.ts"

const root = join(import.meta.dirname, "..", "..")

describe("the ready-made stacks", () => {
  it("the README's API tour is examples/quickstart.ts, word for word (so it stays compiled)", () => {
    const readme = readFileSync(join(root, "README.md"), "utf8")
    const sample = readFileSync(join(root, "examples", "quickstart.ts"), "utf8")
    assert.include(readme, "```ts\n" + sample + "```")
  })

  it.effect("the README program gives the same answers on the live and the memory stack", () =>
    Effect.gen(function*() {
      const dataDir = makeTempDir()
      const live = yield* program.pipe(Effect.provide(NerveStoreLive({ dataDir })))
      const memory = yield* program.pipe(Effect.provide(NerveStoreMemory))
      assert.deepStrictEqual(live, memory)
      assert.strictEqual(Option.getOrThrow(live.run).status, "completed")
      assert.strictEqual(live.refused, "refused completed -> started")
      assert.strictEqual(live.output, "the run's output")
    }))

  it.effect("the live stack lays out the data directory as the SPEC says", () =>
    Effect.gen(function*() {
      const dataDir = join(makeTempDir(), "nested", "data")
      const digest = yield* Effect.gen(function*() {
        const log = yield* LogStore
        const archive = yield* LogArchive
        const blobs = yield* BlobStore
        yield* log.append({ source: "s", type: "t", timestamp: Date.UTC(2024, 0, 1, 12) })
        yield* TestClock.setTime(Date.UTC(2024, 6, 1))
        const result = yield* archive.archive()
        assert.deepStrictEqual(result.days.map((d) => d.day), ["2024-01-01"])
        return yield* blobs.write("x")
      }).pipe(Effect.provide(NerveStoreLive({ dataDir })))
      assert.isTrue(existsSync(join(dataDir, "nerve.db")))
      assert.isTrue(existsSync(join(dataDir, "archive", "logs", "2024-01-01.jsonl")))
      assert.isTrue(existsSync(join(dataDir, "blobs", digest.slice(0, 2), digest.slice(2))))
    }))

  it.effect("a data directory under a plain file is a DataDirectoryError that says a file is in the way", () =>
    Effect.gen(function*() {
      const blocker = join(makeTempDir(), "a-file")
      writeFileSync(blocker, "not a folder")
      const error = yield* Effect.flip(LogStore.use((log) => log.query()).pipe(
        Effect.provide(NerveStoreLive({ dataDir: join(blocker, "data") }))
      ))
      assert.strictEqual(error._tag, "DataDirectoryError")
      assert.strictEqual(error._tag === "DataDirectoryError" ? error.reason : "", "notADirectory")
      assert.include(error.message, "a file stands where a folder should be")
    }))

  it.effect("an empty data directory path is InvalidInput", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(LogStore.use((log) => log.query()).pipe(Effect.provide(NerveStoreLive({ dataDir: " " }))))
      assert.strictEqual(error._tag, "InvalidInput")
    }))

  it.effect("several LogStore writes made atomic with LogStore.transaction roll back together (both stacks)", () =>
    Effect.gen(function*() {
      const attempt = Effect.gen(function*() {
        const log = yield* LogStore
        const failed = yield* Effect.flip(log.transaction(Effect.gen(function*() {
          yield* log.append({ source: "s", type: "t" })
          yield* log.setMeta("cursor", "1")
          yield* log.transition({ source: "workflow", type: "started" }, { runId: "r", workflow: "w", status: "started" })
          return yield* Effect.fail("abort" as const)
        })))
        yield* log.transaction(log.append({ source: "s", type: "kept" }))
        return [failed, (yield* log.query()).map((e) => e.type), yield* log.getMeta("cursor"), yield* log.getRun("r")] as const
      })
      const dataDir = makeTempDir()
      for (const layer of [NerveStoreMemory, NerveStoreLive({ dataDir })]) {
        const [failed, types, cursor, run] = yield* attempt.pipe(Effect.provide(layer))
        assert.strictEqual(failed, "abort")
        assert.deepStrictEqual(types, ["kept"])
        assert.isTrue(Option.isNone(cursor) && Option.isNone(run))
      }
    }))

  it.effect("NerveStoreMemory is fresh for each provide", () =>
    Effect.gen(function*() {
      const write = Effect.gen(function*() {
        const log = yield* LogStore
        const blobs = yield* BlobStore
        yield* log.append({ source: "s", type: "t" })
        yield* blobs.write("x")
        return [(yield* log.query()).length, (yield* blobs.verifyAll()).totals.ok] as const
      })
      assert.deepStrictEqual(yield* write.pipe(Effect.provide(NerveStoreMemory)), [1, 1])
      assert.deepStrictEqual(yield* write.pipe(Effect.provide(NerveStoreMemory)), [1, 1])
    }))

  it.effect("the stacks lease the runs they start: the owner option, NERVE_OWNER / NERVE_LEASE_TTL, and the default owner", () =>
    Effect.gen(function*() {
      const leaseOf = Effect.gen(function*() {
        const log = yield* LogStore
        yield* TestClock.setTime(1_000)
        yield* log.transition({ source: "workflow", type: "started" }, { runId: "r", workflow: "w", status: "started" })
        const lease = Option.getOrThrow(yield* log.getLease("r"))
        return [log.owner.name, lease.owner, lease.boot === log.owner.boot, lease.expiresAt] as const
      })
      const live = yield* leaseOf.pipe(Effect.provide(NerveStoreLive({ dataDir: makeTempDir(), owner: "nerve", leaseTtl: "2 minutes" })))
      assert.deepStrictEqual(live, ["nerve", "nerve", true, 121_000])
      const configured = yield* leaseOf.pipe(
        Effect.provide(NerveStoreConfig),
        Effect.provide(ConfigProvider.layer(ConfigProvider.fromEnvRecord({
          NERVE_DATA_DIR: makeTempDir(),
          NERVE_OWNER: "from-env",
          NERVE_LEASE_TTL: "5 seconds"
        })))
      )
      assert.deepStrictEqual(configured, ["from-env", "from-env", true, 6_000])
      const [name, owner, sameBoot, expiresAt] = yield* leaseOf.pipe(Effect.provide(NerveStoreMemory))
      assert.isTrue(name.startsWith(`${hostname()}:${process.pid}:`))
      assert.deepStrictEqual([owner, sameBoot, expiresAt], [name, true, 31_000])
    }))
})

describe("opening the live stack", () => {
  it.effect("read-only: a missing data directory is a DataDirectoryError and nothing is created", () =>
    Effect.gen(function*() {
      const dataDir = join(makeTempDir(), "missing")
      const error = yield* Effect.flip(LogStore.use((log) => log.query()).pipe(
        Effect.provide(NerveStoreLive({ dataDir, readonly: true }))
      ))
      assert.strictEqual(error._tag === "DataDirectoryError" ? error.reason : error._tag, "notFound")
      assert.isFalse(existsSync(dataDir))
    }))

  it.effect("read-only: reads work and every write fails with DatabaseError readOnly, writing nothing", () =>
    Effect.gen(function*() {
      const dataDir = makeTempDir()
      yield* LogStore.use((log) => log.append({ source: "s", type: "t" })).pipe(Effect.provide(NerveStoreLive({ dataDir })))
      const [rows, error] = yield* Effect.gen(function*() {
        const log = yield* LogStore
        return [yield* log.query(), yield* Effect.flip(log.append({ source: "s", type: "t" }))] as const
      }).pipe(Effect.provide(NerveStoreLive({ dataDir, readonly: true })))
      assert.strictEqual(rows.length, 1)
      assert.strictEqual(error._tag === "DatabaseError" ? error.reason : error._tag, "readOnly")
    }))

  it.effect("a file where blobs/ or archive/logs/ should be fails at startup with DataDirectoryError naming it", () =>
    Effect.gen(function*() {
      for (const inside of [["blobs"], ["archive", "logs"]]) {
        const dataDir = makeTempDir()
        mkdirSync(join(dataDir, "archive"), { recursive: true })
        writeFileSync(join(dataDir, ...inside), "not a folder")
        const error = yield* Effect.flip(LogStore.use((log) => log.query()).pipe(Effect.provide(NerveStoreLive({ dataDir }))))
        assert.strictEqual(error._tag === "DataDirectoryError" ? error.path : error._tag, join(dataDir, ...inside))
        assert.isFalse(existsSync(join(dataDir, "nerve.db")), "nothing was opened")
      }
    }))

  it.effect("a new data directory is created owner-only (0700)", () =>
    Effect.gen(function*() {
      const dataDir = join(makeTempDir(), "fresh")
      yield* LogStore.use((log) => log.query()).pipe(Effect.provide(NerveStoreLive({ dataDir })))
      assert.strictEqual(statSync(dataDir).mode & 0o777, 0o700)
    }))

  it.effect("the archive's folders are created owner-only (0700) by the first archived day", () =>
    Effect.gen(function*() {
      const dataDir = join(makeTempDir(), "fresh")
      yield* Effect.gen(function*() {
        yield* LogStore.use((log) => log.append({ source: "s", type: "t", timestamp: Date.UTC(2020, 0, 1) }))
        const result = yield* LogArchive.use((archive) => archive.archive({ now: Date.UTC(2021, 0, 1) }))
        assert.deepStrictEqual(result.days.map((day) => day.rowCount), [1])
      }).pipe(Effect.provide(NerveStoreLive({ dataDir })))
      assert.strictEqual(statSync(join(dataDir, "archive")).mode & 0o777, 0o700)
      assert.strictEqual(statSync(join(dataDir, "archive", "logs")).mode & 0o777, 0o700)
    }))
})
