/**
 * What is on disk against what is recorded, for one day: the day's files, the hash of a published
 * file, the repair of a claim left by a run that died, and the check of the recorded file before
 * anything is merged into it.
 *
 * @since 0.8.0
 */
import { Effect, Option } from "effect"
import { ArchiveError, type CorruptRow, type DatabaseError } from "../../schema/Errors.ts"
import type { ArchiveRepositoryShape, DayRecord } from "../seam/ArchiveRepository.ts"
import type { UtcDay } from "../domain/UtcDay.ts"
import { type Expected, hashContent } from "./DayFile.ts"
import { dayFileName, type DayFileStore, type StoredFile } from "./DayFileStore.ts"
import { acceptedFiles, sameRecord } from "./Manifest.ts"

/** Whether `actual` is one of the files `expected` describes. */
export const matches = (expected: ReadonlyArray<Expected>, actual: Expected): boolean =>
  expected.some((e) => e.sha256 === actual.sha256 && e.bytes === actual.bytes)

type CheckError = ArchiveError | CorruptRow | DatabaseError

/** The day-file checks of one repository and one store. */
export interface RecordedFiles {
  /** The files of `day` that exist now (plain, then gzip), with their sizes. */
  readonly existingFiles: (day: string) => Effect.Effect<ReadonlyArray<StoredFile>, ArchiveError>
  /** The sha256 and size of the published file `name`, or none if it is not there. */
  readonly hashOf: (name: string) => Effect.Effect<Option.Option<Expected>, ArchiveError>
  /** Turns a dead run's claim into the manifest row (its file is on disk) or drops it. */
  readonly recover: (day: UtcDay) => Effect.Effect<void, CheckError>
  /** Quarantines a recorded file that does not match its row (failing the day); some reason to skip the day if another run published. */
  readonly checkRecordedFile: (day: UtcDay, record: DayRecord, fileName: string) => Effect.Effect<Option.Option<string>, CheckError>
}

/** The day-file checks on one repository and one store. */
export const makeRecordedFiles = (repo: ArchiveRepositoryShape, store: DayFileStore): RecordedFiles => {
  /** The files of `day` that exist now (plain, then gzip), with their sizes. */
  const existingFiles = Effect.fnUntraced(function*(day: string) {
    const found: Array<StoredFile> = []
    for (const name of [dayFileName(day, false), dayFileName(day, true)]) {
      const info = yield* store.stat(name)
      if (Option.isSome(info)) found.push(info.value)
    }
    return found
  })

  /** The sha256 and size of the published file `name`, or none if it is not there. */
  const hashOf = (name: string): Effect.Effect<Option.Option<Expected>, ArchiveError> =>
    Effect.scoped(Effect.flatMap(store.open(name), (opened) =>
      Option.isNone(opened) ? Effect.succeedNone : Effect.map(hashContent(opened.value.content), Option.some)))

  /**
   * Brings the record of `day` in line with the disk after a run that wrote its claim and then
   * died (or failed to COMMIT): if its file was published, the claim becomes the manifest row; if
   * not, the claim is dropped. A live run whose claim is dropped skips the day.
   */
  const recover = Effect.fnUntraced(function*(day: UtcDay): Effect.fn.Return<void, ArchiveError | CorruptRow | DatabaseError> {
    if (Option.isNone((yield* repo.record(day)).pending)) return
    // The file is hashed under the archive lock: a run can publish only while it holds the lock,
    // so what is on disk cannot change between the check and the repair. (Rare: after a crash only.)
    yield* repo.transaction(Effect.gen(function*() {
      const pending = (yield* repo.record(day)).pending
      if (Option.isNone(pending)) return
      const p = pending.value
      const onDisk = yield* hashOf(p.fileName)
      if (Option.isNone(onDisk) || !matches([p], onDisk.value)) return yield* repo.clearPending(day)
      const { token: _token, startedAt, ...recorded } = p
      yield* repo.putManifest({ ...recorded, archivedAt: startedAt })
      yield* repo.clearPending(day)
      // The interrupted run had merged the day's other-format file into this one.
      for (const old of yield* existingFiles(day)) if (old.name !== p.fileName) yield* store.remove(old.name)
      yield* Effect.logInfo(`LogArchive: recorded ${store.describe(p.fileName)}, published by an interrupted run`)
    }))
  })

  /**
   * The recorded file of a day must be what the manifest says before anything is merged into it:
   * a file changed outside nerve-store is moved to quarantine and the day fails. Returns why the
   * day is skipped when another run published meanwhile.
   */
  const checkRecordedFile = Effect.fnUntraced(function*(
    day: UtcDay,
    record: DayRecord,
    fileName: string
  ): Effect.fn.Return<Option.Option<string>, ArchiveError | CorruptRow | DatabaseError> {
    const expected = acceptedFiles(record).filter((f) => f.fileName === fileName)
    const actual = yield* hashOf(fileName)
    if (Option.isNone(actual) || matches(expected, actual.value)) return Option.none<string>()
    // Under the archive lock: no archiver can publish between this check and the quarantine.
    return yield* repo.transaction(Effect.gen(function*() {
      if (!sameRecord(record, yield* repo.record(day))) {
        return Option.some("its archive file changed while it was checked (another archive run published it)")
      }
      const moved = yield* store.quarantine(fileName)
      return yield* new ArchiveError({
        file: store.describe(fileName),
        reason: "corrupt",
        detail: `the file does not match its manifest row (sha256 ${actual.value.sha256}, ${actual.value.bytes} bytes; ` +
          `recorded ${expected.map((e) => `${e.sha256}, ${e.bytes} bytes`).join(" or ")}); ` +
          `nothing was merged, and the file was moved to ${moved} for inspection`
      })
    }))
  })

  return { existingFiles, hashOf, recover, checkRecordedFile }
}
