/**
 * `Maintenance.stats`' report assembled from what a backend read (the same on every backend):
 * the log's range, runs by status, the archive watermark and what is behind it, live owners, and
 * the sizes of the files beside the database.
 *
 * @since 0.9.0
 */
import type { StatsReport } from "../../schema/MaintenanceReports.ts"
import { utcDateStringFromMs } from "./UtcDay.ts"

/** What a backend reads of its database for `stats`. */
export interface StatsFromDatabase {
  readonly range: {
    readonly n: number
    readonly minId: number | null
    readonly maxId: number | null
    readonly minTs: number | null
    readonly maxTs: number | null
  }
  readonly byStatus: ReadonlyArray<{ readonly status: string; readonly n: number }>
  readonly archivedUpTo: StatsReport["archivedUpTo"]
  readonly behindArchive: StatsReport["behindArchive"]
  readonly owners: StatsReport["owners"]
}

/** How many files and bytes a folder holds. */
export interface FolderUsage {
  readonly files: number
  readonly bytes: number
}

/** The report of a data directory whose database read `fromDb`. */
export const statsReport = (input: {
  readonly dataDir: string
  readonly fromDb: StatsFromDatabase
  readonly archive: FolderUsage
  readonly blobs: FolderUsage
  readonly database: number
  readonly wal: number
}): StatsReport => {
  const { range } = input.fromDb
  return {
    dataDir: input.dataDir,
    rows: range.n,
    minId: range.minId,
    maxId: range.maxId,
    oldestDay: range.minTs === null ? null : utcDateStringFromMs(range.minTs),
    newestDay: range.maxTs === null ? null : utcDateStringFromMs(range.maxTs),
    runs: input.fromDb.byStatus.reduce((sum, s) => sum + s.n, 0),
    runsByStatus: Object.fromEntries(input.fromDb.byStatus.map((s) => [s.status, s.n])),
    archivedUpTo: input.fromDb.archivedUpTo,
    behindArchive: input.fromDb.behindArchive,
    archivedDays: input.archive.files,
    blobCount: input.blobs.files,
    sizes: { database: input.database, wal: input.wal, archive: input.archive.bytes, blobs: input.blobs.bytes },
    owners: input.fromDb.owners
  }
}
