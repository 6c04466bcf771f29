/**
 * The one inspection of a data directory's links, kinds, owners and modes. The live layer runs it
 * before anything opens and refuses what `refusals` names; `db check` and `doctor` run it and
 * flag every finding. One function, so the two can never disagree about what they see.
 *
 * What is looked at: the folder itself (a link to it is followed: pointing `--data-dir` at a
 * link is a choice of the operator), and inside it — never followed — `nerve.db` and its
 * `-wal`, `-shm`, `-journal`, `archive`, `archive/logs`, `blobs`, `blobs/quarantine`.
 *
 * @since 0.8.0
 */
import { Effect, FileSystem, Option, Path } from "effect"
import type { PlatformError } from "effect/PlatformError"
import { DataDirectoryError } from "../../schema/Errors.ts"
import type { LayoutEntry } from "../../schema/MaintenanceReports.ts"
import { dataDirectoryError, errnoCode, isNotFound } from "./PlatformErrors.ts"

export { LayoutEntry } from "../../schema/MaintenanceReports.ts"

/** What is wrong with an entry. */
export type FindingKind = "symlink" | "wrongKind" | "otherOwner" | "looseMode"

/** One thing wrong in the data directory, with what to do about it. */
export interface Finding {
  readonly path: string
  /** What should stand there. */
  readonly expected: "file" | "folder"
  readonly kind: FindingKind
  /** One line for an operator: what was found and what to do. */
  readonly message: string
}

/** The whole inspection. */
export interface DataDirectoryInspection {
  /** The folder, resolved. */
  readonly root: string
  /** Whether the folder exists. */
  readonly exists: boolean
  /** `.`, `nerve.db`, `archive/logs`, `blobs` always; the others only when something is wrong with them. */
  readonly layout: ReadonlyArray<LayoutEntry>
  readonly findings: ReadonlyArray<Finding>
}

/** Modes the store gives what it creates: it holds prompts and outputs, so owner-only. */
const EXPECTED_MODE = { file: "0600", folder: "0700" } as const

interface Expected {
  readonly path: string
  readonly kind: "file" | "folder"
  /** Listed in `layout` even when all is well. */
  readonly always: boolean
}

const EXPECTED: ReadonlyArray<Expected> = [
  { path: "nerve.db", kind: "file", always: true },
  { path: "nerve.db-wal", kind: "file", always: false },
  { path: "nerve.db-shm", kind: "file", always: false },
  { path: "nerve.db-journal", kind: "file", always: false },
  { path: "archive", kind: "folder", always: false },
  { path: "archive/logs", kind: "folder", always: true },
  { path: "blobs", kind: "folder", always: true },
  { path: "blobs/quarantine", kind: "folder", always: false }
]

const modeString = (mode: number) => "0" + (mode & 0o777).toString(8)

const missingEntry = (path: string, kind: "file" | "folder"): LayoutEntry => ({
  path,
  kind,
  found: "missing",
  mode: null,
  expectedMode: EXPECTED_MODE[kind],
  modeOk: true,
  uid: null,
  ownerOk: true
})

const orMissing = <A>(self: Effect.Effect<A, PlatformError>, path: string) =>
  self.pipe(
    Effect.map(Option.some),
    // ENOTDIR: something on the way is not a folder (it is reported at its own path).
    Effect.catchIf((error) => isNotFound(error) || errnoCode(error) === "ENOTDIR", () => Effect.succeed(Option.none<A>())),
    Effect.mapError((error) => dataDirectoryError(path, error))
  )

/**
 * Inspects the data directory `dataDir` as user `uid` (default: this process's effective uid).
 * Fails only when a file cannot be looked at (permission denied on the folder, say); everything
 * found is reported in `findings`.
 *
 * @example
 * ```ts
 * const { findings } = yield* inspect("./data")
 * for (const f of findings) yield* Effect.log(f.message)
 * ```
 */
export const inspect = Effect.fnUntraced(function*(dataDir: string, options: { readonly uid?: number } = {}) {
  const fs = yield* FileSystem.FileSystem
  const path = yield* Path.Path
  const root = path.resolve(dataDir)
  const uid = options.uid ?? process.geteuid?.()
  const entryOf = (relative: string, kind: "file" | "folder", info: FileSystem.File.Info, target?: string): LayoutEntry => {
    const owner = Option.getOrNull(info.uid)
    return {
      path: relative,
      kind,
      found: target !== undefined ? "symlink" : (info.type === "Directory") === (kind === "folder") ? "ok" : "wrongKind",
      // A link's own bits mean nothing (0777 on Linux).
      mode: target !== undefined ? null : modeString(info.mode),
      expectedMode: EXPECTED_MODE[kind],
      // Looser than owner-only is the problem; a stricter mode (e.g. 0400) is not.
      modeOk: target !== undefined || (info.mode & 0o077) === 0,
      uid: owner,
      ownerOk: uid === undefined || owner === null || owner === uid,
      ...(target === undefined ? {} : { target })
    }
  }

  const rootInfo = yield* orMissing(fs.stat(root), root)
  if (Option.isNone(rootInfo)) {
    return { root, exists: false, layout: [missingEntry(".", "folder")], findings: [] } satisfies DataDirectoryInspection
  }
  const entries: Array<LayoutEntry> = [entryOf(".", "folder", rootInfo.value)]
  if (rootInfo.value.type === "Directory") {
    for (const expected of EXPECTED) {
      const full = path.join(root, expected.path)
      const info = yield* orMissing(fs.lstat(full), full)
      if (Option.isNone(info)) {
        if (expected.always) entries.push(missingEntry(expected.path, expected.kind))
        continue
      }
      const target = info.value.type === "SymbolicLink"
        ? yield* fs.readLink(full).pipe(Effect.orElseSucceed(() => "?"))
        : undefined
      const entry = entryOf(expected.path, expected.kind, info.value, target)
      if (expected.always || entry.found !== "ok" || entry.ownerOk === false) entries.push(entry)
    }
  }
  return { root, exists: true, layout: entries, findings: entries.flatMap(findingsOf) } satisfies DataDirectoryInspection
})

/** The findings of one entry. */
const findingsOf = (e: LayoutEntry): ReadonlyArray<Finding> => {
  const out: Array<Finding> = []
  if (e.found === "symlink") {
    out.push({
      path: e.path,
      expected: e.kind,
      kind: "symlink",
      message: `${e.path} is a symbolic link (to ${e.target ?? "?"}); nerve-store writes through no link inside the data directory: ` +
        `move the real ${e.kind} into place (or point --data-dir at another folder)`
    })
  }
  if (e.found === "wrongKind") {
    out.push({ path: e.path, expected: e.kind, kind: "wrongKind", message: `${e.path} is not a ${e.kind}: move it away` })
  }
  if (e.ownerOk === false) {
    out.push({
      path: e.path,
      expected: e.kind,
      kind: "otherOwner",
      message: `${e.path} is owned by uid ${e.uid ?? "?"}, not by this user: another user could change the data; ` +
        `run nerve-store as its owner, or \`chown\` the data directory to this user`
    })
  }
  if (!e.modeOk) {
    out.push({
      path: e.path,
      expected: e.kind,
      kind: "looseMode",
      message: `${e.path} has mode ${e.mode}, expected owner-only ${e.expectedMode} (\`chmod -R go-rwx <dataDir>\` fixes it)`
    })
  }
  return out
}

/**
 * What a layer refuses (see docs/DECISIONS.md, maintenance): a writable layer refuses every link,
 * wrong kind and other owner; a read-only one refuses wrong kinds only (it writes nothing, and an
 * operator may read another user's directory). Loose modes are never refused.
 */
export const refusals = (inspection: DataDirectoryInspection, options: { readonly readonly: boolean }): ReadonlyArray<Finding> =>
  inspection.findings.filter((f) => f.kind === "wrongKind" || (!options.readonly && (f.kind === "symlink" || f.kind === "otherOwner")))

/** The error of the first refused finding (the live layer fails with it). */
export const refusalError = (root: string, finding: Finding): DataDirectoryError =>
  new DataDirectoryError({
    path: finding.path === "." ? root : `${root}/${finding.path}`,
    reason: finding.kind !== "wrongKind" ? "other" : finding.expected === "folder" ? "notADirectory" : "isADirectory",
    code: finding.kind === "symlink" ? "ELOOP" : null,
    detail: finding.message
  })
