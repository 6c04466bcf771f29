import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"

/** A new empty folder under the system temp dir (left for the OS to clean). */
export const makeTempDir = (prefix = "nerve-store-test-"): string => mkdtempSync(join(tmpdir(), prefix))
