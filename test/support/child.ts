import { type ChildProcess, spawn } from "node:child_process"
import { join } from "node:path"

// A child that cannot be started (EACCES, ENOENT) emits `error` and never `exit`: without a
// listener that is an uncaught exception, and a promise waiting for its exit never settles. Every
// child made here records its spawn error at once, and every wait below rejects with it.
const spawnErrors = new WeakMap<ChildProcess, Error>()

/** Rejects `reject` with the child's spawn error, now if it already failed, or when it does. */
export const rejectOnSpawnError = (child: ChildProcess, reject: (error: Error) => void): void => {
  const early = spawnErrors.get(child)
  if (early !== undefined) return reject(early)
  child.once("error", reject)
}

/** Remembers the child's spawn error (so it is never unhandled), and returns the child. */
export const watchSpawn = (child: ChildProcess): ChildProcess => {
  child.on("error", (error) => spawnErrors.set(child, error))
  return child
}

/** Spawns `test/fixtures/<script>` on this Node (with `--conditions=source`), collecting its output. */
export const spawnFixture = (script: string, args: ReadonlyArray<string>, env: NodeJS.ProcessEnv = {}): ChildProcess =>
  watchSpawn(spawn(process.execPath, ["--conditions=source", join(import.meta.dirname, "..", "fixtures", script), ...args], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"]
  }))

/** Resolves when the child prints a line equal to `marker`; rejects if it exits first or cannot start. */
export const waitForLine = (child: ChildProcess, marker: string): Promise<void> =>
  new Promise((resolve, reject) => {
    let buffer = ""
    child.stdout?.on("data", (chunk: Buffer) => {
      buffer += chunk.toString()
      if (buffer.split("\n").includes(marker)) resolve()
    })
    child.on("exit", (code) => reject(new Error(`child exited (${code}) before printing ${marker}`)))
    rejectOnSpawnError(child, reject)
  })

/** Resolves with the exit code and stderr when the child ends; rejects if it cannot start. */
export const waitForExit = (child: ChildProcess): Promise<{ readonly code: number | null; readonly stderr: string }> =>
  new Promise((resolve, reject) => {
    let stderr = ""
    child.stderr?.on("data", (chunk: Buffer) => {
      stderr += chunk.toString()
    })
    child.on("exit", (code) => resolve({ code, stderr }))
    rejectOnSpawnError(child, reject)
  })

/**
 * Runs the Node script `script` (a path relative to `cwd`, with `--conditions=source`) to its end
 * and resolves with its exit code, stdout and stderr. A hang guard sends `hangSignal` (SIGKILL
 * unless given) after `hangMs` and rejects with the output so far; a spawn error rejects too.
 */
export const runScript = (
  script: string,
  args: ReadonlyArray<string>,
  options: { readonly cwd: string; readonly hangMs: number; readonly hangSignal?: NodeJS.Signals }
): Promise<{ readonly code: number | null; readonly stdout: string; readonly stderr: string }> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--conditions=source", join(options.cwd, script), ...args], {
      cwd: options.cwd,
      stdio: ["ignore", "pipe", "pipe"]
    })
    let stdout = ""
    let stderr = ""
    const guard = setTimeout(() => {
      child.kill(options.hangSignal ?? "SIGKILL")
      reject(new Error(`${script} hung; output so far:\n${stdout}\n${stderr}`))
    }, options.hangMs)
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()))
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()))
    child.on("error", (error) => {
      clearTimeout(guard)
      reject(error)
    })
    child.on("close", (code) => {
      clearTimeout(guard)
      resolve({ code, stdout, stderr })
    })
  })
