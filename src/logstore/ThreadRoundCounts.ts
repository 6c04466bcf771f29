/**
 * @deprecated Moved to `src/sqlite/ThreadRoundCounts.ts` (it is SQLite's SQL); this re-export
 * stays until the archive and the CLI import it from there (or from the maintenance service).
 *
 * @since 0.7.0
 */
export * from "../sqlite/ThreadRoundCounts.ts"
