/**
 * `threadRounds` on any backend: reads pages of a run's round rows through the repository and
 * numbers them (`domain/ThreadRounds.ts`) until the caller's page is full or rounds run out.
 *
 * @since 0.8.0
 */
import { Effect, Option } from "effect"
import type { CorruptRow, DatabaseError } from "../../schema/Errors.ts"
import type { GetThreadRoundsParams, ThreadRoundRow } from "../../schema/Thread.ts"
import { firstRound, NO_ID_BOUND, type RoundPage, toRoundRow } from "../domain/ThreadRounds.ts"
import type { LogRepositoryShape } from "../seam/LogRepository.ts"

/** The run's role rounds newest first, only rounds `< params.before` (0 = no bound), at most `params.limit`. */
export const threadRounds = (
  repository: LogRepositoryShape,
  runId: string,
  params: GetThreadRoundsParams
): Effect.Effect<ReadonlyArray<ThreadRoundRow>, CorruptRow | DatabaseError> =>
  Effect.gen(function*() {
    const result: Array<ThreadRoundRow> = []
    // Rounds that yield no row do not use up the page: read on until it is full or rounds run
    // out. The first read finds its place from the count and `before`; the next ones continue
    // below the last row read, numbering on from it.
    let page: RoundPage = { before: params.before, belowId: NO_ID_BOUND }
    let next: number | undefined
    while (result.length < params.limit) {
      const wanted = params.limit - result.length
      const rows = yield* repository.roundPage("LogStore.threadRounds", runId, page, wanted)
      const first = rows[0]
      if (first === undefined) break
      let round = next ?? firstRound(first.total, page.before)
      // A count behind its rows (written by a program that does not keep it, see `db check`)
      // never numbers a round below 1.
      for (const row of rows) {
        if (round < 1) break
        const roundRow = toRoundRow(row, round)
        if (Option.isSome(roundRow)) result.push(roundRow.value)
        round--
      }
      if (round < 1 || rows.length < wanted) break
      next = round
      page = { before: 0, belowId: rows[rows.length - 1]!.id }
    }
    return result
  })
