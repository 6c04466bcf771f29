/**
 * Where day files live: a small capability with two backends, so one archiving algorithm runs on
 * the live file system (`<archiveDir>/YYYY-MM-DD.jsonl[.gz]`) and in memory (a `Map`, for tests
 * and `NerveStoreMemory`).
 *
 * On disk every step is a step of `src/fs/` on the direct `node:fs` calls (`NodeFiles`), as for
 * blobs: a file appears under its final name only through `writeTemp` + `publish`, so a reader
 * never sees a partial file; stale temp files go by the one sweep rule (`sweepTempFiles`); a day
 * file is opened like every stored file (`openForRead`: no-follow, non-blocking, regular files
 * only), so a FIFO, a device or a link planted under a day file's name is an `ArchiveError`,
 * never a hang and never followed. (The archive folder itself is configured by the user and may
 * be a link.)
 *
 * @since 0.6.0
 */
import { Cause, Context, Effect, Layer, Option, Path, type Scope, Stream } from "effect"
import { isPlatformError, type PlatformError } from "effect/PlatformError"
import { randomBytes } from "node:crypto"
import { ArchiveError } from "../../schema/Errors.ts"
import * as DurableFile from "../fs/DurableFile.ts"
import { NodeFiles, type NodeFileHandle, type NodeFilesShape } from "../fs/NodeFiles.ts"
import { openForRead, refusedDetail } from "../fs/OpenRead.ts"
import { classify } from "../fs/PlatformErrors.ts"
import { hashStream } from "../fs/Sha256.ts"
import { closeQuietly, codeOf, currentFiles, DIRECTORY_MODE, errnoError, runWith, step, StepFailure, toPlatformError } from "../fs/Step.ts"
import { isDayFileName } from "../domain/DayFileName.ts"

export { dayFileName, parseDayFileName } from "../domain/DayFileName.ts"

/** A published day file. */
export interface StoredFile {
  readonly name: string
  readonly bytes: number
}

/**
 * A day file opened for reading: the content is the one the name held when it was opened, even if
 * the name is given to another file meanwhile.
 */
export interface OpenedFile {
  readonly name: string
  readonly bytes: number
  readonly content: Stream.Stream<Uint8Array, ArchiveError>
}

/** The folder (inside the archive folder) where files that failed their check are kept. */
export const QUARANTINE_FOLDER = "quarantine"

/**
 * Content written under a temp name, complete and durable, not yet visible as a day file: the one
 * `TempFile` of `src/fs/` (in memory, `path` is a key of the store).
 */
export interface TempFile extends DurableFile.TempFile {
  /** @deprecated The same as `size`; kept until every caller reads `size`. */
  readonly bytes: number
}

/** The storage capability the archive algorithm runs against. */
export interface DayFileStore {
  /** The path shown for `name` in results and errors. */
  readonly describe: (name: string) => string
  /** Every published day file (temp files excluded). */
  readonly list: Effect.Effect<ReadonlyArray<StoredFile>, ArchiveError>
  /** The size of a published file (a link is not followed: its own size). */
  readonly stat: (name: string) => Effect.Effect<Option.Option<StoredFile>, ArchiveError>
  /** The raw bytes of a published file (opened as `open` does). */
  readonly read: (name: string) => Stream.Stream<Uint8Array, ArchiveError>
  /**
   * Opens a published file for the scope (none if it is not there). Its `content` can be read
   * more than once, always from the start of the file that was opened. A name that is not a
   * regular file (a FIFO, a device, a link) fails with `ArchiveError`, unread.
   */
  readonly open: (name: string) => Effect.Effect<Option.Option<OpenedFile>, ArchiveError, Scope.Scope>
  /**
   * Moves a published file into the `quarantine/` folder (kept for inspection, never deleted) and
   * returns the path it now has.
   */
  readonly quarantine: (name: string) => Effect.Effect<string, ArchiveError>
  /** The names of the files in `quarantine/` (each starts with the day file's name). */
  readonly quarantined: Effect.Effect<ReadonlyArray<string>, ArchiveError>
  /** Writes `content` to a new durable temp file, hashing it (sha256) on the way. */
  readonly writeTemp: <E>(content: Stream.Stream<Uint8Array, E>) => Effect.Effect<TempFile, E | ArchiveError>
  /** Gives a temp file its final `name`, replacing what was there, durably. */
  readonly publish: (temp: TempFile, name: string) => Effect.Effect<void, ArchiveError>
  /** Drops a temp file that will not be published. */
  readonly discard: (temp: TempFile) => Effect.Effect<void>
  /** Removes a published file (durably). A missing file is not an error. */
  readonly remove: (name: string) => Effect.Effect<void, ArchiveError>
  /**
   * Removes temp files last modified `maxAgeMs` or more ago by the real wall clock (file
   * modification times are real time, whatever the caller's `now` or a `TestClock` says):
   * leftovers of a run that was killed between writing and publishing. The one sweep rule of
   * `src/fs/Sweep.ts`. Returns how many it removed.
   */
  readonly sweepTemps: (maxAgeMs: number) => Effect.Effect<number, ArchiveError>
}

const CHUNK_SIZE = 256 * 1024

/** The name a quarantined copy of `name` gets: unique, and starting with the day file's name. */
const quarantineName = (name: string): string => `${name}.${Date.now()}.${randomBytes(4).toString("hex")}`

/** A temp file of `src/fs/` as the store hands it out. */
const dayTemp = (temp: DurableFile.TempFile): TempFile => ({ ...temp, bytes: temp.size })

/** The entries' names of `directory`; a missing folder has none. */
const namesIn = async (files: NodeFilesShape, directory: string): Promise<ReadonlyArray<string>> => {
  try {
    return (await step("readDirectory", directory, () => files.readdir(directory, { withFileTypes: true }))).map((e) => e.name)
  } catch (error) {
    if (codeOf(error) === "ENOENT") return []
    throw error
  }
}

/** The content of an opened day file: each run reads it from its start (explicit positions). */
const contentOf = (handle: NodeFileHandle, file: string, fail: (error: unknown) => ArchiveError): Stream.Stream<Uint8Array, ArchiveError> =>
  Stream.suspend(() => {
    let position = 0
    return Stream.fromPull(Effect.succeed(
      Effect.suspend(() => {
        const buffer = Buffer.allocUnsafe(CHUNK_SIZE)
        return Effect.tryPromise({
          try: () => step("read", file, () => handle.read(buffer, 0, CHUNK_SIZE, position)),
          catch: fail
        }).pipe(Effect.flatMap(({ bytesRead }) => {
          if (bytesRead === 0) return Cause.done()
          position += bytesRead
          return Effect.succeed([buffer.subarray(0, bytesRead)] as const)
        }))
      })
    ))
  })

/** Day files in `archiveDir` on the file system; the folder is created on the first write. */
export const makeFileSystemStore = (archiveDir: string): Effect.Effect<DayFileStore, never, Path.Path> =>
  Effect.gen(function*() {
    const path = yield* Path.Path
    const files = yield* currentFiles
    const describe = (name: string) => path.join(archiveDir, name)
    const quarantineDir = path.join(archiveDir, QUARANTINE_FOLDER)
    const failPlatform = (file: string) => (error: PlatformError) => {
      const { reason, detail } = classify(error)
      return new ArchiveError({ file, reason, detail, cause: error })
    }
    /** A rejection of a step (labelled or not) as the `ArchiveError` of `file`. */
    const fail = (file: string) => (error: unknown): ArchiveError => failPlatform(file)(toPlatformError(file)(error))
    /** Runs a step of `src/fs/` on this store's calls, its failure as the `ArchiveError` of `file`. */
    const onFiles = <A>(file: string, effect: Effect.Effect<A, PlatformError>): Effect.Effect<A, ArchiveError> =>
      effect.pipe(Effect.provideService(NodeFiles, files), Effect.mapError(failPlatform(file)))
    const call = <A>(file: string, body: (files: NodeFilesShape) => Promise<A>): Effect.Effect<A, ArchiveError> =>
      runWith(files, file, body).pipe(Effect.mapError(failPlatform(file)))

    const stat = (name: string) =>
      call(describe(name), async (files) => {
        const file = describe(name)
        try {
          const info = await files.lstat(file)
          return Option.some<StoredFile>({ name, bytes: info.size })
        } catch (error) {
          if (codeOf(error) === "ENOENT") return Option.none<StoredFile>()
          throw new StepFailure("stat", file, error)
        }
      })

    const open = (name: string): Effect.Effect<Option.Option<OpenedFile>, ArchiveError, Scope.Scope> => {
      const file = describe(name)
      const acquire = call(file, (files) => openForRead(files, file))
      return Effect.acquireRelease(acquire, (opened) => opened._tag === "Opened" ? Effect.promise(() => closeQuietly(opened.handle)) : Effect.void).pipe(
        Effect.flatMap((opened) => {
          switch (opened._tag) {
            case "Missing":
              return Effect.succeedNone
            case "Opened":
              return Effect.succeed(Option.some<OpenedFile>({ name, bytes: opened.size, content: contentOf(opened.handle, file, fail(file)) }))
            default:
              return Effect.fail(new ArchiveError({ file, reason: "other", detail: refusedDetail(opened) }))
          }
        })
      )
    }

    const store: DayFileStore = {
      describe,
      list: Effect.gen(function*() {
        const names = yield* call(archiveDir, (files) => namesIn(files, archiveDir))
        const found: Array<StoredFile> = []
        for (const name of names.filter(isDayFileName).sort()) {
          const info = yield* stat(name)
          if (Option.isSome(info)) found.push(info.value)
        }
        return found
      }),
      stat,
      read: (name) =>
        Stream.unwrap(Effect.map(open(name), (opened) =>
          Option.isSome(opened)
            ? opened.value.content
            : Stream.fail(new ArchiveError({ file: describe(name), reason: "notFound", detail: "no such file" })))),
      open,
      quarantine: (name) => {
        const target = path.join(quarantineDir, quarantineName(name))
        return onFiles(describe(name), DurableFile.makeDirectoryDurable(quarantineDir)).pipe(
          // quarantine/ must be a real folder: a link there would carry the file out of the archive.
          Effect.andThen(call(quarantineDir, async (files) => {
            if ((await files.lstat(quarantineDir)).isSymbolicLink()) {
              throw new StepFailure("stat", quarantineDir, errnoError("ELOOP", `a symbolic link, not followed, '${quarantineDir}'`))
            }
          })),
          Effect.andThen(call(describe(name), (files) => step("rename", target, () => files.rename(describe(name), target)))),
          Effect.andThen(onFiles(describe(name), Effect.andThen(DurableFile.syncDirectory(archiveDir), DurableFile.syncDirectory(quarantineDir)))),
          Effect.as(target)
        )
      },
      quarantined: call(quarantineDir, (files) => namesIn(files, quarantineDir)),
      writeTemp: (content) =>
        Effect.gen(function*() {
          yield* call(archiveDir, (files) => step("makeDirectory", archiveDir, () => files.mkdir(archiveDir, { recursive: true, mode: DIRECTORY_MODE })))
          const temp = yield* DurableFile.writeTemp(archiveDir, content).pipe(
            Effect.provideService(NodeFiles, files),
            Effect.mapError((error) => isPlatformError(error) ? failPlatform(archiveDir)(error) : error)
          )
          return dayTemp(temp)
        }),
      publish: (temp, name) => onFiles(describe(name), Effect.asVoid(DurableFile.publish(temp.path, describe(name), "replace"))),
      discard: (temp) => Effect.ignore(onFiles(temp.path, DurableFile.removeFile(temp.path))),
      remove: (name) =>
        onFiles(describe(name), Effect.andThen(DurableFile.removeFile(describe(name)), DurableFile.syncDirectory(archiveDir))),
      sweepTemps: (maxAgeMs) =>
        // The wall clock, not the Effect Clock: it is compared with the file system's mtimes.
        onFiles(archiveDir, Effect.suspend(() => DurableFile.sweepTempFiles(archiveDir, Date.now() - maxAgeMs))).pipe(
          Effect.map((swept) => swept.removed.length)
        )
    }
    return store
  })

/** Day files in a `Map`, for the in-memory stack. Same protocol, no durability to provide. */
export const makeMemoryStore = (root = "memory://archive/logs"): DayFileStore => {
  const files = new Map<string, Uint8Array>()
  const temps = new Map<string, Uint8Array>()
  const quarantine = new Map<string, Uint8Array>()
  let nextTemp = 0
  const describe = (name: string) => `${root}/${name}`
  const stat = (name: string) =>
    Effect.sync(() => {
      const bytes = files.get(name)
      return bytes === undefined ? Option.none<StoredFile>() : Option.some<StoredFile>({ name, bytes: bytes.byteLength })
    })
  return {
    describe,
    list: Effect.sync(() =>
      [...files.entries()]
        .filter(([name]) => isDayFileName(name))
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([name, bytes]) => ({ name, bytes: bytes.byteLength }))
    ),
    stat,
    read: (name) =>
      Stream.suspend(() => {
        const bytes = files.get(name)
        return bytes === undefined
          ? Stream.fail(new ArchiveError({ file: describe(name), reason: "notFound", detail: "no such file" }))
          : Stream.make(bytes)
      }),
    writeTemp: (content) =>
      Effect.gen(function*() {
        const chunks: Array<Uint8Array> = []
        const { sha256 } = yield* hashStream(Stream.map(content, (chunk) => {
          chunks.push(chunk)
          return chunk
        }))
        const bytes = Buffer.concat(chunks)
        const path = `${root}/${DurableFile.TEMP_PREFIX}${nextTemp++}`
        temps.set(path, bytes)
        return dayTemp({ path, sha256, size: bytes.byteLength })
      }),
    publish: (temp, name) =>
      Effect.suspend(() => {
        const bytes = temps.get(temp.path)
        if (bytes === undefined) return Effect.fail(new ArchiveError({ file: describe(name), reason: "notFound", detail: "temp file is gone" }))
        temps.delete(temp.path)
        files.set(name, bytes)
        return Effect.void
      }),
    open: (name) =>
      Effect.sync(() => {
        const bytes = files.get(name)
        return bytes === undefined
          ? Option.none()
          : Option.some<OpenedFile>({ name, bytes: bytes.byteLength, content: Stream.make(bytes) })
      }),
    quarantine: (name) =>
      Effect.suspend(() => {
        const bytes = files.get(name)
        if (bytes === undefined) return Effect.fail(new ArchiveError({ file: describe(name), reason: "notFound", detail: "no such file" }))
        const target = quarantineName(name)
        files.delete(name)
        quarantine.set(target, bytes)
        return Effect.succeed(`${root}/${QUARANTINE_FOLDER}/${target}`)
      }),
    quarantined: Effect.sync(() => [...quarantine.keys()]),
    discard: (temp) => Effect.sync(() => void temps.delete(temp.path)),
    remove: (name) => Effect.sync(() => void files.delete(name)),
    // A temp entry exists only while its run is alive; nothing outlives a process here.
    sweepTemps: () => Effect.succeed(0)
  }
}

/**
 * The day file store as a service, so that tests (and tools) can reach the same store the
 * archive uses, e.g. to plant a file written by another program.
 */
export class DayFiles extends Context.Service<DayFiles, DayFileStore>()("@uncaged/nerve-store/LogArchive/DayFiles") {
  /** Day files under `archiveDir` on the file system. */
  static readonly layerFileSystem = (archiveDir: string): Layer.Layer<DayFiles, never, Path.Path> =>
    Layer.effect(DayFiles, makeFileSystemStore(archiveDir))
  /** Day files in memory, fresh for each build of the layer. */
  static readonly layerMemory: Layer.Layer<DayFiles> = Layer.effect(DayFiles, Effect.sync(() => makeMemoryStore()))
}
