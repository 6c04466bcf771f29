/**
 * How a file appears under its final name — the one place in nerve-store that does it, for
 * blobs and archive days alike (git's `finalize_object_file` is the model):
 *
 * 1. `writeTemp` (a stream) or `writeTempBytes` (one buffer) writes the content to
 *    `<dir>/.tmp.<128-bit random hex>`, opened exclusively (`wx`), hashing it, and fsyncs it. A
 *    failure or interruption removes the temp file.
 * 2. `publish` gives the temp file its final name, removes the temp name, and fsyncs the folder
 *    so the new name survives a power loss. If it fails (or is interrupted) it removes the temp
 *    file too, so a caller never has to clean up after either step.
 *
 * A crash between the steps leaves at most a stale `.tmp.*` file, never a partial file under a
 * final name; the stores' `gc` sweeps those.
 *
 * @since 0.6.0
 */
import { Effect, type Exit, FileSystem, Path, Stream } from "effect"
import type { PlatformError } from "effect/PlatformError"
import { createHash, randomBytes } from "node:crypto"
import { errnoCode, isNotFound } from "./PlatformErrors.ts"

/** The prefix of temp files; 0.5 used the same one, so its leftovers are recognised. */
export const TEMP_PREFIX = ".tmp."

/** A fully written, fsynced temp file and what was hashed while writing it. */
export interface TempFile {
  readonly path: string
  /** Lowercase sha256 hex of the bytes written. */
  readonly sha256: string
  readonly size: number
}

/** `no-clobber`: an existing final file wins (content-addressed names). `replace`: ours wins. */
export type PublishMode = "no-clobber" | "replace"

/** Whether the final name was created by this call or was already there (`no-clobber` only). */
export type PublishOutcome = "created" | "existed"

const CREATED: PublishOutcome = "created"
const EXISTED: PublishOutcome = "existed"

/** Options of `publish`. */
export interface PublishOptions {
  /**
   * When the final name's folder does not exist, create it (durably, see `makeDirectoryDurable`)
   * and try once more. Without it, a missing folder fails the publish.
   */
  readonly createDirectory?: boolean
}

/** Whether `name` is a temp file left by `writeTemp` (or by nerve-store 0.5). */
export const isTempName = (name: string): boolean => name.startsWith(TEMP_PREFIX)

/** Removes `file`, ignoring every failure: for cleanup paths, where the first error is the one to report. */
const discard = (fs: FileSystem.FileSystem, file: string): Effect.Effect<void> => Effect.ignore(fs.remove(file))

/** Runs `cleanup` when `exit` is not a success (a failure, a defect or an interruption). */
const unlessSuccess = (cleanup: Effect.Effect<void>) => (exit: Exit.Exit<unknown, unknown>): Effect.Effect<void> =>
  exit._tag === "Success" ? Effect.void : cleanup

/** A fresh temp name inside `directory`. */
const tempPathIn = (path: Path.Path, directory: string): string =>
  path.join(directory, TEMP_PREFIX + randomBytes(16).toString("hex"))

/**
 * Creates a new temp file in `directory` (opened `wx`), lets `fill` write it, fsyncs and closes
 * it, and returns its path. On failure or interruption the file is removed — but only a file we
 * created (`wx` failing with EEXIST names someone else's).
 */
const createTemp = <E, R>(
  directory: string,
  fill: (file: FileSystem.File) => Effect.Effect<void, E, R>
): Effect.Effect<string, E | PlatformError, FileSystem.FileSystem | Path.Path | R> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const tempPath = tempPathIn(yield* Path.Path, directory)
    let opened = false
    const write = Effect.scoped(Effect.flatMap(fs.open(tempPath, { flag: "wx" }), (file) => {
      opened = true
      return Effect.andThen(fill(file), file.sync)
    }))
    yield* Effect.onExit(write, unlessSuccess(Effect.suspend(() => opened ? discard(fs, tempPath) : Effect.void)))
    return tempPath
  })

/**
 * Streams `content` into a new fsynced temp file inside `directory` (which must exist), hashing
 * it on the way. A failure of `content` is passed through unchanged (and removes the temp file).
 *
 * @example
 * ```ts
 * const temp = yield* writeTemp(dir, Stream.make(bytes)) // { path: "<dir>/.tmp.…", sha256, size }
 * ```
 */
export const writeTemp = <E, R>(
  directory: string,
  content: Stream.Stream<Uint8Array, E, R>
): Effect.Effect<TempFile, E | PlatformError, FileSystem.FileSystem | Path.Path | R> =>
  Effect.suspend(() => {
    const hash = createHash("sha256")
    let size = 0
    return Effect.map(
      createTemp(directory, (file) =>
        Stream.runForEach(content, (chunk) => {
          hash.update(chunk)
          size += chunk.byteLength
          return file.writeAll(chunk)
        })),
      (path) => ({ path, sha256: hash.digest("hex"), size })
    )
  })

/**
 * `writeTemp` for content already in one buffer, without a stream: open `wx`, write, fsync,
 * close. `sha256` is computed after the write, so a caller that hashed `bytes` before can compare
 * the two to detect a buffer changed during the write.
 *
 * @example
 * ```ts
 * const temp = yield* writeTempBytes(dir, new TextEncoder().encode("hello"))
 * ```
 */
export const writeTempBytes = (
  directory: string,
  bytes: Uint8Array
): Effect.Effect<TempFile, PlatformError, FileSystem.FileSystem | Path.Path> =>
  Effect.map(
    createTemp(directory, (file) => file.writeAll(bytes)),
    (path) => ({ path, sha256: createHash("sha256").update(bytes).digest("hex"), size: bytes.byteLength })
  )

/**
 * Creates `directory` (and missing parents) and fsyncs its parent, so the new folder survives a
 * power loss. An existing folder is fine.
 */
export const makeDirectoryDurable = (
  directory: string
): Effect.Effect<void, PlatformError, FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    yield* fs.makeDirectory(directory, { recursive: true })
    yield* syncDirectory(path.dirname(directory))
  })

// Where hard links are not supported (some FUSE, SMB and FAT file systems) we fall back to rename.
const linkUnsupportedCodes = new Set(["EPERM", "ENOTSUP", "EOPNOTSUPP", "ENOSYS", "EXDEV", "EMLINK"])

/**
 * Gives the file `source` the additional name `target` without replacing an existing file:
 * `"created"` if `target` now names `source`'s file, `"existed"` if `target` was already there
 * (left untouched). After a link both names remain (the caller drops `source`); where links are
 * unsupported `source` is renamed. Nothing is fsynced and nothing is removed on failure.
 *
 * @example
 * ```ts
 * const outcome = yield* placeNoClobber(quarantined, blobPath) // put a copy back unless one is there
 * ```
 */
export const placeNoClobber = (
  source: string,
  target: string
): Effect.Effect<PublishOutcome, PlatformError, FileSystem.FileSystem> =>
  Effect.flatMap(Effect.service(FileSystem.FileSystem), (fs) =>
    // link(2) fails with EEXIST instead of replacing, which is exactly "no clobber".
    fs.link(source, target).pipe(
      Effect.as(CREATED),
      Effect.catchIf(
        (error) => error.reason._tag === "AlreadyExists",
        () => Effect.succeed(EXISTED)
      ),
      Effect.catchIf(
        (error) => linkUnsupportedCodes.has(errnoCode(error) ?? ""),
        // rename would clobber, so look first; a racing writer of the same name wrote the same bytes.
        () =>
          Effect.flatMap(fs.exists(target), (exists) =>
            exists ? Effect.succeed(EXISTED) : Effect.as(fs.rename(source, target), CREATED))
      )
    ))

/**
 * Gives the fsynced temp file `tempPath` the name `finalPath`, removes the temp name and fsyncs
 * the folder. With `no-clobber`, an existing `finalPath` is left untouched and the outcome is
 * `"existed"` — for content-addressed files "already there" is success. Whatever happens, the
 * temp name is gone when the Effect completes (on failure or interruption it is removed too).
 *
 * @example
 * ```ts
 * const temp = yield* writeTemp(dir, content)
 * const outcome = yield* publish(temp.path, path.join(dir, "2024-01-01.jsonl"), "replace")
 * ```
 */
export const publish = (
  tempPath: string,
  finalPath: string,
  mode: PublishMode,
  options?: PublishOptions
): Effect.Effect<PublishOutcome, PlatformError, FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const directory = path.dirname(finalPath)
    const attempt = mode === "replace"
      ? Effect.as(fs.rename(tempPath, finalPath), CREATED)
      : placeNoClobber(tempPath, finalPath)
    const outcome: PublishOutcome = yield* options?.createDirectory === true
      ? attempt.pipe(
        Effect.catchIf(
          isNotFound,
          () => Effect.andThen(makeDirectoryDurable(directory), attempt)
        )
      )
      : attempt
    const sync = syncDirectory(directory)
    if (mode === "replace") {
      // The rename took the temp name away with it.
      yield* sync
      return outcome
    }
    // After a link (or "existed") the temp name is ours to drop. The folder's fsync is for the
    // final name, which exists already, so the two run side by side: the unlink (an lstat and an
    // unlink through the FileSystem's `remove`) hides behind the fsync. A crash before the unlink
    // is durable leaves a temp file, which `gc` sweeps.
    const dropTemp = fs.remove(tempPath).pipe(Effect.catchIf(isNotFound, () => Effect.void))
    yield* Effect.all([dropTemp, sync], { concurrency: 2, discard: true })
    return outcome
  }).pipe(
    Effect.onExit((exit) =>
      exit._tag === "Success" ? Effect.void : Effect.flatMap(Effect.service(FileSystem.FileSystem), (fs) => discard(fs, tempPath))
    )
  )

/** fsyncs a folder so that names created or removed in it are durable. */
export const syncDirectory = (directory: string): Effect.Effect<void, PlatformError, FileSystem.FileSystem> =>
  Effect.flatMap(
    Effect.service(FileSystem.FileSystem),
    (fs) => Effect.scoped(Effect.flatMap(fs.open(directory, { flag: "r" }), (handle) => handle.sync))
  )
