import { assert, it } from "@effect/vitest"
import { Effect } from "effect"
import { twoBoots } from "../../examples/daemon-memory.ts"
import { DEMO_LEASE_TTL, DEMO_OWNER } from "../../examples/daemon.ts"
import { Duration } from "effect"

it.effect("the daemon example runs on the memory stack under TestClock, and a second boot recovers what the first left", () =>
  Effect.gen(function*() {
    const { first, second, orphan } = yield* twoBoots
    const statuses = new Set(Object.values(first.outcomes))
    for (const status of ["completed", "failed", "dropped", "interrupted", "started"] as const) {
      assert.isTrue(statuses.has(status), `first boot has a ${status} run`)
    }
    assert.isAbove(first.messages, 0)
    assert.isAbove(first.blobs, 0)
    assert.strictEqual(first.archivedDays.length, 3)
    assert.deepStrictEqual(second.recovered, [first.orphan])
    assert.deepStrictEqual(orphan.map((t) => t.to), ["started", "crashed", "started", orphan.at(-1)?.to])
    assert.include(["completed", "failed", "interrupted"], orphan.at(-1)?.to)
    const interrupted = Object.entries(first.outcomes).filter(([, s]) => s === "interrupted").map(([id]) => id)
    assert.sameMembers([...second.resumed], interrupted)
    assert.strictEqual(second.boot, 2)
    // One stable owner name, a fresh boot id per boot; the orphan's lease is renewed within its TTL.
    assert.deepStrictEqual([first.owner.name, second.owner.name], [DEMO_OWNER, DEMO_OWNER])
    assert.notStrictEqual(first.owner.boot, second.owner.boot)
    assert.strictEqual(first.orphanLease?.owner, DEMO_OWNER)
    assert.strictEqual(first.orphanLease?.boot, first.owner.boot)
    const left = (first.orphanLease?.expiresAt ?? 0) - first.at
    assert.isTrue(left > 0 && left <= Duration.toMillis(DEMO_LEASE_TTL), `lease ends ${left} ms after the report`)
  }))
