// Vitest setup file: after each test file, remove the temp folders its tests made.
import { afterAll } from "vitest"
import { removeTempDirs } from "./tempDir.ts"

afterAll(removeTempDirs)
