// White-box checks of LogArchive on SQLite: planted day files, rows and manifest rows written
// by raw SQL, and the stored round counts. What every backend must do is in contract.test.ts.
import { assert, describe, it } from "@effect/vitest"
import { Effect, type Layer, Stream } from "effect"
import type { DatabaseError } from "../../schema/Errors.ts"
import { DayFiles } from "../../src/archive/DayFileStore.ts"
import { LogArchive } from "../../src/LogArchive.ts"
import { LogStore } from "../../src/LogStore.ts"
import * as ThreadRoundCounts from "../../src/sqlite/ThreadRoundCounts.ts"
import { Sqlite } from "../../src/sqlite/Sqlite.ts"
import { utcDayStartMs } from "../../src/domain/UtcDay.ts"
import { type ArchiveStack, liveArchiveStack, memoryArchiveStack } from "../support/archiveStack.ts"
import { makeTempDir } from "../support/tempDir.ts"
import { roundCountsFollowRows } from "./roundsScenario.ts"

const NOW = Date.UTC(2024, 2, 31, 12)

const at = (day: string, offsetMs = 0) => utcDayStartMs(day) + offsetMs

const append = (timestamps: ReadonlyArray<number>, source = "test") =>
  Effect.gen(function*() {
    const log = yield* LogStore
    return yield* log.appendMany(timestamps.map((timestamp, i) => ({ source, type: "t", payload: `p${i}`, timestamp })))
  })

const sqliteIds = Effect.gen(function*() {
  const sql = yield* Sqlite
  return (yield* sql.all("SELECT id FROM logs ORDER BY id")).map((row) => Number(row.id))
})

const plant = (name: string, text: string) =>
  Effect.gen(function*() {
    const store = yield* DayFiles
    const temp = yield* store.writeTemp(Stream.make(new TextEncoder().encode(text)))
    yield* store.publish(temp, name)
  })

const storageChecks = (name: string, makeLayer: () => Layer.Layer<ArchiveStack, DatabaseError>) =>
  describe(`LogArchive on SQLite, white-box (${name})`, () => {
    const test = (title: string, body: () => Effect.Effect<void, unknown, ArchiveStack>) =>
      it.effect(title, () => body().pipe(Effect.provide(makeLayer())))

    test("a malformed line fails with ArchiveError naming the file and the line", () =>
      Effect.gen(function*() {
        const archive = yield* LogArchive
        const good = JSON.stringify({ id: 1, source: "s", type: "t", refId: null, payload: "x", timestamp: at("2024-01-07") })
        yield* plant("2024-01-07.jsonl", `${good}\n{"id":"two"}\n`)
        const error = yield* Effect.flip(Stream.runCollect(archive.readDay("2024-01-07")))
        assert.strictEqual(error._tag, "ArchiveError")
        if (error._tag === "ArchiveError") {
          assert.strictEqual(error.line, 2)
          assert.isTrue(error.file.endsWith("2024-01-07.jsonl"))
        }
        // Archiving a back-dated row into that day refuses to merge the bad file and deletes nothing.
        yield* append([at("2024-01-07", 5)])
        const archiveError = yield* Effect.flip(archive.archive({ now: NOW }))
        assert.strictEqual(archiveError._tag, "ArchiveError")
        assert.strictEqual((yield* sqliteIds).length, 1)
      }))

    test("a row whose columns do not fit the log format fails with CorruptRow and nothing is deleted", () =>
      Effect.gen(function*() {
        const archive = yield* LogArchive
        const sql = yield* Sqlite
        yield* append([at("2024-01-01", 1)])
        yield* sql.run("INSERT INTO logs (source, type, payload, timestamp) VALUES ('s', 't', X'00ff', ?)", [at("2024-01-01", 2)])
        const error = yield* Effect.flip(archive.archive({ now: NOW }))
        assert.strictEqual(error._tag, "CorruptRow")
        assert.strictEqual((yield* sqliteIds).length, 2)
        assert.deepStrictEqual(yield* archive.days(), [])
      }))

    test("a manifest row that does not fit its schema fails with CorruptRow naming the table, the day and the field", () =>
      Effect.gen(function*() {
        const archive = yield* LogArchive
        const sql = yield* Sqlite
        yield* append([at("2024-01-05", 1)])
        yield* archive.archive({ now: NOW })
        yield* sql.run("UPDATE archive_manifest SET sha256 = 'not a hash' WHERE day = ?", ["2024-01-05"])
        for (
          const error of [
            yield* Effect.flip(archive.days()),
            yield* Effect.flip(Stream.runCollect(archive.readDay("2024-01-05")))
          ]
        ) {
          assert.strictEqual(error._tag, "CorruptRow")
          if (error._tag === "CorruptRow") {
            assert.strictEqual(error.table, "archive_manifest")
            assert.strictEqual(error.key, "2024-01-05")
            assert.include(error.reason, "sha256")
          }
        }
      }))

    test("the stored role-round counts match the rows after every archive and restore of days", () =>
      roundCountsFollowRows(Effect.gen(function*() {
        assert.deepStrictEqual(yield* ThreadRoundCounts.mismatches(yield* Sqlite), [])
      })))
  })

storageChecks("file system", () => liveArchiveStack(makeTempDir("nerve-archive-")))
storageChecks("memory", memoryArchiveStack)
