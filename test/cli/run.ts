// Runs the `nerve-store` CLI (from source, on this Node) as a child process and collects its output.
import { Effect, Schema } from "effect"
import { spawn } from "node:child_process"
import { createHash } from "node:crypto"
import { readdirSync, readFileSync, statSync } from "node:fs"
import { join } from "node:path"

export const ROOT = join(import.meta.dirname, "..", "..")
export const MAIN = join(ROOT, "src", "cli", "main.ts")

export interface CliResult {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

/** `nerve-store <args>`; `input` is written to its stdin. */
export const runCli = (
  args: ReadonlyArray<string>,
  options: {
    readonly input?: string | Uint8Array
    readonly env?: NodeJS.ProcessEnv
    readonly cwd?: string
    /** Another entry point than the CLI (e.g. `examples/daemon.ts`). */
    readonly script?: string
  } = {}
): Promise<CliResult> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--conditions=source", options.script ?? MAIN, ...args], {
      cwd: options.cwd ?? ROOT,
      env: withoutDataDir({ ...process.env, ...options.env }),
      stdio: ["pipe", "pipe", "pipe"]
    })
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()))
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()))
    child.on("error", reject)
    child.on("close", (code) => resolve({ code, stdout, stderr }))
    child.stdin.end(options.input ?? "")
  })

const withoutDataDir = (env: NodeJS.ProcessEnv): NodeJS.ProcessEnv => {
  if (env.NERVE_DATA_DIR === undefined || env.NERVE_DATA_DIR === "") delete env.NERVE_DATA_DIR
  return env
}

/** The non-empty lines of `text`. */
export const lines = (text: string): ReadonlyArray<string> => text.split("\n").filter((line) => line.trim() !== "")

/** A fingerprint of every file under `dir` (name, size, sha256): equal before and after = untouched. */
export const fingerprint = (dir: string): string => {
  const out: Array<string> = []
  const walk = (folder: string) => {
    for (const name of readdirSync(folder).sort()) {
      const path = join(folder, name)
      const info = statSync(path)
      if (info.isDirectory()) walk(path)
      else out.push(`${path} ${info.size} ${createHash("sha256").update(readFileSync(path)).digest("hex")}`)
    }
  }
  walk(dir)
  return out.join("\n")
}

/** `runCli` as an Effect (for `it.live`). */
export const cli = (
  args: ReadonlyArray<string>,
  options?: Parameters<typeof runCli>[1]
): Effect.Effect<CliResult> => Effect.promise(() => runCli(args, options))

/** Decodes the CLI's `--json` document with its schema (as a script would). */
export const decodeJson = <S extends Schema.Top & { readonly DecodingServices: never }>(schema: S, text: string): S["Type"] =>
  Schema.decodeUnknownSync(Schema.toCodecJson(schema))(JSON.parse(text))

/** Decodes JSON Lines output, one document per line. */
export const decodeJsonLines = <S extends Schema.Top & { readonly DecodingServices: never }>(schema: S, text: string): ReadonlyArray<S["Type"]> =>
  lines(text).map((line) => decodeJson(schema, line))
