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
import { CliConfig, CliOutput, Command, GlobalFlag } from "effect/cli"
import * as Archive from "./Archive.ts"
import * as Blobs from "./Blobs.ts"
import * as Db from "./Db.ts"
import * as Doctor from "./Doctor.ts"
import * as Errors from "./Errors.ts"
import * as Logs from "./Logs.ts"
import { Root } from "./Root.ts"
import * as Runs from "./Runs.ts"
import * as Threads from "./Threads.ts"
import { VERSION } from "./Version.ts"

/** The whole command tree. */
export const cli = Root.pipe(
  Command.withSubcommands([Logs.command, Runs.command, Threads.command, Archive.command, Blobs.command, Db.command, Doctor.command])
)

const firstLine = (text: string) => text.split("\n").map((line) => line.trim()).find((line) => line !== "") ?? text

/** A bad command line is one line on stderr (not the help page): the first error and where to look. */
const presenter = CliOutput.layerPresenter({
  present: (event) =>
    event._tag === "InvalidInvocation"
      ? Console.error(
        `nerve-store: ${firstLine(event.errors[0]?.message ?? "invalid command line")} (see: ${event.commandPath.join(" ")} --help)`
      )
      : CliOutput.defaultPresenter.present(event)
})

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
export const main = (args: ReadonlyArray<string>): Effect.Effect<number> =>
  Command.runWith(cli, { version: VERSION })(args).pipe(
    Effect.provide(Layer.mergeAll(
      NodeServices.layer,
      presenter,
      logging,
      CliConfig.layer({ builtIns: [GlobalFlag.Help, GlobalFlag.Version, GlobalFlag.Completions] })
    )),
    Effect.exit,
    Effect.flatMap((exit) => {
      if (Exit.isSuccess(exit)) return Effect.succeed(0)
      const { line, exitCode } = Errors.report(exit.cause)
      return line === null ? Effect.succeed(exitCode) : Effect.as(Console.error(`nerve-store: ${line}`), exitCode)
    })
  )

if (import.meta.main) {
  main(process.argv.slice(2)).pipe(
    NodeRuntime.runMain({
      disableErrorReporting: true,
      teardown: (exit, onExit) =>
        Exit.isSuccess(exit) && typeof exit.value === "number" ? onExit(exit.value) : Runtime.defaultTeardown(exit, onExit)
    })
  )
}
