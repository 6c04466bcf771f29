/**
 * Which days an archive run may take: the retention window, a pure function of the clock and the
 * options, and the plan (the days with rows in that window, read through the storage seam).
 *
 * @since 0.6.0
 */
import { Clock, Effect, Option } from "effect"
import type { ArchiveOptions, ArchivePlan } from "../../schema/Archive.ts"
import type { DatabaseError } from "../../schema/Errors.ts"
import type { ArchiveRepositoryShape } from "../seam/ArchiveRepository.ts"
import { DEFAULT_LOG_RETENTION_MS, lastArchivableUtcDay, utcDayEndExclusiveMs } from "../domain/UtcDay.ts"

/** The retention window at `now`: days up to `lastEligibleDay` (rows before `endExclusiveMs`) may go. */
export interface RetentionWindow {
  readonly now: number
  readonly lastEligibleDay: string
  readonly endExclusiveMs: number
}

/** Eligible days are the whole UTC days strictly before the day containing `now - retentionMs`. */
export const retentionWindow = (now: number, retentionMs: number = DEFAULT_LOG_RETENTION_MS): RetentionWindow => {
  const lastEligibleDay = lastArchivableUtcDay(now, retentionMs)
  return { now, lastEligibleDay, endExclusiveMs: utcDayEndExclusiveMs(lastEligibleDay) }
}

/** What `archive` would do with these (decoded) options now; reads only. */
export const planDays = Effect.fnUntraced(function*(
  repo: Pick<ArchiveRepositoryShape, "daysWithRows" | "archivedUpTo">,
  options: ArchiveOptions
): Effect.fn.Return<ArchivePlan, DatabaseError> {
  const now = options.now ?? (yield* Clock.currentTimeMillis)
  const window = retentionWindow(now, options.retentionMs ?? DEFAULT_LOG_RETENTION_MS)
  const days = yield* repo.daysWithRows(window.endExclusiveMs, options.maxDays ?? Number.POSITIVE_INFINITY)
  const watermark = Option.getOrNull(yield* repo.archivedUpTo)
  return { now, lastEligibleDay: window.lastEligibleDay, watermark, days }
})
