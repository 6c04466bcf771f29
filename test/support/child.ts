import { type ChildProcess, spawn } from "node:child_process"
import { join } from "node:path"

/** Spawns `test/fixtures/<script>` on this Node (with `--conditions=source`), collecting its output. */
export const spawnFixture = (script: string, args: ReadonlyArray<string>, env: NodeJS.ProcessEnv = {}): ChildProcess =>
  spawn(process.execPath, ["--conditions=source", join(import.meta.dirname, "..", "fixtures", script), ...args], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"]
  })

/** Resolves when the child prints a line equal to `marker`. */
export const waitForLine = (child: ChildProcess, marker: string): Promise<void> =>
  new Promise((resolve, reject) => {
    let buffer = ""
    child.stdout?.on("data", (chunk: Buffer) => {
      buffer += chunk.toString()
      if (buffer.split("\n").includes(marker)) resolve()
    })
    child.on("exit", (code) => reject(new Error(`child exited (${code}) before printing ${marker}`)))
  })

/** Resolves with the exit code and stderr when the child ends. */
export const waitForExit = (child: ChildProcess): Promise<{ readonly code: number | null; readonly stderr: string }> =>
  new Promise((resolve) => {
    let stderr = ""
    child.stderr?.on("data", (chunk: Buffer) => {
      stderr += chunk.toString()
    })
    child.on("exit", (code) => resolve({ code, stderr }))
  })
