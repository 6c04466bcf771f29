import { assert, describe, it } from "@effect/vitest"
import { Effect, Schema } from "effect"
import * as store from "../../src/index.ts"

describe("the errors of the daemon features, second round (issue 16)", () => {
  it("are exported from the package with their SPEC fields, tags and messages", () => {
    const tooNew = new store.SchemaTooNew({ found: 99, known: 8 })
    assert.strictEqual(tooNew._tag, "SchemaTooNew")
    assert.include(tooNew.message, "99")
    assert.include(tooNew.message, "read-only")
    const inUse = new store.OwnerInUse({ owner: "daemon-a", boot: "b1", lastRenewedAt: Date.UTC(2026, 11, 5) })
    assert.include(inUse.message, "daemon-a")
    assert.include(inUse.message, "2026-12-05T00:00:00.000Z")
    assert.include(new store.LeaseLost({ runId: "r1", owner: "a" }).message, "r1")
    assert.include(new store.LeaseLost({ runId: "r1", owner: "a", newOwner: "b" }).message, "to b")
    assert.include(new store.RunFinished({ runId: "r1", status: "completed" }).message, "completed")
    const gap = new store.FollowGap({ afterId: 222, firstAvailableId: 323 })
    assert.include(gap.message, "222")
    assert.include(gap.message, "323")
  })

  it.effect("are caught by tag and survive a round trip through their schema", () =>
    Effect.gen(function*() {
      const caught = yield* Effect.fail(new store.RunFinished({ runId: "r", status: "crashed" })).pipe(
        Effect.catchTag("RunFinished", (e) => Effect.succeed(e.status))
      )
      assert.strictEqual(caught, "crashed")
      const lost = new store.LeaseLost({ runId: "r", owner: "a", newOwner: "b" })
      const encoded = Schema.encodeSync(store.LeaseLost)(lost)
      const decoded = Schema.decodeUnknownSync(store.LeaseLost)(encoded)
      assert.strictEqual(decoded.newOwner, "b")
      assert.isTrue(Schema.is(store.SchemaTooNew)(new store.SchemaTooNew({ found: 9, known: 8 })))
    }))

  it("the run errors moved to schema/RunErrors.ts are the same classes through schema/Errors.ts", async () => {
    const errors = await import("../../schema/Errors.ts")
    const runErrors = await import("../../schema/RunErrors.ts")
    assert.strictEqual(errors.IllegalTransition, runErrors.IllegalTransition)
    assert.strictEqual(errors.RunLeased, runErrors.RunLeased)
    assert.strictEqual(errors.RunNotFound, store.RunNotFound)
  })
})
