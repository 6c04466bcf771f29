#!/usr/bin/env node
/**
 * The `nerve-store` command: `nerve-store --help`. Every command group lives in its own module;
 * this file attaches them to the root command and turns any failure into one line on stderr and
 * a non-zero exit code (no stack trace).
 *
 * @since 0.6.0
 */
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as NodeServices from "@effect/platform-node/NodeServices"
import { Console, Effect, Exit, Layer, Logger, References, Runtime } from "effect"
import { CliConfig, type CliError, CliOutput, Command, GlobalFlag } from "effect/cli"
import * as Archive from "./Archive.ts"
import * as Blobs from "./Blobs.ts"
import * as Db from "./Db.ts"
import * as Doctor from "./Doctor.ts"
import * as Errors from "./Errors.ts"
import * as Logs from "./Logs.ts"
import * as Print from "./Print.ts"
import { Root } from "./Root.ts"
import * as Runs from "./Runs.ts"
import * as Threads from "./Threads.ts"
import { VERSION } from "./Version.ts"

/** The whole command tree. */
export const cli = Root.pipe(
  Command.withSubcommands([Logs.command, Runs.command, Threads.command, Archive.command, Blobs.command, Db.command, Doctor.command])
)

const firstLine = (text: string) => text.split("\n").map((line) => line.trim()).find((line) => line !== "") ?? text

/** The one line of a bad command line: the first error, the nearest command when one is close. */
const invocationLine = (error: CliError.CliError | undefined, commandPath: ReadonlyArray<string>): string => {
  if (error === undefined) return "invalid command line"
  if (error._tag === "UnknownSubcommand" && error.suggestions.length > 0) {
    const parent = (error.parent ?? commandPath).join(" ")
    return `${firstLine(error.message)}; did you mean ${error.suggestions.map((s) => `\`${parent} ${s}\``).join(" or ")}?`
  }
  if (error._tag === "UnrecognizedOption" && error.suggestions.length > 0) {
    return `${firstLine(error.message)}; did you mean ${error.suggestions.join(" or ")}? (see: ${commandPath.join(" ")} --help)`
  }
  return `${firstLine(error.message)} (see: ${commandPath.join(" ")} --help)`
}

/**
 * A bad command line is one line on stderr (not the help page): the first error and where to
 * look; with `--json`, that line is a JSON object.
 */
const presenter = (json: boolean) =>
  CliOutput.layerPresenter({
    present: (event) => {
      if (event._tag !== "InvalidInvocation") return CliOutput.defaultPresenter.present(event)
      const text = invocationLine(event.errors[0], event.commandPath)
      return Console.error(json ? Errors.jsonLine(event.errors[0]?._tag ?? "InvalidInvocation", text, Errors.EXIT_USAGE) : `nerve-store: ${text}`)
    }
  })

/** Whether the command line asks for JSON (`--json` before any `--`). */
const wantsJson = (args: ReadonlyArray<string>): boolean => {
  const end = args.indexOf("--")
  return (end === -1 ? args : args.slice(0, end)).includes("--json")
}

/**
 * The store's own log lines go to stderr, errors only: stdout carries the command's output (a
 * `--json` document must stay parseable), and what the store's info and warning lines say (a day
 * skipped or failed, a blob quarantined) the command reports itself, so a failure stays one line.
 */
const logging = Layer.mergeAll(
  Logger.layer([Logger.withConsoleError(Logger.formatSimple)]),
  Layer.succeed(References.MinimumLogLevel, "Error")
)

/** Runs the CLI on `args`; the exit code is the result (0 on success). */
export const main = (args: ReadonlyArray<string>): Effect.Effect<number> => {
  const json = wantsJson(args)
  return Command.runWith(cli, { version: VERSION })(args).pipe(
    Effect.provide(Layer.mergeAll(
      NodeServices.layer,
      presenter(json),
      logging,
      CliConfig.layer({ builtIns: [GlobalFlag.Help, GlobalFlag.Version, GlobalFlag.Completions] })
    )),
    Effect.exit,
    Effect.flatMap((exit) => {
      if (Exit.isSuccess(exit)) return Effect.succeed(0)
      const { line, exitCode, tag } = Errors.report(exit.cause)
      if (line === null) return Effect.succeed(exitCode)
      return Effect.as(Console.error(json ? Errors.jsonLine(tag, line, exitCode) : `nerve-store: ${line}`), exitCode)
    })
  )
}

if (import.meta.main) {
  Print.endQuietlyOnBrokenPipe()
  main(process.argv.slice(2)).pipe(
    NodeRuntime.runMain({
      disableErrorReporting: true,
      teardown: (exit, onExit) =>
        Exit.isSuccess(exit) && typeof exit.value === "number" ? onExit(exit.value) : Runtime.defaultTeardown(exit, onExit)
    })
  )
}
