/**
 * How a command shows things to people, from the shared flags and the terminal: how wide a line
 * may be (`--full`: never cut), and whether times are shown in UTC or local time (`--local-time`).
 *
 * @since 0.7.0
 */
import { Effect } from "effect"
import { humanTime } from "./Format.ts"
import * as Print from "./Print.ts"
import { Root } from "./Root.ts"

/** What the human output of a command depends on. */
export interface View {
  /** Terminal cells a line may take; undefined: no limit (piped, or `--full`). */
  readonly width: number | undefined
  readonly full: boolean
  readonly localTime: boolean
  /** A time for people: UTC with `Z`, or local with its offset under `--local-time`. */
  readonly time: (ms: number) => string
}

/** The view of the running command. */
export const current = Effect.gen(function*() {
  const { full, localTime } = yield* Root
  const width = full ? undefined : yield* Print.terminalWidth
  return { width, full, localTime, time: (ms: number) => humanTime(ms, localTime) } satisfies View
})

/** A time in UTC, for formatters called without a view. */
export const utc = (ms: number): string => humanTime(ms)
