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
    include: ["test/**/*.test.ts"],
    setupFiles: ["test/support/cleanup.ts"],
    testTimeout: 120_000,
    hookTimeout: 120_000
  }
})
