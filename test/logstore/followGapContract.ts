// Issue 16 item 6: `follow` never skips archived rows silently. Rows after its cursor that the
// archive moved out fail the stream with FollowGap, for a live follower that fell behind and for
// one resuming from a saved cursor. A stack's suite runs it with `followGapSuite(name, () => layer)`
// (follow-gap.test.ts for SQLite and memory, test/pg/follow-gap.test.ts for PostgreSQL).
import { assert, describe, it } from "@effect/vitest"
import { Deferred, Effect, Fiber, type Layer, Stream } from "effect"
import type { NerveStore } from "../../layers/index.ts"
import { LogArchive } from "../../src/LogArchive.ts"
import type { LogEntry } from "../../schema/LogEntry.ts"
import { LogStore } from "../../src/LogStore.ts"

const OLD = Date.parse("2020-03-01T10:00:00Z")
const NEW = Date.parse("2020-06-01T10:00:00Z")
const NOW = Date.parse("2020-06-02T00:00:00Z")
const row = (n: number, timestamp: number) => ({ source: "s", type: "t", payload: `row ${n}`, timestamp })

export const followGapSuite = (name: string, makeLayer: () => Layer.Layer<NerveStore, { readonly _tag: string }>) =>
  describe(`follow and the archive: ${name}`, () => {
    it.effect("a live follower whose next rows were archived while it ran fails with FollowGap", () =>
      Effect.gen(function*() {
        const log = yield* LogStore
        const archive = yield* LogArchive
        const first = yield* log.appendMany([row(1, OLD), row(2, OLD), row(3, OLD)])
        const gate = yield* Deferred.make<void>()
        const seen: Array<LogEntry> = []
        const holding = yield* Deferred.make<void>()
        // The follower takes rows 1–3, then is held up (a slow consumer) on the third.
        const follower = yield* Effect.forkChild(Stream.runForEach(log.follow({ afterId: 0 }), (entry) =>
          Effect.gen(function*() {
            seen.push(entry)
            if (entry.id === first[2]!.id) {
              yield* Deferred.succeed(holding, undefined)
              yield* Deferred.await(gate)
            }
          })))
        yield* Deferred.await(holding)
        // Meanwhile rows 4–6 are appended and the whole old day archived, then row 7 appended.
        yield* log.appendMany([row(4, OLD), row(5, OLD), row(6, OLD)])
        const result = yield* archive.archive({ now: NOW })
        assert.strictEqual(result.days.reduce((n, day) => n + day.rowCount, 0), 6)
        const last = yield* log.append(row(7, NEW))
        yield* Deferred.succeed(gate, undefined)
        const error = yield* Effect.flip(Fiber.join(follower))
        assert.deepStrictEqual(
          error._tag === "FollowGap" ? [error.afterId, error.firstAvailableId] : error,
          [first[2]!.id, last.id]
        )
        assert.deepStrictEqual(seen.map((entry) => entry.payload), ["row 1", "row 2", "row 3"])
      }).pipe(Effect.provide(makeLayer())))

    it.effect("a follower resuming from a saved cursor before archived rows fails with FollowGap; after them it follows", () =>
      Effect.gen(function*() {
        const log = yield* LogStore
        const archive = yield* LogArchive
        const old = yield* log.appendMany([1, 2, 3, 4, 5].map((n) => row(n, OLD)))
        yield* archive.archive({ now: NOW })
        const kept = yield* log.append(row(6, NEW))
        const error = yield* Effect.flip(Stream.runCollect(Stream.take(log.follow({ afterId: old[1]!.id }), 1)))
        assert.deepStrictEqual(error._tag === "FollowGap" ? [error.afterId, error.firstAvailableId] : error, [old[1]!.id, kept.id])
        // With a filter too: the archived rows might have matched it.
        const filtered = yield* Effect.flip(Stream.runCollect(Stream.take(log.follow({ afterId: 0, type: "t" }), 1)))
        assert.strictEqual(filtered._tag, "FollowGap")
        // From the first available id on (or by default, from now on) nothing is missing.
        const resumed = yield* Stream.runCollect(Stream.take(log.follow({ afterId: old[4]!.id }), 1))
        assert.deepStrictEqual(Array.from(resumed), [kept])
      }).pipe(Effect.provide(makeLayer())))
  })
