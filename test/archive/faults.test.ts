// File-system faults at each step of publishing a day file (issue 11): each is a typed
// ArchiveError with the right reason, leaves nothing partial under a final name and deletes
// nothing, and a retry once the fault clears finishes the job.
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, Stream } from "effect"
import { existsSync, mkdirSync, readdirSync, utimesSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import type { FileErrorReason } from "../../schema/Errors.ts"
import { LogArchive } from "../../src/LogArchive.ts"
import { LogStore } from "../../src/LogStore.ts"
import { Sqlite } from "../../src/sqlite/Sqlite.ts"
import { isTempName } from "../../src/fs/DurableFile.ts"
import { utcDayStartMs } from "../../src/domain/UtcDay.ts"
import { liveArchiveStack } from "../support/archiveStack.ts"
import { type Errno, type Fault, FaultyFileSystem, type Faults, faultyNodeFiles, makeFaults } from "../support/FaultyFileSystem.ts"
import { NodeFiles, type NodeFilesShape } from "../../src/fs/NodeFiles.ts"
import { makeTempDir } from "../support/tempDir.ts"

const NOW = Date.UTC(2024, 2, 31, 12)

const REASONS: ReadonlyArray<readonly [Errno, FileErrorReason]> = [
  ["ENOSPC", "diskFull"],
  ["EACCES", "permissionDenied"],
  ["EIO", "io"]
]

/** The steps of publishing a day file, as the fault that breaks each one. */
const STEPS: ReadonlyArray<readonly [string, (errno: Errno) => Fault | "folder-sync"]> = [
  ["opening the temp file", (errno) => ({ call: "open", errno, flag: "wx" })],
  ["writing the temp file", (errno) => ({ call: "file.writeAll", errno })],
  ["fsyncing the temp file", (errno) => ({ call: "file.sync", errno, pathIncludes: ".tmp." })],
  ["renaming it to its final name", (errno) => ({ call: "rename", errno })],
  ["fsyncing the folder after the rename", () => "folder-sync"]
]

/**
 * `FaultyFiles`, plus a fault on the fsync of one folder (its path exactly: a temp file's
 * path contains the folder's, so `pathIncludes` cannot tell them apart).
 */
const platform = (faults: Faults, folder: string, folderSync: { errno: Errno | undefined }) => {
  const files = faultyNodeFiles(faults)
  const withFolderSync: NodeFilesShape = {
    ...files,
    open: async (path, flags, mode) => {
      const handle = await files.open(path, flags, mode)
      const errno = folderSync.errno
      if (path !== folder || errno === undefined) return handle
      const cause = Object.assign(new Error(`${errno}: injected fault, fsync '${path}'`), { code: errno, syscall: "fsync", path })
      return { ...handle, sync: () => Promise.reject(cause) }
    }
  }
  return Layer.merge(FaultyFileSystem(faults), Layer.succeed(NodeFiles, withFolderSync))
}

const entries = (day: string, n: number) =>
  Array.from({ length: n }, (_, i) => ({ source: "s", type: "t", payload: `${day}:${i}`, timestamp: utcDayStartMs(day) + i }))

describe("LogArchive under file-system faults", () => {
  for (const [step, faultAt] of STEPS) {
    for (const [errno, reason] of REASONS) {
      it.effect(`${errno} while ${step}: ArchiveError (${reason}), nothing partial, nothing deleted, and a retry succeeds`, () =>
        Effect.gen(function*() {
          const dir = makeTempDir("nerve-archive-faults-")
          const folder = join(dir, "archive", "logs")
          const faults = makeFaults()
          const folderSync: { errno: Errno | undefined } = { errno: undefined }
          yield* Effect.gen(function*() {
            const log = yield* LogStore
            const archive = yield* LogArchive
            const sql = yield* Sqlite
            // Day 1 is archived already and gets a back-dated row (the merge path); day 2 is new.
            const first = yield* log.appendMany(entries("2024-01-01", 20))
            yield* archive.archive({ now: NOW })
            const rest = yield* log.appendMany([...entries("2024-01-01", 3), ...entries("2024-01-02", 20)])
            const fault = faultAt(errno)
            if (fault === "folder-sync") folderSync.errno = errno
            else faults.arm(fault)

            const error = yield* Effect.flip(archive.archive({ now: NOW }))
            assert.strictEqual(error._tag, "ArchiveError")
            if (error._tag === "ArchiveError") assert.strictEqual(error.reason, reason, error.message)
            assert.include(error.message, errno)
            // Nothing partial under a final name: every day file reads in full (a file published
            // before the folder fsync failed is complete and recognised).
            for (const day of yield* archive.days()) {
              assert.include(["ok", "pending"], day.status, day.day)
              yield* Stream.runDrain(archive.readDay(day.day))
            }
            assert.deepStrictEqual(readdirSync(folder).filter(isTempName), [])
            const left = (yield* sql.all("SELECT id FROM logs ORDER BY id")).map((row) => Number(row.id))
            assert.deepStrictEqual(left, rest.map((e) => e.id))

            faults.disarm()
            folderSync.errno = undefined
            const retry = yield* archive.archive({ now: NOW })
            assert.deepStrictEqual(retry.days.map((d) => [String(d.day), d.rowCount]), [["2024-01-01", 3], ["2024-01-02", 20]])
            assert.deepStrictEqual((yield* archive.days()).map((d) => d.status), ["ok", "ok"])
            const read = [
              ...(yield* Stream.runCollect(archive.readDay("2024-01-01"))),
              ...(yield* Stream.runCollect(archive.readDay("2024-01-02")))
            ].map((e) => e.id)
            assert.deepStrictEqual(read.sort((a, b) => a - b), [...first, ...rest].map((e) => e.id).sort((a, b) => a - b))
            assert.deepStrictEqual(yield* sql.all("SELECT id FROM logs"), [])
          }).pipe(Effect.provide(liveArchiveStack(dir, platform(faults, folder, folderSync))))
        }), 30_000)
    }
  }

  it.effect("stale temp files of killed runs are swept when the archive layer is built, not only when a run starts", () =>
    Effect.gen(function*() {
      const dir = makeTempDir("nerve-archive-sweep-")
      const folder = join(dir, "archive", "logs")
      mkdirSync(folder, { recursive: true })
      const stale = join(folder, ".tmp.00112233445566778899aabbccddeeff")
      const young = join(folder, ".tmp.ffeeddccbbaa99887766554433221100")
      writeFileSync(stale, "half a day file")
      writeFileSync(young, "a live run's file")
      const twoHoursAgo = new Date(Date.now() - 2 * 60 * 60 * 1000)
      utimesSync(stale, twoHoursAgo, twoHoursAgo)
      yield* Effect.gen(function*() {
        yield* LogArchive
        assert.isFalse(existsSync(stale))
        assert.isTrue(existsSync(young))
      }).pipe(Effect.provide(liveArchiveStack(dir)))
    }))
})
