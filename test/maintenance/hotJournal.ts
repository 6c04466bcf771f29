// A data directory whose nerve.db (a 0.5 file) was left with a hot rollback journal by a SIGKILL
// inside a write transaction, as a kill inside the switch of a 0.5 file to WAL leaves it.
import { spawn } from "node:child_process"
import { existsSync, mkdirSync, statSync } from "node:fs"
import { join } from "node:path"
import { create05Database } from "../fixtures/sqlite-legacy05.ts"

/** Makes `<dataDir>/nerve.db` (0.5 rows, DELETE journal) with a hot `nerve.db-journal` beside it. */
export const makeHotJournal = (dataDir: string): Promise<void> =>
  new Promise((resolve, reject) => {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 })
    const filename = join(dataDir, "nerve.db")
    create05Database(filename, true)
    const child = spawn(process.execPath, [join(import.meta.dirname, "fixtures", "hot-journal-child.ts"), filename], {
      stdio: ["ignore", "pipe", "pipe"]
    })
    let stderr = ""
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()))
    child.on("error", reject)
    child.on("exit", (_code, signal) => {
      const journal = `${filename}-journal`
      if (signal === "SIGKILL" && existsSync(journal) && statSync(journal).size > 0) resolve()
      else reject(new Error(`no hot journal (signal ${signal}): ${stderr}`))
    })
  })
