// Shared by the archive and event-loop benchmarks: a migrated nerve.db holding `rows` thread
// messages spread over one old UTC day, written with raw node:sqlite in one transaction (then the
// runs' round counts are recounted, as `db upgrade` would, so the archive finds them kept).
import { Effect } from "effect"
import { join } from "node:path"
import { DatabaseSync } from "node:sqlite"
import { DatabaseFile } from "../layers/index.ts"
import * as ThreadRoundCounts from "../src/sqlite/ThreadRoundCounts.ts"
import { Database } from "../src/sqlite/Database.ts"

/** The day the rows are dated in. */
export const SEEDED_DAY = Date.UTC(2024, 0, 1)

export const seedDay = async (dataDir: string, rows: number): Promise<void> => {
  const filename = join(dataDir, "nerve.db")
  await Effect.runPromise(Effect.provide(Effect.void, DatabaseFile({ filename })))
  const db = new DatabaseSync(filename, { timeout: 10_000 })
  db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL")
  const insert = db.prepare("INSERT INTO logs (source, type, ref_id, payload, timestamp) VALUES (?, ?, ?, ?, ?)")
  const payload = JSON.stringify({ role: "assistant", content: "x".repeat(80) })
  db.exec("BEGIN")
  for (let i = 0; i < rows; i++) {
    insert.run("workflow", "thread_workflow_message", `run-${i % 1000}`, payload, SEEDED_DAY + Math.floor(i * (86_400_000 / rows)))
  }
  db.exec("COMMIT")
  db.close()
  await Effect.runPromise(Effect.provide(Database.use((database) => ThreadRoundCounts.rebuild(database.sql)), DatabaseFile({ filename })))
  const checkpoint = new DatabaseSync(filename, { timeout: 10_000 })
  checkpoint.exec("PRAGMA wal_checkpoint(TRUNCATE)")
  checkpoint.close()
}
