/**
 * `npm run bench`: runs every benchmark script in its own process (so RSS figures stay
 * independent), one after another, and prints what each reports. Each script prints its
 * figures as ratios to a baseline measured side by side in the same run.
 *
 * `npm run bench -- logstore` runs only the scripts whose name contains "logstore".
 */
import { spawnSync } from "node:child_process"
import { readdirSync } from "node:fs"
import { join } from "node:path"

const filters = process.argv.slice(2)
const scripts = readdirSync(import.meta.dirname)
  .filter((name) => name.endsWith(".ts") && name !== "run.ts" && !name.startsWith("_"))
  .filter((name) => filters.length === 0 || filters.some((filter) => name.includes(filter)))
  .sort()

let failed = 0
for (const script of scripts) {
  console.log(`\n== bench/${script}`)
  const result = spawnSync(process.execPath, ["--conditions=source", "--expose-gc", join(import.meta.dirname, script)], {
    stdio: "inherit"
  })
  if (result.status !== 0) {
    failed++
    console.log(`bench/${script} exited with ${result.status ?? result.signal}`)
  }
}
process.exitCode = failed === 0 ? 0 : 1
