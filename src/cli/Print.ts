/**
 * Where the CLI's output goes: data to stdout (text for people, JSON through its schema),
 * whether stdout is a terminal (progress bars) — one place, so commands never touch `process`.
 *
 * @since 0.6.0
 */
import { Console, Effect, Schema, Stdio } from "effect"
import { escapeControlKeepLines } from "./Text.ts"

/**
 * Prints one line (or a block of lines) to stdout. The last line of defence for people's
 * output: any control character that reached it (from stored text) is escaped; line feeds stay.
 */
export const line = (text: string): Effect.Effect<void> => Console.log(escapeControlKeepLines(text))

/** Prints one line to stderr (summaries that must not mix with data on stdout), escaped as {@link line}. */
export const note = (text: string): Effect.Effect<void> => Console.error(escapeControlKeepLines(text))

/**
 * How many cells a line of a table may take: the terminal's width when stdout is a terminal,
 * else `$COLUMNS` when set, else no limit (a pipe or a file gets whole lines).
 */
export const terminalWidth: Effect.Effect<number | undefined> = Effect.sync(() => {
  if (process.stdout.isTTY && process.stdout.columns > 0) return process.stdout.columns
  const env = Number(process.env.COLUMNS)
  return Number.isSafeInteger(env) && env > 0 ? env : undefined
})

/**
 * Prints `value` as one JSON document, encoded with `schema` (dates become ISO strings). Our
 * own values always encode; a failure here is a bug, so it is a defect.
 */
export const json = <S extends Schema.Top & { readonly EncodingServices: never }>(
  schema: S,
  value: S["Type"]
): Effect.Effect<void> =>
  Schema.encodeUnknownEffect(Schema.toCodecJson(schema))(value).pipe(
    Effect.orDie,
    Effect.flatMap((encoded) => Console.log(JSON.stringify(encoded)))
  )

/** Whether stdout is a terminal (then progress is drawn in place; else plain lines are printed). */
export const stdoutIsTerminal: Effect.Effect<boolean, never, Stdio.Stdio> = Stdio.Stdio.use((stdio) => stdio.stdoutIsTerminal)

/** Writes raw text to stdout without a newline (progress bars redraw with `\r`). */
export const raw = (text: string): Effect.Effect<void> =>
  Effect.callback<void>((resume) => {
    process.stdout.write(text, () => resume(Effect.void))
  })

/**
 * A reader that closes the pipe early (`nerve-store logs query | head -1`) has what it wanted:
 * the next write to stdout fails with EPIPE, and the command ends quietly with exit 0, as `cat`
 * does, instead of an unhandled 'error' event. Installed once, at the process edge (`main.ts`).
 */
export const endQuietlyOnBrokenPipe = (): void => {
  process.stdout.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code === "EPIPE") process.exit(0)
  })
}
