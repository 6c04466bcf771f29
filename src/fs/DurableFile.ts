/**
 * How a file appears under its final name — the one place in nerve-store that does it, for
 * blobs and archive days alike (git's `finalize_object_file` is the model):
 *
 * 1. `writeTemp` (a stream) or `writeTempBytes` (one buffer) writes the content to
 *    `<dir>/.tmp.<128-bit random hex>`, opened exclusively (`wx`) and owner-only (0600), hashing
 *    it, and fsyncs it. A failure or interruption removes the temp file.
 * 2. `publish` gives the temp file its final name, removes the temp name, and fsyncs the folder
 *    so the new name survives a power loss. If it fails (or is interrupted) it removes the temp
 *    file too, so a caller never has to clean up after either step.
 *
 * `createNoClobber` is both steps for one buffer in one go (the blob store's `write`).
 *
 * Everything created here is owner-only whatever the umask: files 0600 (`FILE_MODE`), folders
 * 0700 (`DIRECTORY_MODE`) — the store holds prompts and outputs. A crash between the steps leaves
 * at most a stale `.tmp.*` file, never a partial file under a final name; `sweepTempFiles`
 * removes those (the stores run it on open and in `gc`).
 *
 * Each step is one `Effect.tryPromise` over `node:fs/promises` (through `NodeFiles`, so tests
 * can inject faults): the Effect `FileSystem` would cost a fiber resumption and a scope per
 * syscall, and an extra `lstat` in `remove`, for nothing the protocol needs.
 *
 * @since 0.6.0
 */
import { Effect, type Exit, FileSystem, Option, Stream } from "effect"
import type { PlatformError } from "effect/PlatformError"
import { createHash, randomBytes } from "node:crypto"
import { constants } from "node:fs"
import { dirname, join } from "node:path"
import { type NodeFileHandle, NodeFiles, nodeFiles, type NodeFilesShape } from "./NodeFiles.ts"
import { errnoCode, fromNodeError, isNotFound } from "./PlatformErrors.ts"

/** The prefix of temp files; 0.5 used the same one, so its leftovers are recognised. */
export const TEMP_PREFIX = ".tmp."

/** Permissions of every file the store creates: owner read/write only. */
export const FILE_MODE = 0o600
/** Permissions of every folder the store creates: owner only. */
export const DIRECTORY_MODE = 0o700

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

/** Options of `publish` and `createNoClobber`. */
export interface PublishOptions {
  /**
   * When the final name's folder does not exist, create it (durably, see `makeDirectoryDurable`)
   * and try once more. Without it, a missing folder fails the publish.
   */
  readonly createDirectory?: boolean
  /**
   * Refuse (ELOOP) when the final name's folder is a symbolic link, instead of following it:
   * the blob store never follows a link out of its root.
   */
  readonly noFollowDirectory?: boolean
}

/** Whether `name` is a temp file left by `writeTemp` (or by nerve-store 0.5). */
export const isTempName = (name: string): boolean => name.startsWith(TEMP_PREFIX)

/** A fresh temp name inside `directory`. */
const tempPathIn = (directory: string): string => join(directory, TEMP_PREFIX + randomBytes(16).toString("hex"))

/** A failed step of an async protocol function: which call, on which path. */
class StepFailure {
  readonly method: string
  readonly path: string
  readonly cause: unknown
  constructor(method: string, path: string, cause: unknown) {
    this.method = method
    this.path = path
    this.cause = cause
  }
}

/** Runs `call`, labelling a rejection with the step and path it belongs to. */
const step = async <A>(method: string, path: string, call: () => Promise<A>): Promise<A> => {
  try {
    return await call()
  } catch (cause) {
    throw cause instanceof StepFailure ? cause : new StepFailure(method, path, cause)
  }
}

const toPlatformError = (fallbackPath: string) => (error: unknown): PlatformError =>
  error instanceof StepFailure
    ? fromNodeError(error.method, error.path, error.cause)
    : fromNodeError("unknown", fallbackPath, error)

const codeOf = (error: unknown): string | undefined => {
  const cause = error instanceof StepFailure ? error.cause : error
  const code: unknown = typeof cause === "object" && cause !== null ? Reflect.get(cause, "code") : undefined
  return typeof code === "string" ? code : undefined
}

/**
 * Which calls make the steps: the direct `NodeFiles` when provided (the blob store), else the
 * Effect `FileSystem` in context (the archive's day files), else `node:fs/promises`.
 */
type Backend =
  | { readonly _tag: "Node"; readonly files: NodeFilesShape }
  | { readonly _tag: "FileSystem"; readonly fs: FileSystem.FileSystem }

const backend: Effect.Effect<Backend> = Effect.map(
  Effect.all([Effect.serviceOption(NodeFiles), Effect.serviceOption(FileSystem.FileSystem)]),
  ([files, fs]): Backend =>
    Option.isSome(files)
      ? { _tag: "Node", files: files.value }
      : Option.isSome(fs)
      ? { _tag: "FileSystem", fs: fs.value }
      : { _tag: "Node", files: nodeFiles }
)

/** The direct calls: the provided `NodeFiles`, else `node:fs/promises`. */
const directFiles: Effect.Effect<NodeFilesShape> = Effect.map(
  Effect.serviceOption(NodeFiles),
  Option.getOrElse(() => nodeFiles)
)

/** One protocol step (an async function over the direct calls) as an Effect failing with a `PlatformError`. */
const runWith = <A>(files: NodeFilesShape, path: string, body: (files: NodeFilesShape) => Promise<A>): Effect.Effect<A, PlatformError> =>
  Effect.tryPromise({ try: () => body(files), catch: toPlatformError(path) })

/** `runWith` on the direct calls in context. */
const run = <A>(path: string, body: (files: NodeFilesShape) => Promise<A>): Effect.Effect<A, PlatformError> =>
  Effect.flatMap(directFiles, (files) => runWith(files, path, body))

/** A step on whichever backend is in context. */
const onBackend = <A, E, R>(
  path: string,
  node: (files: NodeFilesShape) => Promise<A>,
  fileSystem: (fs: FileSystem.FileSystem) => Effect.Effect<A, E, R>
): Effect.Effect<A, E | PlatformError, R> =>
  Effect.flatMap(backend, (b): Effect.Effect<A, E | PlatformError, R> =>
    b._tag === "Node" ? runWith(b.files, path, node) : fileSystem(b.fs))

/** Writes all of `bytes` at the handle's position (a short write is continued, never lost). */
const writeAll = async (handle: NodeFileHandle, path: string, bytes: Uint8Array): Promise<void> => {
  let offset = 0
  while (offset < bytes.byteLength) {
    const { bytesWritten } = await step("writeAll", path, () => handle.write(bytes, offset, bytes.byteLength - offset, null))
    if (bytesWritten === 0) throw new StepFailure("writeAll", path, Object.assign(new Error("write returned 0 bytes"), { code: "EIO" }))
    offset += bytesWritten
  }
}

const closeQuietly = (handle: NodeFileHandle): Promise<void> => handle.close().catch(() => undefined)
const unlinkQuietly = (files: NodeFilesShape, path: string): Promise<void> => files.unlink(path).catch(() => undefined)

/** Creates `<directory>/.tmp.<hex>` (`wx`, 0600), writes `bytes`, fsyncs, closes; removes it on failure. */
const createTempAsync = async (files: NodeFilesShape, directory: string, bytes: Uint8Array): Promise<string> => {
  const path = tempPathIn(directory)
  const handle = await step("open", path, () => files.open(path, "wx", FILE_MODE))
  try {
    await writeAll(handle, path, bytes)
    await step("sync", path, () => handle.sync())
  } catch (error) {
    await closeQuietly(handle)
    await unlinkQuietly(files, path)
    throw error
  }
  await step("close", path, () => handle.close()).catch(async (error) => {
    await unlinkQuietly(files, path)
    throw error
  })
  return path
}

/** fsyncs an open folder, then closes it. */
const syncAndClose = async (folder: NodeFileHandle, directory: string): Promise<void> => {
  try {
    await step("sync", directory, () => folder.sync())
  } finally {
    await closeQuietly(folder)
  }
}

const directoryFlags = constants.O_RDONLY | (constants.O_DIRECTORY ?? 0)
const noFollowDirectoryFlags = directoryFlags | (constants.O_NOFOLLOW ?? 0)

/** Opens a folder for fsync ("r"); with `noFollow`, a symbolic link fails with ELOOP. */
const openDirectory = async (files: NodeFilesShape, directory: string, noFollow: boolean): Promise<NodeFileHandle> => {
  if (!noFollow) return step("open", directory, () => files.open(directory, "r"))
  try {
    return await step("open", directory, () => files.open(directory, noFollowDirectoryFlags))
  } catch (error) {
    // Linux reports a link met with O_DIRECTORY | O_NOFOLLOW as ENOTDIR; say what it is.
    if (codeOf(error) !== "ENOTDIR") throw error
    const isLink = await files.lstat(directory).then((info) => info.isSymbolicLink(), () => false)
    if (!isLink) throw error
    throw new StepFailure("open", directory, Object.assign(new Error(`ELOOP: a symbolic link, not followed, '${directory}'`), { code: "ELOOP" }))
  }
}

const syncDirectoryAsync = async (files: NodeFilesShape, directory: string): Promise<void> =>
  syncAndClose(await openDirectory(files, directory, false), directory)

const makeDirectoryDurableAsync = async (files: NodeFilesShape, directory: string): Promise<void> => {
  await step("makeDirectory", directory, () => files.mkdir(directory, { recursive: true, mode: DIRECTORY_MODE }))
  await syncDirectoryAsync(files, dirname(directory))
}

/** Opens the final name's folder, creating it first when asked to and it is missing. */
const openTargetDirectory = async (
  files: NodeFilesShape,
  directory: string,
  options: PublishOptions | undefined
): Promise<NodeFileHandle> => {
  const noFollow = options?.noFollowDirectory === true
  try {
    return await openDirectory(files, directory, noFollow)
  } catch (error) {
    if (options?.createDirectory !== true || codeOf(error) !== "ENOENT") throw error
    await makeDirectoryDurableAsync(files, directory)
    return await openDirectory(files, directory, noFollow)
  }
}

// Where hard links are not supported (some FUSE, SMB and FAT file systems) we fall back to rename.
const linkUnsupportedCodes = new Set(["EPERM", "ENOTSUP", "EOPNOTSUPP", "ENOSYS", "EXDEV", "EMLINK"])

const placeNoClobberAsync = async (files: NodeFilesShape, source: string, target: string): Promise<PublishOutcome> => {
  try {
    // link(2) fails with EEXIST instead of replacing, which is exactly "no clobber".
    await step("link", target, () => files.link(source, target))
    return CREATED
  } catch (error) {
    const code = codeOf(error)
    if (code === "EEXIST") return EXISTED
    if (code === undefined || !linkUnsupportedCodes.has(code)) throw error
  }
  // rename would clobber, so look first; a racing writer of the same name wrote the same bytes.
  const exists = await files.lstat(target).then(() => true, (error: unknown) => {
    if (codeOf(error) === "ENOENT") return false
    throw new StepFailure("stat", target, error)
  })
  if (exists) return EXISTED
  await step("rename", target, () => files.rename(source, target))
  return CREATED
}

/**
 * Gives the fsynced temp file its final name in the already opened `folder`, drops the temp name
 * and fsyncs the folder, one after the other: the one folder fsync makes both the new name and
 * the removal durable. (Unlinking beside the fsync was measured slower: the journal commit the
 * fsync forces waits for the concurrent unlink, or the unlink lands in the next commit.) A crash
 * before the fsync leaves at most a temp file, which the sweep removes.
 */
const placeAndSync = async (
  files: NodeFilesShape,
  folder: NodeFileHandle,
  tempPath: string,
  finalPath: string,
  mode: PublishMode
): Promise<PublishOutcome> => {
  if (mode === "replace") {
    await step("rename", finalPath, () => files.rename(tempPath, finalPath))
    await step("sync", dirname(finalPath), () => folder.sync())
    return CREATED
  }
  const outcome = await placeNoClobberAsync(files, tempPath, finalPath)
  // The final name is complete by now: a temp name that cannot be dropped is only a leftover for
  // the sweep, not a failure of the publish.
  await unlinkQuietly(files, tempPath)
  await step("sync", dirname(finalPath), () => folder.sync())
  return outcome
}

const publishAsync = async (
  files: NodeFilesShape,
  tempPath: string,
  finalPath: string,
  mode: PublishMode,
  options: PublishOptions | undefined
): Promise<PublishOutcome> => {
  try {
    const folder = await openTargetDirectory(files, dirname(finalPath), options)
    try {
      return await placeAndSync(files, folder, tempPath, finalPath, mode)
    } finally {
      await closeQuietly(folder)
    }
  } catch (error) {
    await unlinkQuietly(files, tempPath)
    throw error
  }
}

/** Removes `file`, ignoring every failure: for cleanup paths, where the first error is the one to report. */
const discard = (file: string): Effect.Effect<void> =>
  Effect.flatMap(backend, (b) =>
    b._tag === "Node" ? Effect.promise(() => unlinkQuietly(b.files, file)) : Effect.ignore(b.fs.remove(file)))

/** Runs `cleanup` when `exit` is not a success (a failure, a defect or an interruption). */
const unlessSuccess = (cleanup: Effect.Effect<void>) => (exit: Exit.Exit<unknown, unknown>): Effect.Effect<void> =>
  exit._tag === "Success" ? Effect.void : cleanup

/** Removes `path` if a failure or an interruption ended `self` (a promise may still be running). */
const removeUnlessSuccess = <A, E, R>(path: string, self: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Effect.onExit(self, unlessSuccess(discard(path)))

/**
 * Streams `content` into a new fsynced temp file (0600) inside `directory` (which must exist),
 * hashing it on the way. A failure of `content` is passed through unchanged (and removes the
 * temp file).
 *
 * @example
 * ```ts
 * const temp = yield* writeTemp(dir, Stream.make(bytes)) // { path: "<dir>/.tmp.…", sha256, size }
 * ```
 */
export const writeTemp = <E, R>(
  directory: string,
  content: Stream.Stream<Uint8Array, E, R>
): Effect.Effect<TempFile, E | PlatformError, R> =>
  Effect.flatMap(backend, (b) =>
    Effect.suspend(() => {
      const path = tempPathIn(directory)
      const hash = createHash("sha256")
      let size = 0
      const hashed = Stream.map(content, (chunk) => {
        hash.update(chunk)
        size += chunk.byteLength
        return chunk
      })
      const written = b._tag === "Node" ? streamIntoNode(b.files, path, hashed) : streamIntoFileSystem(b.fs, path, hashed)
      return Effect.map(written, () => ({ path, sha256: hash.digest("hex"), size }))
    }))

/**
 * Creates `path` (`wx`, 0600), writes every chunk of `content`, fsyncs and closes it. On failure
 * or interruption the file is removed — but only a file we created (`wx` failing with EEXIST
 * names someone else's).
 */
const streamIntoNode = <E, R>(files: NodeFilesShape, path: string, content: Stream.Stream<Uint8Array, E, R>) => {
  let opened = false
  const open = Effect.tryPromise({
    try: async () => {
      const handle = await step("open", path, () => files.open(path, "wx", FILE_MODE))
      opened = true
      return handle
    },
    catch: toPlatformError(path)
  })
  const fill = (handle: NodeFileHandle) =>
    Effect.andThen(
      Stream.runForEach(content, (chunk) => Effect.tryPromise({ try: () => writeAll(handle, path, chunk), catch: toPlatformError(path) })),
      Effect.tryPromise({ try: () => step("sync", path, () => handle.sync()), catch: toPlatformError(path) })
    )
  const written = Effect.acquireUseRelease(open, fill, (handle) => Effect.promise(() => closeQuietly(handle)))
  return Effect.onExit(written, unlessSuccess(Effect.suspend(() => opened ? Effect.promise(() => unlinkQuietly(files, path)) : Effect.void)))
}

/** `streamIntoNode` through the Effect `FileSystem`. */
const streamIntoFileSystem = <E, R>(fs: FileSystem.FileSystem, path: string, content: Stream.Stream<Uint8Array, E, R>) => {
  let opened = false
  const written = Effect.scoped(Effect.flatMap(fs.open(path, { flag: "wx", mode: FILE_MODE }), (file) => {
    opened = true
    return Effect.andThen(Stream.runForEach(content, (chunk) => file.writeAll(chunk)), file.sync)
  }))
  return Effect.onExit(written, unlessSuccess(Effect.suspend(() => opened ? Effect.ignore(fs.remove(path)) : Effect.void)))
}

/**
 * `writeTemp` for content already in one buffer: open `wx` (0600), write, fsync, close, as one
 * step. `sha256` is computed after the write, so a caller that hashed `bytes` before can compare
 * the two to detect a buffer changed during the write.
 *
 * @example
 * ```ts
 * const temp = yield* writeTempBytes(dir, new TextEncoder().encode("hello"))
 * ```
 */
export const writeTempBytes = (directory: string, bytes: Uint8Array): Effect.Effect<TempFile, PlatformError> =>
  Effect.map(
    onBackend(directory, (files) => createTempAsync(files, directory, bytes), (fs) => {
      const path = tempPathIn(directory)
      return Effect.as(streamIntoFileSystem(fs, path, Stream.make(bytes)), path)
    }),
    (path) => ({ path, sha256: createHash("sha256").update(bytes).digest("hex"), size: bytes.byteLength })
  )

/**
 * Creates `directory` (and missing parents, all 0700) and fsyncs its parent, so the new folder
 * survives a power loss. An existing folder is fine (its mode is left as it is).
 */
export const makeDirectoryDurable = (directory: string): Effect.Effect<void, PlatformError> =>
  onBackend(directory, (files) => makeDirectoryDurableAsync(files, directory), (fs) => makeDirectoryDurableFs(fs, directory))

const makeDirectoryDurableFs = (fs: FileSystem.FileSystem, directory: string): Effect.Effect<void, PlatformError> =>
  Effect.andThen(fs.makeDirectory(directory, { recursive: true, mode: DIRECTORY_MODE }), syncDirectoryFs(fs, dirname(directory)))

const syncDirectoryFs = (fs: FileSystem.FileSystem, directory: string): Effect.Effect<void, PlatformError> =>
  Effect.scoped(Effect.flatMap(fs.open(directory, { flag: "r" }), (handle) => handle.sync))

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
export const placeNoClobber = (source: string, target: string): Effect.Effect<PublishOutcome, PlatformError> =>
  onBackend(target, (files) => placeNoClobberAsync(files, source, target), (fs) => placeNoClobberFs(fs, source, target))

const placeNoClobberFs = (fs: FileSystem.FileSystem, source: string, target: string): Effect.Effect<PublishOutcome, PlatformError> =>
  fs.link(source, target).pipe(
    Effect.as(CREATED),
    Effect.catchIf((error) => error.reason._tag === "AlreadyExists", () => Effect.succeed(EXISTED)),
    Effect.catchIf(
      (error) => linkUnsupportedCodes.has(errnoCode(error) ?? ""),
      () => Effect.flatMap(fs.exists(target), (exists) => exists ? Effect.succeed(EXISTED) : Effect.as(fs.rename(source, target), CREATED))
    )
  )

/** `publishAsync` through the Effect `FileSystem` (the folder is not checked for links here). */
const publishFs = (
  fs: FileSystem.FileSystem,
  tempPath: string,
  finalPath: string,
  mode: PublishMode,
  options: PublishOptions | undefined
): Effect.Effect<PublishOutcome, PlatformError> =>
  Effect.gen(function*() {
    const directory = dirname(finalPath)
    const attempt = mode === "replace" ? Effect.as(fs.rename(tempPath, finalPath), CREATED) : placeNoClobberFs(fs, tempPath, finalPath)
    const outcome: PublishOutcome = yield* options?.createDirectory === true
      ? attempt.pipe(Effect.catchIf(isNotFound, () => Effect.andThen(makeDirectoryDurableFs(fs, directory), attempt)))
      : attempt
    const sync = syncDirectoryFs(fs, directory)
    if (mode === "replace") {
      yield* sync
      return outcome
    }
    yield* Effect.ignore(fs.remove(tempPath))
    yield* sync
    return outcome
  })

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
): Effect.Effect<PublishOutcome, PlatformError> =>
  removeUnlessSuccess(
    tempPath,
    onBackend(
      finalPath,
      (files) => publishAsync(files, tempPath, finalPath, mode, options),
      (fs) => publishFs(fs, tempPath, finalPath, mode, options)
    )
  )

/**
 * Both steps for one buffer, in one go: opens the final name's folder (refusing a symbolic link
 * with `noFollowDirectory`, creating it with `createDirectory`), writes `bytes` to a temp file
 * beside the final name, fsyncs it, links it to `finalPath` without clobbering, drops the temp
 * name and fsyncs the folder (whose handle is then closed in the background). With
 * `expectedSha256`, the bytes are hashed after the write and before the link; if they changed
 * meanwhile (a caller reused its buffer) nothing is published and the outcome is `"changed"`.
 * With `files`, those direct calls are made instead of the `NodeFiles` in context.
 *
 * @example
 * ```ts
 * const outcome = yield* createNoClobber(blobPath, bytes, { createDirectory: true, noFollowDirectory: true })
 * ```
 */
export const createNoClobber = (
  finalPath: string,
  bytes: Uint8Array,
  options?: PublishOptions & {
    readonly expectedSha256?: string
    /** The direct calls to make (the blob store passes its own); else `NodeFiles` in context. */
    readonly files?: NodeFilesShape
  }
): Effect.Effect<PublishOutcome | "changed", PlatformError> => {
  const body = async (files: NodeFilesShape): Promise<PublishOutcome | "changed"> => {
    const directory = dirname(finalPath)
    const folder = await openTargetDirectory(files, directory, options)
    try {
      const tempPath = await createTempAsync(files, directory, bytes)
      try {
        if (options?.expectedSha256 !== undefined && createHash("sha256").update(bytes).digest("hex") !== options.expectedSha256) {
          await unlinkQuietly(files, tempPath)
          return "changed" as const
        }
        return await placeAndSync(files, folder, tempPath, finalPath, "no-clobber")
      } catch (error) {
        await unlinkQuietly(files, tempPath)
        throw error
      }
    } finally {
      // The folder's fsync (the last durable step) is done or failed by now: its handle is closed
      // without waiting, so the write completes one thread-pool round trip sooner.
      void closeQuietly(folder)
    }
  }
  return options?.files !== undefined ? runWith(options.files, finalPath, body) : run(finalPath, body)
}

/** fsyncs a folder so that names created or removed in it are durable. */
export const syncDirectory = (directory: string): Effect.Effect<void, PlatformError> =>
  onBackend(directory, (files) => syncDirectoryAsync(files, directory), (fs) => syncDirectoryFs(fs, directory))

/** Removes `path`; a missing file is not an error. Returns whether it was there. */
export const removeFile = (path: string): Effect.Effect<boolean, PlatformError> =>
  onBackend(
    path,
    (files) =>
      files.unlink(path).then(() => true, (error: unknown) => {
        if (codeOf(error) === "ENOENT") return false
        throw new StepFailure("remove", path, error)
      }),
    (fs) => fs.remove(path).pipe(Effect.as(true), Effect.catchIf(isNotFound, () => Effect.succeed(false)))
  )

/** What `sweepTempFiles` removed: the paths and their bytes. */
export interface SweptTemps {
  readonly removed: ReadonlyArray<string>
  readonly bytes: number
}

/**
 * The one temp-file sweep rule (blobs and archive days alike): removes the temp files (`.tmp.*`)
 * directly in `directory` whose mtime is before `cutoffMs` (epoch ms). Younger ones may belong to
 * a write in progress, in this process or another. Symbolic links named like temp files are
 * removed as links (their targets are never touched). A missing folder holds nothing.
 *
 * @example
 * ```ts
 * yield* sweepTempFiles(dir, Date.now() - Duration.toMillis(DEFAULT_TEMP_MAX_AGE))
 * ```
 */
export const sweepTempFiles = (directory: string, cutoffMs: number): Effect.Effect<SweptTemps, PlatformError> =>
  run(directory, async (files) => {
    const entries = await step("readDirectory", directory, () => files.readdir(directory, { withFileTypes: true })).catch(
      (error: unknown) => {
        if (codeOf(error) === "ENOENT") return []
        throw error
      }
    )
    const removed: Array<string> = []
    let bytes = 0
    for (const entry of entries.filter((e) => isTempName(e.name)).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const path = join(directory, entry.name)
      const info = await files.lstat(path).catch((error: unknown) => {
        if (codeOf(error) === "ENOENT") return undefined
        throw new StepFailure("stat", path, error)
      })
      if (info === undefined || info.isDirectory() || info.mtimeMs > cutoffMs) continue
      const gone = await files.unlink(path).then(() => true, (error: unknown) => {
        if (codeOf(error) === "ENOENT") return false
        throw new StepFailure("remove", path, error)
      })
      if (!gone) continue
      removed.push(path)
      bytes += info.size
    }
    return { removed, bytes }
  })
