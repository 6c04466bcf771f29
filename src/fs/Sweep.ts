/**
 * The one temp-file sweep rule, for blob folders and the archive folder alike: a temp file
 * (`.tmp.*`) directly in the folder whose mtime is at or before the cutoff is a leftover of a
 * write that died between its two steps, and is removed; a younger one may belong to a write in
 * progress (this process or another) and is kept. Entries are `lstat`ed, never followed: a link
 * named like a temp file is removed as a link (its target is never touched), a folder named like
 * one is skipped. A missing folder holds nothing.
 *
 * @since 0.7.0
 */
import type { Effect } from "effect"
import type { PlatformError } from "effect/PlatformError"
import { join } from "node:path"
import { codeOf, run, step, StepFailure, unlinkIfPresent } from "./Step.ts"
import { isTempName } from "./TempFile.ts"

/** What `sweepTempFiles` removed: the paths and their bytes. */
export interface SweptTemps {
  readonly removed: ReadonlyArray<string>
  readonly bytes: number
}

/**
 * Removes the stale temp files of `directory`: those whose mtime is at or before `cutoffMs`
 * (epoch ms, the real wall clock: it is compared with the file system's mtimes).
 *
 * @example
 * ```ts
 * yield* sweepTempFiles(dir, Date.now() - Duration.toMillis(DEFAULT_TEMP_MAX_AGE))
 * ```
 */
export const sweepTempFiles = (directory: string, cutoffMs: number): Effect.Effect<SweptTemps, PlatformError> =>
  run(directory, async (files) => {
    const entries = await step("readDirectory", directory, () => files.readdir(directory, { withFileTypes: true })).catch(
      (error: unknown) => {
        if (codeOf(error) === "ENOENT") return []
        throw error
      }
    )
    const removed: Array<string> = []
    let bytes = 0
    for (const entry of entries.filter((e) => isTempName(e.name)).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const path = join(directory, entry.name)
      const info = await files.lstat(path).catch((error: unknown) => {
        if (codeOf(error) === "ENOENT") return undefined
        throw new StepFailure("stat", path, error)
      })
      if (info === undefined || info.isDirectory() || info.mtimeMs > cutoffMs) continue
      if (!(await unlinkIfPresent(files, path))) continue
      removed.push(path)
      bytes += info.size
    }
    return { removed, bytes }
  })
