/**
 * `follow`: rows appended after a cursor, live. This stack's own commits wake its followers at
 * once (a process-local signal); rows of other processes are found by polling. A backend with
 * notifications (PostgreSQL's LISTEN/NOTIFY) can wake the same signal.
 *
 * @since 0.8.0
 */
import { Deferred, Duration, Effect, Exit, Option, Stream } from "effect"
import { type CorruptRow, type DatabaseError, FollowGap } from "../../schema/Errors.ts"
import type { FollowQuery, LogEntry } from "../../schema/LogEntry.ts"
import type { LogRepositoryShape } from "../seam/LogRepository.ts"
import { STREAM_PAGE_SIZE } from "./Paging.ts"

/** How often `follow` looks for other processes' rows, by default. */
export const DEFAULT_FOLLOW_POLL_INTERVAL: Duration.Duration = Duration.seconds(1)

/** The wake-up signal of a stack's followers. */
export interface Followers {
  /** The signal the next commit completes (taken before a read, so a commit in between still wakes). */
  readonly next: () => Deferred.Deferred<void>
  /** Wakes every follower waiting. Synchronous. */
  readonly wake: () => void
}

/** A new signal. */
export const make = (): Followers => {
  let signal: Deferred.Deferred<void> | undefined
  return {
    next: () => (signal ??= Deferred.makeUnsafe<void>()),
    wake: () => {
      if (signal === undefined) return
      Deferred.doneUnsafe(signal, Exit.void)
      signal = undefined
    }
  }
}

/**
 * The rows matching `query` after `afterId`, forever: read, and when none are new, wait for a
 * wake-up or `pollMs`. Each page is read with the archive's watermark in one snapshot: when rows
 * after the cursor were archived (before this read, so this page cannot hold them), the stream
 * fails with `FollowGap` instead of skipping them.
 */
export const follow = (
  repository: LogRepositoryShape,
  followers: Followers,
  query: FollowQuery,
  afterId: number,
  pollMs: number
): Stream.Stream<LogEntry, CorruptRow | FollowGap | DatabaseError> =>
  Stream.paginate(afterId, (after) =>
    Effect.gen(function*() {
      // Take the signal before reading, so a commit between the read and the wait still wakes us.
      const woken = followers.next()
      const { rows, archivedThrough } = yield* repository.followPage("LogStore.follow", { ...query, afterId: after, order: "asc" }, STREAM_PAGE_SIZE)
      if (archivedThrough > after) return yield* new FollowGap({ afterId: after, firstAvailableId: archivedThrough + 1 })
      const last = rows[rows.length - 1]
      if (last !== undefined) return [rows, Option.some(last.id)] as const
      yield* Effect.raceFirst(Deferred.await(woken), Effect.sleep(Duration.millis(pollMs)))
      return [rows, Option.some(after)] as const
    }))
