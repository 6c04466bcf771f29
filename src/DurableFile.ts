/**
 * How a file appears under its final name — the one place in nerve-store that does it, for
 * blobs and archive days alike (git's `finalize_object_file` is the model):
 *
 * 1. `writeTemp` streams the content into `<dir>/.tmp.<128-bit random hex>`, opened exclusively
 *    (`wx`), hashing it on the way, and fsyncs it. A failure or interruption removes the temp file.
 * 2. `publish` gives the temp file its final name, removes the temp name, and fsyncs the folder
 *    so the new name survives a power loss.
 *
 * A crash between the steps leaves at most a stale `.tmp.*` file, never a partial file under a
 * final name; the stores' `gc` sweeps those.
 *
 * @since 0.6.0
 */
import { Effect, FileSystem, Path, Stream } from "effect"
import type { PlatformError } from "effect/PlatformError"
import { createHash, randomBytes } from "node:crypto"

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

/** Whether `name` is a temp file left by `writeTemp` (or by nerve-store 0.5). */
export const isTempName = (name: string): boolean => name.startsWith(TEMP_PREFIX)

/** Streams `content` into a new fsynced temp file inside `directory` (which must exist). */
export const writeTemp = <E, R>(
  directory: string,
  content: Stream.Stream<Uint8Array, E, R>
): Effect.Effect<TempFile, E | PlatformError, FileSystem.FileSystem | Path.Path | R> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const tempPath = path.join(directory, TEMP_PREFIX + randomBytes(16).toString("hex"))
    const hash = createHash("sha256")
    let size = 0
    const write = Effect.scoped(Effect.gen(function*() {
      const file = yield* fs.open(tempPath, { flag: "wx" })
      yield* Stream.runForEach(content, (chunk) => {
        hash.update(chunk)
        size += chunk.byteLength
        return file.writeAll(chunk)
      })
      yield* file.sync
    }))
    yield* Effect.onExit(write, (exit) => exit._tag === "Success" ? Effect.void : Effect.ignore(fs.remove(tempPath)))
    return { path: tempPath, sha256: hash.digest("hex"), size }
  })

// Where hard links are not supported (some FUSE, SMB and FAT file systems) we fall back to rename.
const linkUnsupportedCodes = new Set(["EPERM", "ENOTSUP", "EOPNOTSUPP", "ENOSYS", "EXDEV", "EMLINK"])
const errnoCode = (error: PlatformError): string | undefined => {
  const cause: unknown = error.reason.cause
  if (typeof cause !== "object" || cause === null) return undefined
  const code: unknown = Reflect.get(cause, "code")
  return typeof code === "string" ? code : undefined
}

/**
 * Gives the fsynced temp file `tempPath` the name `finalPath` (same folder), removes the temp
 * name and fsyncs the folder. With `no-clobber`, an existing `finalPath` is left untouched and
 * the outcome is `"existed"` — for content-addressed files "already there" is success.
 */
export const publish = (
  tempPath: string,
  finalPath: string,
  mode: PublishMode
): Effect.Effect<PublishOutcome, PlatformError, FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const created: PublishOutcome = "created"
    let outcome: PublishOutcome = created
    if (mode === "replace") {
      yield* fs.rename(tempPath, finalPath)
    } else {
      // link(2) fails with EEXIST instead of replacing, which is exactly "no clobber".
      outcome = yield* fs.link(tempPath, finalPath).pipe(
        Effect.as<PublishOutcome>("created"),
        Effect.catchIf(
          (error) => error.reason._tag === "AlreadyExists",
          () => Effect.succeed<PublishOutcome>("existed")
        ),
        Effect.catchIf(
          (error) => linkUnsupportedCodes.has(errnoCode(error) ?? ""),
          // rename would clobber, so look first; a racing writer of the same name wrote the same bytes.
          () =>
            Effect.flatMap(fs.exists(finalPath), (exists) =>
              exists ? Effect.succeed<PublishOutcome>("existed") : Effect.as(fs.rename(tempPath, finalPath), created))
        )
      )
      yield* fs.remove(tempPath).pipe(Effect.catchIf((error) => error.reason._tag === "NotFound", () => Effect.void))
    }
    yield* syncDirectory(path.dirname(finalPath))
    return outcome
  })

/** fsyncs a folder so that names created or removed in it are durable. */
export const syncDirectory = (directory: string): Effect.Effect<void, PlatformError, FileSystem.FileSystem> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    yield* Effect.scoped(Effect.flatMap(fs.open(directory, { flag: "r" }), (handle) => handle.sync))
  })
