/**
 * How a failed command ends: one line on stderr naming what went wrong, a non-zero exit code,
 * never a stack trace. Every typed error of the store already has a message that names what and
 * where; this module only flattens it to a line and picks the exit code.
 *
 * @since 0.6.0
 */
import { Cause, Schema } from "effect"
import type { PlatformError } from "effect/PlatformError"
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

/**
 * A bad value on the command line (a flag or an argument): exit 2, one line naming it. The CLI's
 * own readings of flags fail with it; the store's `InvalidInput`, `InvalidDigest` and
 * `InvalidUtcDay` are treated the same way (they only ever come from what the user typed).
 */
export class UsageError extends Schema.TaggedError<UsageError>()("UsageError", {
  field: Schema.String,
  reason: Schema.String
}) {
  override get message(): string {
    return `invalid ${this.field}: ${this.reason}`
  }
}

/** The error tags that mean "the command line was wrong" (exit 2). */
const USAGE_TAGS: ReadonlySet<string> = new Set(["UsageError", "InvalidInput", "InvalidDigest", "InvalidUtcDay"])

/** Whether `error` (or one of its causes) is a write to a closed pipe (`| head`). */
export const isBrokenPipe = (error: unknown): boolean => {
  let current: unknown = error
  for (let depth = 0; depth < 6 && typeof current === "object" && current !== null; depth++) {
    if ("code" in current && current.code === "EPIPE") return true
    if ("syscall" in current && current.syscall === "write" && "errno" in current && current.errno === -32) return true
    current = "cause" in current ? current.cause : undefined
  }
  return false
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
export const report = (cause: Cause.Cause<unknown>): Report => {
  if (Cause.hasInterruptsOnly(cause)) return { line: null, exitCode: 130, tag: "Interrupted" }
  const failure = cause.reasons.find(Cause.isFailReason)
  if (failure !== undefined) {
    const error = failure.error
    // `| head` closed the pipe: the reader has what it wanted; end quietly, as `cat` does.
    if (isBrokenPipe(error)) return { line: null, exitCode: 0, tag: "BrokenPipe" }
    if (CliError.isCliError(error)) {
      return error._tag === "ShowHelp"
        ? { line: null, exitCode: error.errors.length === 0 ? 0 : EXIT_USAGE, tag: error._tag }
        : { line: oneLine(error.message), exitCode: EXIT_USAGE, tag: error._tag }
    }
    const tag = typeof error === "object" && error !== null && "_tag" in error && typeof error._tag === "string" ? error._tag : "Error"
    return { line: oneLine(messageOf(error)), exitCode: USAGE_TAGS.has(tag) ? EXIT_USAGE : EXIT_FAILURE, tag }
  }
  const defect = cause.reasons.find(Cause.isDieReason)
  if (defect !== undefined && isBrokenPipe(defect.defect)) return { line: null, exitCode: 0, tag: "BrokenPipe" }
  return { line: `internal error: ${oneLine(messageOf(defect?.defect))}`, exitCode: EXIT_BUG, tag: "Defect" }
}

/** What a failed run prints (null: nothing), its exit code, and the error's tag (for `--json`). */
export interface Report {
  readonly line: string | null
  readonly exitCode: number
  readonly tag: string
}

/** The `--json` form of an error on stderr: `{"error":{"tag":…,"message":…,"exitCode":…}}`. */
export const jsonLine = (tag: string, message: string, exitCode: number): string =>
  JSON.stringify({ error: { tag, message, exitCode } })

/** A file the user named could not be used: one line naming it (exit 2). */
export const fileError = (flag: string, path: string) => (error: PlatformError) =>
  new UsageError({
    field: flag,
    reason: `${path}: ${error.reason._tag === "NotFound" ? "no such file" : error.reason.description ?? error.reason._tag}`
  })
