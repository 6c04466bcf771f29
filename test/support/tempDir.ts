// Temp folders for tests that need a plain path (child processes, raw node:sqlite). Each one is
// removed after its test file (test/support/cleanup.ts); Effect code uses
// `FileSystem.makeTempDirectoryScoped` instead, which removes it when the test's scope closes.
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"

const made: Array<string> = []

/** A new empty folder under the system temp dir, removed after the current test file. */
export const makeTempDir = (prefix = "nerve-store-test-"): string => {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  made.push(dir)
  return dir
}

/** Removes every folder `makeTempDir` made so far. */
export const removeTempDirs = (): void => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true })
}
