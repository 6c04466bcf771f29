/**
 * A fault-injection point for crash tests: the archive calls the hook at each stage of a day, and
 * a test process can provide one that kills itself there. The default does nothing.
 *
 * @since 0.6.0
 */
import { Context, Effect } from "effect"

/**
 * The stages of archiving one day, in order: `inside-delete` is inside the first delete step
 * (before it commits), `after-delete-step` after each delete step has committed.
 */
export type ArchiveStage = "after-temp-write" | "after-rename" | "after-manifest" | "inside-delete" | "after-delete-step"

/** Called at every stage with the day being archived; inert unless a test provides it. */
export const ArchiveFaultHook = Context.Reference<(stage: ArchiveStage, day: string) => Effect.Effect<void>>(
  "@uncaged/nerve-store/LogArchive/ArchiveFaultHook",
  { defaultValue: () => () => Effect.void }
)

/** Runs the current hook for `stage`. */
export const reach = (stage: ArchiveStage, day: string): Effect.Effect<void> =>
  ArchiveFaultHook.use((hook) => hook(stage, day))
