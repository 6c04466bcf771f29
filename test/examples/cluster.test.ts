// `npm run start:cluster` (examples/cluster.ts): a throwaway PostgreSQL server, three daemon
// processes sharing queued runs through `claimQueued`, one killed with -9; the report says who ran
// what, and the killed daemon's run was taken over by another daemon after its lease.
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { existsSync } from "node:fs"
import { join } from "node:path"
import { runScript } from "../support/child.ts"

const ROOT = join(import.meta.dirname, "..", "..")

/** Runs the demo; a hang guard interrupts it (and fails the test) after 240 s. */
const runDemo = () => runScript("examples/cluster.ts", [], { cwd: ROOT, hangMs: 240_000, hangSignal: "SIGINT" })

describe("npm run start:cluster", () => {
  it.live("three daemons share the queued runs; a killed daemon's run is taken over after its lease; the server is removed", () =>
    Effect.gen(function*() {
      const { code, stderr, stdout } = yield* Effect.promise(runDemo)
      assert.strictEqual(code, 0, `${stdout}\n${stderr}`)
      assert.match(stdout, /cluster demo: a throwaway PostgreSQL server at postgres:\/\/nerve@127\.0\.0\.1:\d+\/postgres \(in (\S+), removed at the end\)/)
      assert.match(stdout, /killed daemon-c with -9 while it ran (run-\d\d)/)
      const run = /killed daemon-c with -9 while it ran (run-\d\d)/.exec(stdout)![1]!
      assert.match(stdout, /who ran what:\n {2}daemon-a: .+\n {2}daemon-b: .+\n {2}daemon-c: .+ \(killed\)/)
      assert.match(stdout, /completed 12\/12 runs; 12 completed exactly once/)
      // The kill lands while daemon-c works on the run (300 ms), so the run was crashed by another
      // daemon; if it had finished first, the demo says so instead.
      const takeover = new RegExp(`(daemon-[ab]) took daemon-c's run after its lease ended`).exec(stdout)
      if (takeover !== null) {
        assert.match(stdout, new RegExp(`${run}: started by daemon-c → crashed by ${takeover[1]} → .*completed by daemon-[ab]`))
      } else {
        assert.include(stdout, `daemon-c had finished ${run} before the kill landed`)
      }
      const folder = /\(in (\S+), removed at the end\)/.exec(stdout)![1]!
      assert.isFalse(existsSync(folder), `${folder} is removed`)
    }), 300_000)
})
