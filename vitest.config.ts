import { fileURLToPath } from "node:url"
import { defineConfig } from "vitest/config"

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url))

export default defineConfig({
  resolve: {
    // The package's own name, as examples import it (Node resolves it through the `source` condition).
    alias: [
      { find: /^@uncaged\/nerve-store\/layers$/, replacement: here("./layers/index.ts") },
      { find: /^@uncaged\/nerve-store$/, replacement: here("./src/index.ts") }
    ]
  },
  test: {
    setupFiles: ["test/support/cleanup.ts"],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Two projects so that only a run that includes a PostgreSQL test starts a server: vitest runs
    // a project's global setup only when some of its files run.
    projects: [
      { extends: true, test: { name: "main", include: ["test/**/*.test.ts"], exclude: ["test/pg/**"] } },
      {
        extends: true,
        test: { name: "pg", include: ["test/pg/**/*.test.ts"], globalSetup: ["test/support/pgGlobalSetup.ts"] }
      }
    ]
  }
})
