/**
 * Reading a listing page by page, written once for log rows (`stream`) and runs (`streamRuns`):
 * each page starts at the cursor the previous one ended on, and the stream ends at a short page
 * or when the caller's `limit` is reached.
 *
 * @since 0.8.0
 */
import { Effect, Option, Stream } from "effect"

/** How many rows one page of a stream reads. */
export const STREAM_PAGE_SIZE = 1_000

/** One page as read: what it yields, how many stored rows it read, and where the next one starts. */
export interface Page<C, A> {
  readonly items: ReadonlyArray<A>
  /** Stored rows read (a listing may leave out rows that do not decode: paging counts them). */
  readonly read: number
  readonly next: C | undefined
}

/**
 * Every item of the listing from `start`, at most `limit` in all (no cap when undefined), read by
 * `readPage(cursor, size)` pages of at most {@link STREAM_PAGE_SIZE}.
 */
export const pages = <C, A, E>(
  start: C,
  limit: number | undefined,
  readPage: (cursor: C, size: number) => Effect.Effect<Page<C, A>, E>
): Stream.Stream<A, E> =>
  Stream.paginate({ cursor: start, remaining: limit ?? Number.POSITIVE_INFINITY }, (state) => {
    const size = Math.min(STREAM_PAGE_SIZE, state.remaining)
    return Effect.map(readPage(state.cursor, size), (page) => {
      const remaining = state.remaining - page.items.length
      const more = page.next !== undefined && page.read === size && remaining > 0
      return [page.items, more ? Option.some({ cursor: page.next as C, remaining }) : Option.none()] as const
    })
  })
