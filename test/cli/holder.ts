// Child process of the CLI tests: a daemon stack (owner `argv[3]`) that starts run `argv[4]`,
// prints "ready" and holds its lease (renewed) until it is killed.
import { NodeRuntime } from "@effect/platform-node"
import { Effect } from "effect"
import { NerveStoreLive } from "../../layers/index.ts"
import { LogStore } from "../../src/LogStore.ts"

const [dataDir = "", owner = "holder", runId = "held"] = process.argv.slice(2)

const program = Effect.gen(function*() {
  const log = yield* LogStore
  yield* log.transition({ source: "workflow", type: "started" }, { runId, workflow: "hold", status: "started" })
  process.stdout.write("ready\n")
  return yield* Effect.never
}).pipe(Effect.provide(NerveStoreLive({ dataDir, owner, leaseTtl: "60 seconds" })))

NodeRuntime.runMain(program)
