/**
 * Numbering role rounds on a page, as pure functions: a backend reads a run's round rows newest
 * first with the run's round count beside each, and these number them down from the count.
 *
 * @since 0.8.0
 */
import { Option, Schema } from "effect"
import { LogEntry } from "../../schema/LogEntry.ts"
import type { ThreadRoundRow } from "../../schema/Thread.ts"
import * as ThreadLog from "./ThreadLog.ts"

/** No id is this high: the `belowId` of a first page. */
export const NO_ID_BOUND = Number.MAX_SAFE_INTEGER

/** Where a page of round rows starts: below round `before` (0 = no bound), below the row id `belowId`. */
export interface RoundPage {
  readonly before: number
  readonly belowId: number
}

/** The round number of the first row of a first page read with `before`, given the run's round count. */
export const firstRound = (total: number, before: number): number => (before > 0 ? Math.min(total, before - 1) : total)

/** A stored log row with its run's round count. */
export const RoundLogRow = Schema.Struct({ ...LogEntry.fields, total: Schema.Int })
export type RoundLogRow = typeof RoundLogRow.Type

/**
 * The round row of a page row. The backend already checked that it yields one; a payload it read
 * differently from `JSON.parse` (none is known) yields nothing rather than a wrong row.
 */
export const toRoundRow = (row: LogEntry, round: number): Option.Option<ThreadRoundRow> =>
  Option.map(
    Option.flatMap(ThreadLog.parsePayload(row.payload), (value) => ThreadLog.roundMessage({ round, row, value })),
    (message) => ({ round, logId: row.id, timestamp: row.timestamp, message })
  )
