// Vitest global setup of the `pg` test project (vitest.config.ts): the PostgreSQL server the
// test files make their databases on. `.ci/run` starts one and passes its URL as
// NERVE_TEST_DATABASE_URL; run locally with no URL, this starts a throwaway one the same way
// (scripts/pg-server.sh) and stops it, removing its folder, after the run. A server that cannot
// be started fails the run: the PostgreSQL tests never skip.
import { execFile } from "node:child_process"
import { fileURLToPath } from "node:url"
import type { TestProject } from "vitest/node"

declare module "vitest" {
  export interface ProvidedContext {
    nerveTestDatabaseUrl: string
  }
}

const script = fileURLToPath(new URL("../../scripts/pg-server.sh", import.meta.url))

/** Runs scripts/pg-server.sh; rejects with its stderr when it fails or cannot be spawned. */
const pgServer = (args: ReadonlyArray<string>, env: Readonly<Record<string, string>> = {}): Promise<string> =>
  new Promise((resolve, reject) => {
    execFile(script, [...args], { encoding: "utf8", timeout: 180_000, env: { ...process.env, ...env } }, (error, stdout, stderr) => {
      if (error) reject(new Error(`scripts/pg-server.sh ${args.join(" ")} failed: ${stderr || error.message}`))
      else resolve(stdout)
    })
  })

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const given = process.env.NERVE_TEST_DATABASE_URL
  if (given !== undefined && given !== "") {
    project.provide("nerveTestDatabaseUrl", given)
    return async () => {}
  }
  // NERVE_PG_WATCH_PID: the script leaves a watchdog that stops the server once this process has
  // ended, in case it ends without the teardown below (killed, crashed, interrupted).
  const [url, folder] = (await pgServer(["start"], { NERVE_PG_WATCH_PID: String(process.pid) })).trim().split("\n")
  if (url === undefined || folder === undefined) throw new Error("scripts/pg-server.sh start printed no URL and folder")
  project.provide("nerveTestDatabaseUrl", url)
  return async () => {
    await pgServer(["stop", folder])
  }
}
