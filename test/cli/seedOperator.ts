// A data directory with what an operator trips over: a 77-character run id, stored control
// characters and CJK text, a run whose started row is JSON but not a trigger, rows with and
// without a ref id, blobs that rows reference (payload, meta.blob, meta.blobs) and some they do not.
import { Effect } from "effect"
import { BlobStore, LogStore } from "../../src/index.ts"
import { NerveStoreLive } from "../../layers/index.ts"

export const LONG_RUN = `r-${"long".repeat(18)}-end` // 77 characters
export const ESCAPE_TEXT = "before\u001b[2Jafter"
export const CJK_TEXT = "日本語のメッセージ、とても長い内容がここに続きます。".repeat(4)
export const NO_TRIGGER_RUN = "r-no-trigger"
export const RUNS = 60

export interface OperatorSeed {
  /** Blobs some row references. */
  readonly referenced: ReadonlyArray<string>
  /** Blobs no row references. */
  readonly unreferenced: ReadonlyArray<string>
  /** A blob of binary bytes. */
  readonly binary: string
}

export const seedOperator = (dataDir: string): Promise<OperatorSeed> =>
  Effect.runPromise(Effect.gen(function*() {
    const log = yield* LogStore
    const blobs = yield* BlobStore
    yield* log.transition({ source: "workflow", type: "started", payload: JSON.stringify({ prompt: "p", maxRounds: 2 }) }, { runId: LONG_RUN, workflow: "build", status: "started" })
    yield* log.appendThreadMessage(LONG_RUN, { role: "user", content: ESCAPE_TEXT })
    yield* log.appendThreadMessage(LONG_RUN, { role: "assistant", content: CJK_TEXT })
    yield* log.transition({ source: "workflow", type: "started", payload: JSON.stringify({ workflowInput: { branch: "main" } }) }, { runId: NO_TRIGGER_RUN, workflow: "deploy", status: "started" })
    for (let i = 0; i < RUNS; i++) {
      yield* log.transition({ source: "workflow", type: "queued" }, { runId: `r-${String(i).padStart(3, "0")}`, workflow: "batch", status: "queued" })
    }
    const referenced = [
      yield* blobs.write("referenced by a payload's blob"),
      yield* blobs.write("referenced by meta.blob"),
      yield* blobs.write("referenced by meta.blobs 1"),
      yield* blobs.write("referenced by meta.blobs 2")
    ]
    const binary = yield* blobs.write(new Uint8Array([0, 1, 2, 3, 255, 254, 0x1b, 0x5b, 0x32, 0x4a]))
    const unreferenced = [binary, yield* blobs.write("nobody points here")]
    yield* log.append({ source: "tool", type: "output", payload: JSON.stringify({ blob: referenced[0]?.toUpperCase() }) })
    yield* log.appendThreadMessage(LONG_RUN, { role: "tool", content: "wrote a file", meta: { blob: referenced[1] } })
    yield* log.appendThreadMessage(LONG_RUN, { role: "tool", content: "wrote two", meta: { blobs: [referenced[2], referenced[3]] } })
    yield* log.append({ source: "tool", type: "output", refId: "with-ref", payload: JSON.stringify({ blob: "not-a-digest" }) })
    return { referenced, unreferenced, binary }
  }).pipe(Effect.provide(NerveStoreLive({ dataDir }))))
