/**
 * Group commit: concurrent callers share one write transaction.
 *
 * The first caller becomes the leader: it yields once so that every fiber ready to run can add
 * its item, then commits the whole batch and keeps committing until the queue is empty. A fiber
 * that led a batch of one last time leads again without yielding (a lone sequential writer pays
 * no event-loop turn per append). Each
 * caller's effect completes only after the batch holding its item committed (or failed). The
 * leader's commit loop is uninterruptible, so an interrupted leader cannot strand its followers;
 * an interrupted caller's item may still be committed.
 *
 * @since 0.6.0
 */
import { Context, Deferred, Effect, Exit } from "effect"

/**
 * Told the size of every batch a group commit is about to commit (the leader's fiber reads it).
 * Inert by default; the benchmark uses it to print the batch-size distribution.
 */
export const BatchObserver = Context.Reference<((size: number) => void) | undefined>(
  "@uncaged/nerve-store/GroupCommit/BatchObserver",
  { defaultValue: () => undefined }
)

interface Pending<I, O, E> {
  readonly item: I
  readonly deferred: Deferred.Deferred<O, E>
}

/**
 * Wraps `commit` (which must return one output per input, in order) into a per-item submit.
 *
 * @example
 * ```ts
 * const submit = GroupCommit.make((rows: ReadonlyArray<Row>) => insertAllInOneTransaction(rows))
 * yield* Effect.forEach(rows, submit, { concurrency: "unbounded" }) // few transactions
 * ```
 */
export const make = <I, O, E>(
  commit: (batch: ReadonlyArray<I>) => Effect.Effect<ReadonlyArray<O>, E>
): (item: I) => Effect.Effect<O, E> => {
  let queue: Array<Pending<I, O, E>> = []
  let leading = false
  let lastLeader: unknown = undefined
  let lastBatchSize = 0

  const settle = (batch: ReadonlyArray<Pending<I, O, E>>, exit: Exit.Exit<ReadonlyArray<O>, E>) => {
    batch.forEach((pending, index) => {
      const result: Exit.Exit<O, E> = Exit.isSuccess(exit) ? Exit.succeed(exit.value[index]!) : Exit.failCause(exit.cause)
      Deferred.doneUnsafe(pending.deferred, result)
    })
  }

  const drain = (observe: ((size: number) => void) | undefined): Effect.Effect<void> =>
    Effect.suspend(() => {
      const batch = queue
      queue = []
      lastBatchSize = Math.max(lastBatchSize, batch.length)
      if (batch.length === 0) {
        leading = false
        return Effect.void
      }
      observe?.(batch.length)
      return Effect.flatMap(
        Effect.exit(commit(batch.map((pending) => pending.item))),
        (exit) => {
          settle(batch, exit)
          return drain(observe)
        }
      )
    })

  // Uninterruptible from enqueueing to leading: an interrupt in between would leave `leading` set
  // with nobody draining. Only a follower's wait is interruptible (its item may still commit).
  return (item) =>
    Effect.uninterruptibleMask((restore) =>
      Effect.withFiber((fiber) => {
        if (leading) {
          const deferred = Deferred.makeUnsafe<O, E>()
          queue.push({ item, deferred })
          return restore(Deferred.await(deferred))
        }
        leading = true
        // A fiber whose last batch held only its own item saw no contention: waiting for company
        // would cost it an event-loop turn for nothing. Any other leader yields to gather a batch.
        const alone = fiber === lastLeader && lastBatchSize === 1
        lastLeader = fiber
        lastBatchSize = 0
        const observe = fiber.getRef(BatchObserver)
        if (alone) {
          observe?.(1)
          return Effect.flatMap(Effect.exit(commit([item])), (exit) => {
            lastBatchSize = 1
            const output = Exit.map(exit, (outputs) => outputs[0]!)
            // Nobody arrived while it committed (the common case of a lone writer): done.
            if (queue.length === 0) {
              leading = false
              return output
            }
            return Effect.andThen(drain(observe), output)
          })
        }
        const deferred = Deferred.makeUnsafe<O, E>()
        queue.push({ item, deferred })
        return Effect.andThen(Effect.andThen(Effect.yieldNow, drain(observe)), Deferred.await(deferred))
      })
    )
}
