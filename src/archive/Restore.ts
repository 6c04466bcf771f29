/**
 * Restoring an archived day: the whole file is verified first (a damaged file restores nothing),
 * the day is marked restored, then its rows go back with their original ids, page by page,
 * skipping ids already present.
 *
 * @since 0.8.0
 */
import { Clock, Effect, Stream } from "effect"
import type { RestoreResult } from "../../schema/Archive.ts"
import type { ArchiveError, CorruptRow, DatabaseError } from "../../schema/Errors.ts"
import type { ArchiveRepositoryShape } from "../seam/ArchiveRepository.ts"
import type { UtcDay } from "../domain/UtcDay.ts"
import type { DayFileStore } from "./DayFileStore.ts"
import type { DayReader } from "./DayReader.ts"

/** Restores `day` from its file. */
export const restoreDay = (
  repo: ArchiveRepositoryShape,
  store: DayFileStore,
  reader: DayReader,
  day: UtcDay
): Effect.Effect<RestoreResult, ArchiveError | CorruptRow | DatabaseError> =>
  Effect.scoped(Effect.gen(function*() {
    // One opened file for both passes: check the whole file first, so a damaged file restores nothing.
    const opened = yield* reader.openDay(day)
    yield* Stream.runDrain(reader.lines(opened))
    // Recorded first, so that an archive run in another process leaves the restored rows alone.
    yield* repo.markRestored(day, yield* Clock.currentTimeMillis)
    let total = 0
    let restored = 0
    yield* Stream.runForEachArray(reader.lines(opened), (lines) =>
      Effect.map(repo.insertIgnoringPresent(lines.map((line) => line.entry)), (inserted) => {
        total += lines.length
        restored += inserted
      }))
    yield* Effect.annotateCurrentSpan({ restored, skipped: total - restored })
    return { day, file: store.describe(opened.opened.name), restored, skipped: total - restored }
  }))
