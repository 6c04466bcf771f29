/**
 * Reading an archived day consistently with its record, while other processes may archive it:
 * the record (manifest row and pending publish) is read before and after the file is opened; an
 * open file keeps its content even if its name is republished or removed, so a pair whose record
 * did not change in between is a day as it was (old or new), never half of each.
 *
 * @since 0.7.0
 */
import { Effect, Option, Stream } from "effect"
import { ArchiveError, CorruptRow } from "../../schema/Errors.ts"
import type { UtcDay } from "../domain/UtcDay.ts"
import { checkSize, decodeDayFile, type DayLine, type Expected } from "./DayFile.ts"
import { dayFileName, parseDayFileName } from "../domain/DayFileName.ts"
import type { DayFileStore, OpenedFile } from "./DayFileStore.ts"
import { acceptedFiles, type DayRecord, type Manifest, sameRecord } from "./Manifest.ts"

/** How often a reader re-opens a day whose record changed while it opened the file. */
const READ_ATTEMPTS = 10

/** A day file opened for reading and the identities (size, sha256) it may have; none for a 0.5 file. */
export interface OpenedDay {
  readonly opened: OpenedFile
  readonly expected: Option.Option<ReadonlyArray<Expected>>
}

/** The reader of archived days on a store and its bookkeeping. */
export const makeDayReader = (store: DayFileStore, manifest: Manifest) => {
  /** `fileName` if it is a file name of `day`, else `CorruptRow` naming the manifest row. */
  const checkedName = (day: string, fileName: string): Effect.Effect<string, CorruptRow> =>
    Option.match(parseDayFileName(fileName), {
      onSome: (parsed) =>
        parsed.day === day
          ? Effect.succeed(fileName)
          : Effect.fail(new CorruptRow({ table: "archive_manifest", key: day, reason: `file ${fileName} is not this day's` })),
      onNone: () =>
        Effect.fail(new CorruptRow({ table: "archive_manifest", key: day, reason: `file ${fileName} is not a day file name` }))
    })

  /** Fails: the manifest lists a file that is gone (an archive would record fewer lines). */
  const missingFile = Effect.fnUntraced(function*(fileName: string, lineCount: number) {
    const quarantined = (yield* store.quarantined).filter((name) => name.startsWith(`${fileName}.`))
    return yield* new ArchiveError({
      file: store.describe(fileName),
      reason: "missing",
      detail: quarantined.length > 0
        ? `the day file failed its check and was moved to quarantine (${quarantined.join(", ")}); ` +
          "inspect it there and put a good copy back under its name"
        : `the manifest lists this file (${lineCount} lines) but it is missing; ` +
          "put it back (e.g. from a backup): archiving the day now would record fewer lines"
    })
  })

  /**
   * The file `record` says `day` has, with the identities it may have; without a record, a file
   * written by nerve-store 0.5 (lines are decoded, there is no hash to check). None if no such
   * file is there. The recorded file is tried before the pending one: a run publishes the pending
   * file before it removes the recorded one (when the format changes), so one of the two opens.
   */
  const openRecorded = Effect.fnUntraced(function*(day: UtcDay, record: DayRecord) {
    const accepted = acceptedFiles(record)
    const recorded = Option.getOrUndefined(record.manifest)
    for (const candidate of [...Option.toArray(record.manifest), ...Option.toArray(record.pending)]) {
      const name = yield* checkedName(day, candidate.fileName)
      const opened = yield* store.open(name)
      if (Option.isNone(opened)) continue
      // A pending file of another size was never published (the recorded one is still there).
      if (opened.value.bytes !== candidate.bytes && candidate !== recorded) continue
      return Option.some<OpenedDay>({ opened: opened.value, expected: Option.some(accepted.filter((f) => f.fileName === name)) })
    }
    if (recorded !== undefined) return Option.none<OpenedDay>()
    for (const name of [dayFileName(day, false), dayFileName(day, true)]) {
      const opened = yield* store.open(name)
      if (Option.isSome(opened)) return Option.some<OpenedDay>({ opened: opened.value, expected: Option.none() })
    }
    return Option.none<OpenedDay>()
  })

  /** Opens the file of `day` (in the current scope) consistently with its record. */
  const openDay = Effect.fnUntraced(function*(day: UtcDay) {
    for (let attempt = 1; ; attempt++) {
      const before = yield* manifest.record(day)
      const opened = yield* openRecorded(day, before)
      const after = yield* manifest.record(day)
      // A changed record, or a pending publish whose file moved under us: look again.
      const settled = sameRecord(before, after) && (Option.isSome(opened) || Option.isNone(after.pending))
      if (!settled && attempt < READ_ATTEMPTS) continue
      if (Option.isSome(opened)) return opened.value
      if (Option.isSome(after.manifest)) return yield* missingFile(after.manifest.value.fileName, after.manifest.value.lineCount)
      return yield* new ArchiveError({ file: store.describe(dayFileName(day, false)), reason: "notArchived", detail: `${day} is not archived` })
    }
  })

  /**
   * The decoded lines of an opened day. A recorded day's size is checked before anything is read
   * (a file of another size is refused unread, however large), its sha256 at the end. Can be run
   * more than once.
   */
  const lines = (day: OpenedDay): Stream.Stream<DayLine, ArchiveError> => {
    const file = store.describe(day.opened.name)
    const decoded = decodeDayFile(file, day.opened.name, day.opened.content, Option.getOrUndefined(day.expected))
    return Option.match(day.expected, {
      onNone: () => decoded,
      onSome: (expected) => Stream.concat(Stream.fromEffectDrain(checkSize(file, day.opened.bytes, expected)), decoded)
    })
  }

  return { checkedName, missingFile, openDay, lines }
}

export type DayReader = ReturnType<typeof makeDayReader>
