// Runs a shell command line the way an operator types it: in a pipe (`| head`), or in a real
// pseudo-terminal of a given width (`script` from util-linux; `stty cols` sets the width).
import { spawn } from "node:child_process"
import { MAIN, ROOT } from "./run.ts"

/** The CLI as a shell word list: `${CLI} --data-dir …`. */
export const CLI = `'${process.execPath}' --conditions=source '${MAIN}'`

export interface ShellResult {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

/** `bash -c command` (with pipes), its output and exit code. */
export const sh = (command: string, env: NodeJS.ProcessEnv = {}): Promise<ShellResult> =>
  new Promise((resolve, reject) => {
    const child = spawn("bash", ["-c", command], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] })
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()))
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()))
    child.on("error", reject)
    child.on("close", (code) => resolve({ code, stdout, stderr }))
  })

/**
 * `command` in a pseudo-terminal `columns` wide: what it drew (stdout and stderr together, with
 * `\r\n` line ends as a terminal gets them, turned back into `\n`) and its exit code.
 */
export const inTerminal = (command: string, columns: number, env: NodeJS.ProcessEnv = {}): Promise<{ readonly code: number | null; readonly output: string }> =>
  new Promise((resolve, reject) => {
    const child = spawn("script", ["-qefc", `stty cols ${columns} rows 50; ${command}`, "/dev/null"], {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"]
    })
    let output = ""
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()))
    child.on("error", reject)
    child.on("close", (code) => resolve({ code, output: output.replace(/\r\n/g, "\n") }))
  })

/** The display width of a line as a terminal draws it (wide CJK characters take two cells). */
export const cells = (line: string): number =>
  [...line].reduce((sum, char) => sum + (/[\u1100-\u115f\u2e80-\u9fff\uac00-\ud7a3\uf900-\ufaff\uff00-\uff60]/.test(char) ? 2 : 1), 0)
