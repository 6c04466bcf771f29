/**
 * Where the CLI's output goes: data to stdout (text for people, JSON through its schema),
 * whether stdout is a terminal (progress bars) — one place, so commands never touch `process`.
 *
 * @since 0.6.0
 */
import { Console, Effect, Schema, Stdio } from "effect"

/** Prints one line (or a block of lines) to stdout. */
export const line = (text: string): Effect.Effect<void> => Console.log(text)

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
