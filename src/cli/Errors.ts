/**
 * How a failed command ends: one line on stderr naming what went wrong, a non-zero exit code,
 * never a stack trace. Every typed error of the store already has a message that names what and
 * where; this module only flattens it to a line and picks the exit code.
 *
 * @since 0.6.0
 */
import { Cause, Schema } from "effect"
import { CliError } from "effect/cli"

/**
 * A command ran but found a problem it must report through its exit code: corrupt blobs
 * (`blobs verify`), a failing integrity check (`db check`). The report itself went to stdout.
 */
export class CheckFailed extends Schema.TaggedError<CheckFailed>()("CheckFailed", {
  summary: Schema.String
}) {
  override get message(): string {
    return this.summary
  }
}

/**
 * A reading command found `nerve.db` at an older schema version (a nerve-store 0.5 file, or one
 * an older 0.6 wrote): read-only, it can neither use nor upgrade it.
 */
export class SchemaBehind extends Schema.TaggedError<SchemaBehind>()("SchemaBehind", {
  path: Schema.String,
  version: Schema.Int,
  latest: Schema.Int
}) {
  override get message(): string {
    return `${this.path} has schema version ${this.version}${this.version === 0 ? " (a nerve-store 0.5 file)" : ""}, this nerve-store reads ${this.latest}; ` +
      `reading commands open it read-only and do not upgrade it: run \`nerve-store db upgrade\` (additive: nerve-store 0.5 can still read it)`
  }
}

/** Exit codes: 1 a failure of the command, 2 a bad command line, 70 a bug (EX_SOFTWARE). */
export const EXIT_FAILURE = 1
export const EXIT_USAGE = 2
export const EXIT_BUG = 70

const oneLine = (text: string) => text.replace(/\s*\n\s*/g, " ").trim()

const messageOf = (error: unknown): string => {
  if (typeof error === "object" && error !== null && "message" in error && typeof error.message === "string" && error.message !== "") {
    return error.message
  }
  return String(error)
}

/**
 * What to print and which exit code to use for a failed run, or `null` when there is nothing to
 * print (a bad command line was already reported by the presenter; Ctrl-C).
 */
export const report = (cause: Cause.Cause<unknown>): { readonly line: string | null; readonly exitCode: number } => {
  if (Cause.hasInterruptsOnly(cause)) return { line: null, exitCode: 130 }
  const failure = cause.reasons.find(Cause.isFailReason)
  if (failure !== undefined) {
    const error = failure.error
    if (CliError.isCliError(error)) {
      return error._tag === "ShowHelp" ? { line: null, exitCode: error.errors.length === 0 ? 0 : EXIT_USAGE } : { line: oneLine(error.message), exitCode: EXIT_USAGE }
    }
    return { line: oneLine(messageOf(error)), exitCode: EXIT_FAILURE }
  }
  const defect = cause.reasons.find(Cause.isDieReason)
  return { line: `internal error: ${oneLine(messageOf(defect?.defect))}`, exitCode: EXIT_BUG }
}
