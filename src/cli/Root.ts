/**
 * The `nerve-store` root command and its flags shared by every subcommand (`--data-dir`,
 * `--json`). Command groups read them with `yield* Root`; `main.ts` attaches the groups.
 *
 * @since 0.6.0
 */
import { Config } from "effect"
import { Command, Flag } from "effect/cli"

/** `--data-dir`, else `NERVE_DATA_DIR`, else `./data` (SPEC §Data directory). */
export const dataDirFlag = Flag.String("data-dir").pipe(
  Flag.withDescription("the data directory (default: $NERVE_DATA_DIR, else ./data)"),
  Flag.withFallbackConfig(Config.String("NERVE_DATA_DIR")),
  Flag.withDefault("./data")
)

/**
 * `--database-url`, else `NERVE_DATABASE_URL`: the commands work on that PostgreSQL database
 * (day files and blobs stay in `--data-dir`); none means the SQLite `nerve.db` of `--data-dir`.
 */
export const databaseUrlFlag = Flag.Redacted("database-url").pipe(
  Flag.withDescription("a PostgreSQL database (postgres://…) instead of the data directory's nerve.db (default: $NERVE_DATABASE_URL)"),
  Flag.withFallbackConfig(Config.Redacted("NERVE_DATABASE_URL")),
  Flag.optional
)

/** `--json`: machine output described by the schemas in `CliOutput`. */
export const jsonFlag = Flag.Boolean("json").pipe(
  Flag.withDescription("print machine-readable JSON (JSON Lines for log rows)"),
  Flag.withDefault(false)
)

/** `--full`: whole text in tables and `label: value` blocks, never cut to the terminal's width. */
export const fullFlag = Flag.Boolean("full").pipe(
  Flag.withDescription("show whole text; do not cut table cells or values to the terminal's width"),
  Flag.withDefault(false)
)

/** `--local-time`: times shown in the local time zone (with their offset) instead of UTC. */
export const localTimeFlag = Flag.Boolean("local-time").pipe(
  Flag.withDescription("show times in the local time zone (default: UTC, marked Z)"),
  Flag.withDefault(false)
)

/** The root command; subcommands read its flags with `const { dataDir, json } = yield* Root`. */
export const Root = Command.make("nerve-store").pipe(
  Command.withSharedFlags({ dataDir: dataDirFlag, databaseUrl: databaseUrlFlag, json: jsonFlag, full: fullFlag, localTime: localTimeFlag }),
  Command.withExamples([
    { command: "nerve-store runs list --status failed", description: "the failed runs, newest first" },
    { command: "nerve-store logs tail -f --ref run-42", description: "follow one run's rows" },
    { command: "nerve-store blobs gc --from-logs --dry-run", description: "what a blob sweep would remove" }
  ]),
  Command.withDescription("Look at and maintain a nerve-store data directory: logs, runs, threads, archive, blobs, database.")
)
