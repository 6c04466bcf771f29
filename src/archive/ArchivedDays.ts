/**
 * The listing of archived days: each day file on disk and each manifest row, with its status
 * (`DayListing.ts` decides the status from what is read here).
 *
 * @since 0.8.0
 */
import { Effect } from "effect"
import type { ArchivedDay } from "../../schema/Archive.ts"
import type { ArchiveError, CorruptRow, DatabaseError } from "../../schema/Errors.ts"
import type { ArchiveRepositoryShape } from "../seam/ArchiveRepository.ts"
import type { DayFileStore } from "./DayFileStore.ts"
import { listDays } from "./DayListing.ts"
import type { DayReader } from "./DayReader.ts"

/** Every archived day: each day file on disk and each manifest row, oldest first, with its status. */
export const archivedDays = Effect.fnUntraced(function*(
  repo: ArchiveRepositoryShape,
  store: DayFileStore,
  reader: DayReader
): Effect.fn.Return<ReadonlyArray<ArchivedDay>, ArchiveError | CorruptRow | DatabaseError> {
  const recorded = yield* repo.listManifest
  for (const row of recorded) yield* reader.checkedName(row.day, row.fileName)
  return listDays({
    manifest: recorded,
    pending: yield* repo.listPending,
    restored: yield* repo.listRestored,
    quarantined: yield* store.quarantined,
    files: yield* store.list,
    describe: store.describe
  })
})
