// The pure planners of src/domain against the SPEC's state-machine table (test/support/
// specStateMachine.ts, written apart from the implementation), by exhaustive enumeration: every
// stored status (or none) × every requested status × every lease standing × same or other
// workflow × exit codes. Small enough to try every case, so no sampling is needed.
import { assert, describe, it } from "@effect/vitest"
import { Result } from "effect"
import type { RunLease, WorkflowRun, WorkflowRunStatus } from "../../schema/WorkflowRun.ts"
import * as Idempotency from "../../src/domain/Idempotency.ts"
import * as Lease from "../../src/domain/Lease.ts"
import { chooseOrphans } from "../../src/domain/Orphans.ts"
import { type LeaseWrite, planTransition } from "../../src/domain/TransitionPlan.ts"
import { ALLOWED } from "../support/specStateMachine.ts"

const STATUSES: ReadonlyArray<WorkflowRunStatus> = [
  "queued",
  "started",
  "completed",
  "failed",
  "crashed",
  "interrupted",
  "dropped",
  "killed"
]
const TERMINAL = new Set<WorkflowRunStatus>(["completed", "failed", "dropped", "killed"])
const me: Lease.Owner = { name: "me", boot: "b2" }
const NOW = 1_000_000
const TTL = 30_000

/** Every lease standing, named by what the SPEC says of it. */
const LEASES: ReadonlyArray<{ readonly name: string; readonly lease: RunLease | null; readonly live: boolean; readonly orphan: boolean }> = [
  { name: "none", lease: null, live: false, orphan: true },
  { name: "mine", lease: { runId: "r", owner: "me", boot: "b2", expiresAt: NOW + 1 }, live: false, orphan: false },
  { name: "mine, lapsed", lease: { runId: "r", owner: "me", boot: "b2", expiresAt: NOW - 1 }, live: false, orphan: false },
  { name: "other, expired", lease: { runId: "r", owner: "other", boot: "x", expiresAt: NOW }, live: false, orphan: true },
  { name: "earlier boot", lease: { runId: "r", owner: "me", boot: "b1", expiresAt: NOW + 1 }, live: false, orphan: true },
  { name: "other, live", lease: { runId: "r", owner: "other", boot: "x", expiresAt: NOW + 1 }, live: true, orphan: false }
]

const stored = (status: WorkflowRunStatus, exitCode: number | null = null): WorkflowRun => ({
  runId: "r",
  workflow: "build",
  status,
  timestamp: 5,
  exitCode
})

describe("planTransition against the SPEC's table", () => {
  it("accepts exactly the SPEC's moves, retries and creations, and leases exactly queued and started", () => {
    let cases = 0
    for (const from of [null, ...STATUSES]) {
      for (const to of STATUSES) {
        for (const { lease, live, name } of LEASES) {
          for (const workflow of ["build", "deploy"]) {
            cases++
            const current = from === null ? null : stored(from)
            const plan = planTransition({
              stored: { run: current, lease },
              request: { runId: "r", workflow, status: to },
              entry: { source: "workflow", type: to },
              owner: me,
              now: NOW,
              ttlMs: TTL
            })
            const where = `${from ?? "new"} -> ${to}, lease ${name}, workflow ${workflow}`
            const legal = from === null ? ALLOWED.new.includes(to) : from === to || ALLOWED[from].includes(to)
            if (live) {
              assert.strictEqual(Result.isFailure(plan) && plan.failure._tag, "RunLeased", where)
            } else if (!legal) {
              assert.strictEqual(Result.isFailure(plan) && plan.failure._tag, "IllegalTransition", where)
            } else if (from !== null && workflow !== "build") {
              assert.strictEqual(Result.isFailure(plan) && plan.failure._tag, "RunMismatch", where)
            } else {
              assert.isTrue(Result.isSuccess(plan), where)
              if (Result.isFailure(plan)) continue
              const p = plan.success
              assert.deepStrictEqual([p.from, p.to, p.run.status, p.run.workflow, p.run.runId], [from, to, to, from === null ? workflow : "build", "r"], where)
              assert.deepStrictEqual([p.row.refId, p.row.timestamp, p.run.timestamp], ["r", NOW, NOW], where)
              const expected: LeaseWrite = to === "queued" || to === "started"
                ? { _tag: "Take", lease: { runId: "r", owner: "me", boot: "b2", expiresAt: NOW + TTL } }
                : lease === null
                ? { _tag: "Keep" }
                : { _tag: "Release" }
              assert.deepStrictEqual(p.lease, expected, where)
            }
          }
        }
      }
    }
    assert.strictEqual(cases, 9 * 8 * LEASES.length * 2)
  })

  it("keeps a terminal run's exit code on a retry and refuses another one", () => {
    for (const status of STATUSES) {
      for (const requested of [undefined, null, 0, 7]) {
        const plan = planTransition({
          stored: { run: stored(status, 7), lease: null },
          request: { runId: "r", workflow: "build", status, exitCode: requested },
          entry: { source: "workflow", type: status },
          owner: me,
          now: NOW,
          ttlMs: TTL
        })
        const where = `${status} retried with ${String(requested)}`
        if (TERMINAL.has(status) && requested !== undefined && requested !== 7) {
          assert.strictEqual(Result.isFailure(plan) && plan.failure._tag, "RunMismatch", where)
        } else {
          const expected = TERMINAL.has(status) || requested === undefined ? 7 : requested
          assert.strictEqual(Result.isSuccess(plan) && plan.success.exitCode, expected, where)
        }
      }
    }
  })

  it("keeps the entry's own refId and timestamp", () => {
    const plan = planTransition({
      stored: { run: null, lease: null },
      request: { runId: "r", workflow: "build", status: "started" },
      entry: { source: "s", type: "t", refId: null, payload: "p", timestamp: 42 },
      owner: me,
      now: NOW,
      ttlMs: TTL
    })
    assert.deepStrictEqual(Result.isSuccess(plan) && plan.success.row, { source: "s", type: "t", refId: null, payload: "p", timestamp: 42 })
  })
})

describe("chooseOrphans", () => {
  it("takes exactly the active runs nobody alive holds, started to crashed and queued to interrupted", () => {
    for (const includeQueued of [false, true]) {
      for (const status of STATUSES) {
        for (const { lease, orphan, name } of LEASES) {
          const chosen = chooseOrphans([{ run: stored(status), lease }], me, NOW, includeQueued)
          const wanted = orphan && (status === "started" || (includeQueued && status === "queued"))
          const where = `${status}, lease ${name}, includeQueued ${includeQueued}`
          assert.deepStrictEqual(chosen.map((o) => o.to), wanted ? [status === "started" ? "crashed" : "interrupted"] : [], where)
          // The recovery move is legal by the SPEC's table.
          for (const o of chosen) assert.isTrue(ALLOWED[status].includes(o.to), where)
        }
      }
    }
  })

  it("says why a run is an orphan", () => {
    const reasons = chooseOrphans(
      LEASES.filter((l) => l.orphan).map(({ lease }) => ({ run: stored("started"), lease })),
      me,
      NOW,
      false
    ).map((o) => o.reason)
    assert.deepStrictEqual(reasons, [
      "orphaned: no live owner held the run",
      "orphaned: the lease of other (boot x) expired",
      "orphaned: the lease of me (boot b1) belongs to an earlier boot"
    ])
  })
})

describe("lease standing", () => {
  it("classifies every lease for this owner", () => {
    assert.deepStrictEqual(LEASES.map(({ lease }) => Lease.standing(lease, me, NOW)), [
      "free",
      "mine",
      "mine",
      "expired",
      "earlierBoot",
      "held"
    ])
    assert.strictEqual(Lease.expiryAt(NOW, TTL), NOW + TTL)
  })
})

describe("idempotency fingerprints", () => {
  it("compare requests whatever their key order, and tell the operation from the request", () => {
    const a = Idempotency.fingerprint({ entry: { source: "s", type: "t" }, run: { runId: "r", status: "started" } })
    const b = Idempotency.fingerprint({ run: { status: "started", runId: "r" }, entry: { type: "t", source: "s" } })
    assert.strictEqual(a, b)
    assert.deepStrictEqual(Idempotency.judgeKey({ operation: "LogStore.append", request: a, result: "{}" }, "LogStore.append", b), {
      _tag: "Replay"
    })
    assert.strictEqual(Idempotency.judgeKey({ operation: "LogStore.append", request: a, result: "{}" }, "LogStore.transition", a)._tag, "Conflict")
    assert.strictEqual(Idempotency.judgeKey({ operation: "LogStore.append", request: a, result: "{}" }, "LogStore.append", "{}")._tag, "Conflict")
    assert.strictEqual(Idempotency.pruneBefore(Idempotency.IDEMPOTENCY_RETENTION_MS + 5), 5)
  })
})
