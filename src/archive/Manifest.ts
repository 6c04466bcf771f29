/**
 * Rules over the archive's bookkeeping (the manifest row and the claim of a day, as read through
 * `ArchiveRepository`): which files a day's file may be, and whether two reads describe the same
 * files. The rows themselves are declared with the seam (`src/seam/ArchiveRepository.ts`).
 *
 * @since 0.6.0
 */
import { Option } from "effect"
import type { ArchiveRepositoryShape, DayRecord, ManifestRow, PendingRow } from "../seam/ArchiveRepository.ts"

export type { DayRecord, ManifestRow, PendingRow }

/** What the day reader needs of the bookkeeping: the record of a day, read at one moment. */
export type Manifest = Pick<ArchiveRepositoryShape, "record">

/** The size and hash a file must have to be the one recorded. */
export interface FileIdentity {
  readonly bytes: number
  readonly sha256: string
}

const sameIdentity = (a: FileIdentity, b: FileIdentity): boolean => a.bytes === b.bytes && a.sha256 === b.sha256

/** Whether two reads of a day's record describe the same files. */
export const sameRecord = (a: DayRecord, b: DayRecord): boolean => {
  const same = <A extends FileIdentity & { readonly fileName: string }>(x: Option.Option<A>, y: Option.Option<A>) =>
    Option.isNone(x) ? Option.isNone(y) : Option.isSome(y) && x.value.fileName === y.value.fileName && sameIdentity(x.value, y.value)
  return same(a.manifest, b.manifest) && same(a.pending, b.pending)
}

/** The files (name, size, hash) a day's file may be: the recorded one, or the pending one. */
export const acceptedFiles = (record: DayRecord): ReadonlyArray<FileIdentity & { readonly fileName: string }> => [
  ...Option.toArray(record.manifest),
  ...Option.toArray(record.pending)
]
