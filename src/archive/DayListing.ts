/**
 * What `days()` reports: every day file on disk and every manifest row, one entry per day, with
 * the day's status decided from the manifest, the pending publishes and the file sizes (cheap:
 * no file is read; `readDay`, `restore` and `archive` check the sha256).
 *
 * @since 0.7.0
 */
import { Option } from "effect"
import type { ArchivedDay, ArchivedDayStatus } from "../../schema/Archive.ts"
import type { UtcDay } from "../domain/UtcDay.ts"
import { dayFileName, parseDayFileName } from "../domain/DayFileName.ts"
import type { StoredFile } from "./DayFileStore.ts"
import type { ManifestRow, PendingRow } from "./Manifest.ts"

/** Everything the listing is made of, read by the caller. */
export interface ListingInput {
  readonly manifest: ReadonlyArray<ManifestRow>
  readonly pending: ReadonlyArray<PendingRow>
  readonly restored: ReadonlyMap<string, number>
  /** Names in the `quarantine/` folder. */
  readonly quarantined: ReadonlyArray<string>
  readonly files: ReadonlyArray<StoredFile>
  readonly describe: (name: string) => string
}

/** The archived days, oldest first. */
export const listDays = (input: ListingInput): ReadonlyArray<ArchivedDay> => {
  const manifestRows = new Map(input.manifest.map((row) => [row.day, row]))
  const pendingRows = new Map(input.pending.map((row) => [row.day, row]))
  const files = new Map(input.files.map((file) => [file.name, file]))
  const allDays = new Set<UtcDay>(manifestRows.keys())
  for (const name of files.keys()) {
    const parsed = parseDayFileName(name)
    if (Option.isSome(parsed)) allDays.add(parsed.value.day)
  }
  const out: Array<ArchivedDay> = []
  for (const day of [...allDays].sort()) {
    const row = manifestRows.get(day)
    const pending = pendingRows.get(day)
    const dayFiles = [dayFileName(day, false), dayFileName(day, true)].flatMap((name) => files.get(name) ?? [])
    const entry = (status: ArchivedDayStatus, name: string, bytes: number | null, record: ManifestRow | PendingRow | undefined): ArchivedDay => ({
      day,
      file: input.describe(name),
      compressed: name.endsWith(".gz"),
      status,
      bytes,
      lineCount: record?.lineCount ?? null,
      sha256: record?.sha256 ?? null,
      minId: record?.minId ?? null,
      maxId: record?.maxId ?? null,
      archivedAt: record === undefined ? null : "archivedAt" in record ? record.archivedAt : record.startedAt,
      restoredAt: input.restored.get(day) ?? null
    })
    const pendingFile = pending === undefined ? undefined : dayFiles.find((f) => f.name === pending.fileName && f.bytes === pending.bytes)
    const recordedFile = row === undefined ? undefined : dayFiles.find((f) => f.name === row.fileName)
    if (row !== undefined && recordedFile !== undefined && recordedFile.bytes === row.bytes) {
      out.push(entry("ok", row.fileName, recordedFile.bytes, row))
    } else if (pending !== undefined && pendingFile !== undefined) {
      out.push(entry("pending", pending.fileName, pendingFile.bytes, pending))
    } else if (row !== undefined && recordedFile !== undefined) {
      out.push(entry("mismatch", row.fileName, recordedFile.bytes, row))
    } else if (row !== undefined) {
      const moved = input.quarantined.some((name) => name.startsWith(`${row.fileName}.`))
      out.push(entry(moved ? "quarantined" : "missing", row.fileName, null, row))
    } else {
      const [first] = dayFiles
      if (first !== undefined) out.push(entry("unrecorded", first.name, first.bytes, undefined))
    }
  }
  return out
}
