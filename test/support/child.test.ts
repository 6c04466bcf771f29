// Issue 19 item 11: a child that cannot be started (EACCES, ENOENT) emits `error` and never
// `exit`; the helpers must settle (reject) instead of waiting for good.
import { assert, describe, it } from "@effect/vitest"
import { spawn } from "node:child_process"
import { chmodSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { waitForExit, waitForLine, watchSpawn } from "./child.ts"
import { makeTempDir } from "./tempDir.ts"

describe("child-process helpers", () => {
  it("a program that does not exist: waitForExit and waitForLine reject with the spawn error", async () => {
    const missing = join(makeTempDir(), "no-such-program")
    const exit = await waitForExit(watchSpawn(spawn(missing, [], { stdio: ["ignore", "pipe", "pipe"] }))).then(
      () => "resolved",
      (error: Error) => error.message
    )
    assert.include(exit, "ENOENT")
    const line = await waitForLine(watchSpawn(spawn(missing, [], { stdio: ["ignore", "pipe", "pipe"] })), "ready").then(
      () => "resolved",
      (error: Error) => error.message
    )
    assert.include(line, "ENOENT")
  })

  it("a program that may not be run (no execute permission), even when the error came before anyone waited", async () => {
    const script = join(makeTempDir(), "not-executable")
    writeFileSync(script, "#!/bin/sh\necho ready\n")
    chmodSync(script, 0o644)
    const child = watchSpawn(spawn(script, [], { stdio: ["ignore", "pipe", "pipe"] }))
    await new Promise((resolve) => setTimeout(resolve, 50)) // let the error event pass first
    const settled = await waitForExit(child).then(() => "resolved", (error: Error) => error.message)
    // execve needs an execute bit even for root.
    assert.include(settled, "EACCES")
  })
})
