/**
 * The last step of archiving a day: deleting from the database the rows that were written to the
 * day file, once that file is published and recorded. It runs in bounded steps (a few thousand
 * rows each, one transaction each, with a turn of the event loop between them), so that the
 * process that archives — a daemon, say — never stalls for a whole day's DELETE.
 *
 * Why separate transactions keep the SPEC's rules (docs/ARCHITECTURE.md §Archive a day):
 * - the file is durable and its manifest row committed before the first step, so a row deleted by
 *   any step is in a complete file;
 * - a step deletes only an id range the export read as one page (at most `BYTES_PAGE_SIZE` rows
 *   and about `PAGE_BYTES_BUDGET` bytes: the round-count step parses those payloads), and only
 *   if that range still holds exactly the rows exported in it (else it rolls back and the day
 *   fails, naming the file);
 * - each step first checks, under the archive lock, that the day's manifest row is still this
 *   run's file and that no `restore` marked the day since: then another archiver or a restore has
 *   the day, and this run stops deleting (what is left stays in the database);
 * - a crash between steps leaves rows in the database that are also in the recorded file: the next
 *   run merges them (deduplicated by id) into the day's file again and deletes them.
 *
 * @since 0.8.0
 */
import { Effect, Option } from "effect"
import { ArchiveError, type CorruptRow, type DatabaseError } from "../../schema/Errors.ts"
import type { ArchiveRepositoryShape } from "../seam/ArchiveRepository.ts"
import { eventLoopTurn, forEachStep } from "../seam/Steps.ts"
import type { UtcDay } from "../domain/UtcDay.ts"
import type { IdRange } from "./Exporter.ts"
import { reach } from "./FaultHook.ts"

/** How many rows of `day` the ranges hold now, one bounded count per range. */
export const countSteps = (
  repo: Pick<ArchiveRepositoryShape, "countRange">,
  day: UtcDay,
  steps: ReadonlyArray<IdRange>
): Effect.Effect<number, DatabaseError> =>
  Effect.map(forEachStep(steps, (s) => repo.countRange(day, s.first, s.last)), (counts) => counts.reduce((a, b) => a + b, 0))

/** What the delete steps did. */
export interface Deleted {
  /** Rows deleted. */
  readonly rows: number
  /** Why the steps stopped before the last one (another archiver or a restore has the day), if they did. */
  readonly stopped: Option.Option<string>
}

/** The file this run published for the day, as recorded in its manifest row. */
export interface Published {
  readonly fileName: string
  readonly sha256: string
  /** The file's path, for errors. */
  readonly file: string
}

/** Deletes the exported rows of `day`, step by step (see the module comment). */
export const deleteExported = Effect.fnUntraced(function*(
  repo: ArchiveRepositoryShape,
  day: UtcDay,
  published: Published,
  steps: ReadonlyArray<IdRange>
): Effect.fn.Return<Deleted, ArchiveError | CorruptRow | DatabaseError> {
  let rows = 0
  for (const [index, step] of steps.entries()) {
    yield* eventLoopTurn
    const stopped = yield* repo.transaction(Effect.gen(function*() {
      const current = (yield* repo.record(day)).manifest
      if (Option.isNone(current) || current.value.fileName !== published.fileName || current.value.sha256 !== published.sha256) {
        return Option.some("another archive run published the day's file while its rows were deleted; that run deletes the rest")
      }
      const restoredAt = yield* repo.restoredAt(day)
      if (Option.isSome(restoredAt)) {
        return Option.some(`it was restored at ${new Date(restoredAt.value).toISOString()} while its rows were deleted; the rest stay`)
      }
      const changes = yield* repo.deleteRange(day, step.first, step.last)
      if (index === 0) yield* reach("inside-delete", day)
      if (changes !== step.count) {
        // Only a writer outside nerve-store can change an exported range; this step rolls back.
        return yield* new ArchiveError({
          file: published.file,
          reason: "changedOnDisk",
          detail: `the rows of ${day} with ids ${step.first}..${step.last} changed while the day was archived ` +
            `(${step.count} exported, ${changes} to delete); they stay in the database, and ${rows} rows of the day ` +
            "already deleted are in the file: run the archive again"
        })
      }
      return Option.none<string>()
    }))
    if (Option.isSome(stopped)) return { rows, stopped }
    rows += step.count
    yield* reach("after-delete-step", day)
  }
  return { rows, stopped: Option.none() }
})
