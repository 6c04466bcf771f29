/**
 * Which days an archive run may take, as pure functions of the clock and the options.
 *
 * @since 0.6.0
 */
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
