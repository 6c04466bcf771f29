/**
 * `nerve-store doctor`: one command that looks at everything an operator should know about a
 * data directory — the database (`db check`: integrity, schema, hot journal, layout, links,
 * owners, archived days), the blob quarantine, leases whose owner is gone, and round counts that
 * drifted from their rows — and says, for each finding, what to do. Read-only: it changes nothing.
 *
 * @since 0.8.0
 */
import { Clock, Effect, Schema } from "effect"
import { Command } from "effect/cli"
import * as Maintenance from "../Maintenance.ts"
import * as DataDir from "./DataDir.ts"
import { CheckFailed } from "./Errors.ts"
import { humanTime, table } from "./Format.ts"
import * as Print from "./Print.ts"
import { Root } from "./Root.ts"

/** What a finding is about. */
export const DoctorArea = Schema.Literals(["database", "layout", "archive", "quarantine", "leases", "roundCounts"])
export type DoctorArea = typeof DoctorArea.Type

/** One finding and what to do about it. */
export const DoctorFinding = Schema.Struct({
  area: DoctorArea,
  /** `problem` fails the command (exit 1); `warning` does not. */
  severity: Schema.Literals(["problem", "warning"]),
  finding: Schema.String,
  todo: Schema.String
})
export type DoctorFinding = typeof DoctorFinding.Type

/** `doctor --json`: `ok` when no finding is a problem; the full check and the stale leases. */
export const DoctorReport = Schema.Struct({
  ok: Schema.Boolean,
  dataDir: Schema.String,
  findings: Schema.Array(DoctorFinding),
  check: Maintenance.CheckReport,
  staleLeases: Schema.Array(Maintenance.StaleLease)
})
export type DoctorReport = typeof DoctorReport.Type

const UPGRADE = "run `nerve-store db upgrade`"

/** Every finding of a check and of the stale leases, with what to do. */
export const findingsOf = (
  check: Maintenance.CheckReport,
  stale: ReadonlyArray<Maintenance.StaleLease>
): ReadonlyArray<DoctorFinding> => {
  const problem = (area: DoctorArea, finding: string, todo: string): DoctorFinding => ({ area, severity: "problem", finding, todo })
  const layoutFindings = check.layout.flatMap((e): ReadonlyArray<DoctorFinding> => [
    ...(e.found === "symlink"
      ? [problem("layout", `${e.path} is a symbolic link to ${e.target ?? "?"}`, `move the real ${e.kind} into place; nerve-store refuses links inside the data directory`)]
      : []),
    ...(e.found === "wrongKind" ? [problem("layout", `${e.path} is not a ${e.kind}`, "move it away")] : []),
    ...(e.ownerOk === false
      ? [problem("layout", `${e.path} is owned by uid ${e.uid ?? "?"}, not by this user`, "run nerve-store as the owner, or `chown -R` the data directory to it")]
      : []),
    ...(e.modeOk ? [] : [{
      area: "layout" as const,
      severity: "warning" as const,
      finding: `${e.path} has mode ${e.mode}, expected owner-only ${e.expectedMode}`,
      todo: "`chmod -R go-rwx <dataDir>`"
    }])
  ])
  return [
    ...(check.hotJournal ? [problem("database", "a crash left a hot rollback journal (nerve.db-journal); no read-only command can open the file", `${UPGRADE} (it needs write access)`)] : []),
    ...check.integrity.filter((line) => line !== "ok" && !line.startsWith("not checked")).map((line) =>
      problem("database", `integrity: ${line}`, "restore nerve.db from a backup (stop the daemon first)")
    ),
    ...(check.schemaVersion > check.latestSchemaVersion
      ? [problem("database", `schema version ${check.schemaVersion} is newer than this nerve-store (${check.latestSchemaVersion})`, "use the newer nerve-store that wrote it")]
      : []),
    ...(check.legacy05
      ? [{ area: "database" as const, severity: "warning" as const, finding: "a nerve-store 0.5 file, not yet upgraded", todo: `${UPGRADE}, or start the daemon` }]
      : []),
    ...layoutFindings,
    ...check.archiveDays.filter((d) => d.status !== "pending").map((d) =>
      problem("archive", `archived day ${d.day} is ${d.status}`, Maintenance.DAY_ADVICE[d.status])
    ),
    ...check.quarantinedBlobs.map((b) =>
      problem("quarantine", `blob ${b.digest ?? b.file} is in blobs/quarantine/ (its content did not match its digest)`, "write it again from its source (`nerve-store blobs put`), then delete the quarantined file")
    ),
    ...stale.map((l) =>
      problem(
        "leases",
        `run ${l.runId} (${l.status}) is leased by ${l.owner}, whose lease ended ${humanTime(l.expiresAt)}`,
        l.status === "queued" ? "`nerve-store runs recover --include-queued` (or let a live daemon claim it)" : "`nerve-store runs recover` marks it crashed"
      )
    ),
    ...check.roundCounts.map((r) =>
      problem("roundCounts", `run ${r.runId}: stored round count ${r.stored}, its rows hold ${r.actual}`, `${UPGRADE} (it recounts them)`)
    )
  ]
}

/** `doctor` for people: one line per finding, then what to do. */
export const formatDoctor = (r: DoctorReport): string =>
  r.findings.length === 0
    ? `${r.dataDir}: database, layout, archive, blob quarantine, leases and round counts all ok`
    : [
      `${r.dataDir}:`,
      table([{ header: "AREA" }, { header: "FINDING" }, { header: "WHAT TO DO" }], r.findings.map((f) => [f.area, f.finding, f.todo])),
      "",
      r.ok ? "ok (warnings only)" : `${r.findings.filter((f) => f.severity === "problem").length} problem(s) found`
    ].join("\n")

/** `nerve-store doctor`. */
export const command = Command.make("doctor", {}, Effect.fn("cli.doctor")(function*() {
  const { dataDir, databaseUrl, json } = yield* Root
  const now = yield* Clock.currentTimeMillis
  const report = yield* Effect.gen(function*() {
    const m = yield* Maintenance.Maintenance
    const check = yield* m.check()
    // The leases need the database open: not when the check could not open it.
    const canRead = !check.hotJournal && check.layout.find((e) => e.path === "nerve.db")?.found === "ok"
    const staleLeases = canRead ? yield* m.staleLeases(now) : []
    const findings = findingsOf(check, staleLeases)
    return { ok: findings.every((f) => f.severity !== "problem"), dataDir: check.dataDir, findings, check, staleLeases }
  }).pipe(Effect.provide(DataDir.maintenance(dataDir, databaseUrl)))
  yield* json ? Print.json(DoctorReport, report) : Print.line(formatDoctor(report))
  if (!report.ok) return yield* new CheckFailed({ summary: `doctor found ${report.findings.filter((f) => f.severity === "problem").length} problem(s) in ${report.dataDir}` })
})).pipe(
  Command.withDescription(
    "Checks the database (integrity, schema, hot journal), the data directory (links, owners, modes), archived days, " +
      "the blob quarantine, leases whose owner is gone and round-count drift, and says what to do (exit 1 on a problem)"
  ),
  Command.withExamples([
    { command: "nerve-store --data-dir /var/lib/nerve doctor", description: "everything an operator should look at, with what to do" },
    { command: "nerve-store --json doctor | jq '.findings[] | .todo'", description: "what to do, for a script" }
  ])
)
