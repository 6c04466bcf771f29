/**
 * The files of a SQLite data directory as the maintenance service sees them: sizes, how many
 * blobs and day files there are (named by the blob and day-file modules' own rules, not copies),
 * the blobs in quarantine, and whether a crash left a rollback journal.
 *
 * @since 0.8.0
 */
import { Effect, FileSystem, Option, Path, Result } from "effect"
import { isBlobDigest } from "../../schema/Blob.ts"
import { dayFileName } from "../archive/DayFileStore.ts"
import { digestOfEntry, isShardName, QUARANTINE_DIR } from "../blob/BlobPath.ts"
import { isValidUtcDay } from "../domain/UtcDay.ts"
import { dataDirectoryError, isNotFound } from "../fs/PlatformErrors.ts"
import type { QuarantinedBlob } from "../Maintenance.ts"

/** Whether `name` is an archived day file (`YYYY-MM-DD.jsonl`, or `.jsonl.gz`). */
export const isDayFileName = (name: string): boolean => {
  const day = name.slice(0, 10)
  return isValidUtcDay(day) && (name === dayFileName(day, false) || name === dayFileName(day, true))
}

/** Whether `relative` (`<shard>/<name>` under the blob root) is a stored blob. */
export const isBlobEntry = (relative: string): boolean => {
  const [shard = "", name = "", ...rest] = relative.split("/")
  return rest.length === 0 && isShardName(shard) && digestOfEntry(shard, name) !== undefined
}

/** Total size of the regular files under `folder` (0 when it is missing) and how many `count` accepts. */
export const folderUsage = Effect.fnUntraced(function*(folder: string, count: (relative: string) => boolean) {
  const fs = yield* FileSystem.FileSystem
  const names = yield* fs.readDirectory(folder, { recursive: true }).pipe(Effect.orElseSucceed((): Array<string> => []))
  let bytes = 0
  let files = 0
  for (const name of names) {
    const info = yield* Effect.result(fs.lstat(`${folder}/${name}`))
    if (Result.isFailure(info) || info.success.type !== "File") continue
    bytes += Number(info.success.size)
    if (count(name)) files++
  }
  return { bytes, files }
})

/** The size of `path`, 0 when it is missing. */
export const fileSize = Effect.fnUntraced(function*(path: string) {
  const fs = yield* FileSystem.FileSystem
  return yield* fs.stat(path).pipe(Effect.map((info) => Number(info.size)), Effect.orElseSucceed(() => 0))
})

/**
 * Whether a non-empty rollback journal (`<database>-journal`) lies beside the database: a crash
 * inside a write of a DELETE-journal file (a 0.5 file before its switch to WAL). Only a writable
 * connection can roll it back; until then every read-only open fails (`readOnly`, code 776).
 */
export const hasRollbackJournal = Effect.fnUntraced(function*(database: string) {
  return (yield* fileSize(`${database}-journal`)) > 0
})

/** The blobs in `<blobRoot>/quarantine/` (none when the folder is missing or is not a folder). */
export const quarantined = Effect.fnUntraced(function*(blobRoot: string) {
  const fs = yield* FileSystem.FileSystem
  const path = yield* Path.Path
  const folder = path.join(blobRoot, QUARANTINE_DIR)
  const info = yield* fs.lstat(folder).pipe(
    Effect.map(Option.some),
    Effect.catchIf(isNotFound, () => Effect.succeed(Option.none())),
    Effect.mapError((error) => dataDirectoryError(folder, error))
  )
  if (Option.isNone(info) || info.value.type !== "Directory") return []
  const names = yield* fs.readDirectory(folder).pipe(Effect.mapError((error) => dataDirectoryError(folder, error)))
  const out: Array<QuarantinedBlob> = []
  for (const file of [...names].sort()) {
    const [digest = "", time = ""] = file.split(".")
    const at = /^\d+$/.test(time) ? Number(time) : null
    out.push({
      file,
      digest: isBlobDigest(digest) ? digest : null,
      quarantinedAt: at,
      bytes: yield* fileSize(path.join(folder, file))
    })
  }
  return out
})

/**
 * `user_version` read from the file's header (bytes 60..63, big-endian) without SQLite: what a
 * check reports when a hot journal keeps SQLite from opening the file read-only.
 */
export const headerSchemaVersion = Effect.fnUntraced(function*(database: string) {
  const fs = yield* FileSystem.FileSystem
  const header = yield* Effect.scoped(Effect.flatMap(fs.open(database, { flag: "r" }), (file) => file.readAlloc(100))).pipe(
    Effect.map(Option.getOrElse(() => new Uint8Array(0))),
    Effect.orElseSucceed(() => new Uint8Array(0))
  )
  if (header.length < 64) return 0
  return new DataView(header.buffer, header.byteOffset, header.byteLength).getInt32(60)
})
