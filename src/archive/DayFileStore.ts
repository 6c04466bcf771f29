/**
 * Where day files live: a small capability with two backends, so one archiving algorithm runs on
 * the live file system (`<archiveDir>/YYYY-MM-DD.jsonl[.gz]`, published through `DurableFile`)
 * and in memory (a `Map`, for tests and `NerveStoreMemory`).
 *
 * A file appears under its final name only through `writeTemp` + `publish`, so a reader never
 * sees a partial file.
 *
 * @since 0.6.0
 */
import { Cause, Context, Effect, FileSystem, Layer, Option, Path, type Scope, Stream } from "effect"
import { isPlatformError, type PlatformError } from "effect/PlatformError"
import { createHash, randomBytes } from "node:crypto"
import { ArchiveError } from "../../schema/Errors.ts"
import * as DurableFile from "../fs/DurableFile.ts"
import { classify, isNotFound } from "../fs/PlatformErrors.ts"
import { isUtcDay, type UtcDay } from "../domain/UtcDay.ts"

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

/** Content written under a temp name, complete and durable, not yet visible as a day file. */
export interface TempFile {
  readonly ref: string
  readonly sha256: string
  readonly bytes: number
}

/** The storage capability the archive algorithm runs against. */
export interface DayFileStore {
  /** The path shown for `name` in results and errors. */
  readonly describe: (name: string) => string
  /** Every published day file (temp files excluded). */
  readonly list: Effect.Effect<ReadonlyArray<StoredFile>, ArchiveError>
  readonly stat: (name: string) => Effect.Effect<Option.Option<StoredFile>, ArchiveError>
  /** The raw bytes of a published file. */
  readonly read: (name: string) => Stream.Stream<Uint8Array, ArchiveError>
  /**
   * Opens a published file for the scope (none if it is not there). Its `content` can be read
   * more than once, always from the start of the file that was opened.
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
   * Removes temp files last modified more than `maxAgeMs` ago by the real wall clock (file
   * modification times are real time, whatever the caller's `now` or a `TestClock` says):
   * leftovers of a run that was killed between writing and publishing. Returns how many it removed.
   */
  readonly sweepTemps: (maxAgeMs: number) => Effect.Effect<number, ArchiveError>
}

const CHUNK_SIZE = 256 * 1024

/** The name a quarantined copy of `name` gets: unique, and starting with the day file's name. */
const quarantineName = (name: string): string => `${name}.${Date.now()}.${randomBytes(4).toString("hex")}`

/** Plain and gzip file names of a day. */
export const dayFileName = (day: string, compressed: boolean): string => `${day}.jsonl${compressed ? ".gz" : ""}`

const FILE_NAME = /^(\d{4}-\d{2}-\d{2})\.jsonl(\.gz)?$/

/** The day and compression of a day file name, or none for any other name. */
export const parseDayFileName = (name: string): Option.Option<{ readonly day: UtcDay; readonly compressed: boolean }> => {
  const match = FILE_NAME.exec(name)
  const day = match?.[1]
  return isUtcDay(day) ? Option.some({ day, compressed: match?.[2] !== undefined }) : Option.none()
}


/** Day files in `archiveDir` on the file system; the folder is created on the first write. */
export const makeFileSystemStore = (archiveDir: string): Effect.Effect<DayFileStore, never, FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const services = yield* Effect.context<FileSystem.FileSystem | Path.Path>()
    const describe = (name: string) => path.join(archiveDir, name)
    const fail = (file: string) => (error: PlatformError) => {
      const { reason, detail } = classify(error)
      return new ArchiveError({ file, reason, detail, cause: error })
    }

    const stat = (name: string) =>
      fs.stat(describe(name)).pipe(
        Effect.map((info) => Option.some<StoredFile>({ name, bytes: Number(info.size) })),
        Effect.catchIf(isNotFound, () => Effect.succeed(Option.none<StoredFile>())),
        Effect.mapError(fail(describe(name)))
      )

    const store: DayFileStore = {
      describe,
      list: Effect.gen(function*() {
        const names = yield* fs.readDirectory(archiveDir).pipe(
          Effect.catchIf(isNotFound, () => Effect.succeed<Array<string>>([])),
          Effect.mapError(fail(archiveDir))
        )
        const files: Array<StoredFile> = []
        for (const name of names.filter((n) => Option.isSome(parseDayFileName(n))).sort()) {
          const info = yield* stat(name)
          if (Option.isSome(info)) files.push(info.value)
        }
        return files
      }),
      stat,
      read: (name) => fs.stream(describe(name), { chunkSize: CHUNK_SIZE }).pipe(Stream.mapError(fail(describe(name)))),
      open: (name) =>
        Effect.gen(function*() {
          const file = describe(name)
          const handle = yield* fs.open(file, { flag: "r" }).pipe(
            Effect.map(Option.some),
            Effect.catchIf(isNotFound, () => Effect.succeedNone),
            Effect.mapError(fail(file))
          )
          if (Option.isNone(handle)) return Option.none()
          const info = yield* handle.value.stat.pipe(Effect.mapError(fail(file)))
          // Each run of the stream reads the opened file from its start (explicit positions).
          const content = Stream.suspend(() => {
            let position = 0
            return Stream.fromPull(Effect.succeed(
              Effect.suspend(() => {
                const buffer = Buffer.allocUnsafe(CHUNK_SIZE)
                return handle.value.read(buffer, { position: BigInt(position) }).pipe(
                  Effect.mapError(fail(file)),
                  Effect.flatMap((read) => {
                    if (read === 0) return Cause.done()
                    position += read
                    return Effect.succeed([buffer.subarray(0, read)] as const)
                  })
                )
              })
            ))
          })
          return Option.some<OpenedFile>({ name, bytes: Number(info.size), content })
        }),
      quarantine: (name) =>
        Effect.gen(function*() {
          const folder = path.join(archiveDir, QUARANTINE_FOLDER)
          const target = path.join(folder, quarantineName(name))
          yield* DurableFile.makeDirectoryDurable(folder)
          yield* fs.rename(describe(name), target)
          yield* DurableFile.syncDirectory(archiveDir)
          yield* DurableFile.syncDirectory(folder)
          return target
        }).pipe(Effect.mapError(fail(describe(name))), Effect.provideContext(services)),
      quarantined: fs.readDirectory(path.join(archiveDir, QUARANTINE_FOLDER)).pipe(
        Effect.catchIf(isNotFound, () => Effect.succeed<Array<string>>([])),
        Effect.mapError(fail(path.join(archiveDir, QUARANTINE_FOLDER)))
      ),
      writeTemp: (content) =>
        Effect.gen(function*() {
          yield* fs.makeDirectory(archiveDir, { recursive: true, mode: DurableFile.DIRECTORY_MODE }).pipe(Effect.mapError(fail(archiveDir)))
          const temp = yield* DurableFile.writeTemp(archiveDir, content).pipe(
            Effect.mapError((error) => isPlatformError(error) ? fail(archiveDir)(error) : error)
          )
          return { ref: temp.path, sha256: temp.sha256, bytes: temp.size }
        }).pipe(Effect.provideContext(services)),
      publish: (temp, name) =>
        DurableFile.publish(temp.ref, describe(name), "replace").pipe(
          Effect.asVoid,
          Effect.mapError(fail(describe(name))),
          Effect.provideContext(services)
        ),
      discard: (temp) => Effect.ignore(fs.remove(temp.ref)),
      remove: (name) =>
        fs.remove(describe(name)).pipe(
          Effect.catchIf(isNotFound, () => Effect.void),
          Effect.andThen(DurableFile.syncDirectory(archiveDir)),
          Effect.mapError(fail(describe(name))),
          Effect.provideContext(services)
        ),
      sweepTemps: (maxAgeMs) =>
        Effect.gen(function*() {
          // The wall clock, not the Effect Clock: it is compared with the file system's mtimes.
          const cutoffMs = Date.now() - maxAgeMs
          const names = yield* fs.readDirectory(archiveDir).pipe(
            Effect.catchIf(isNotFound, () => Effect.succeed<Array<string>>([]))
          )
          let removed = 0
          for (const name of names.filter(DurableFile.isTempName)) {
            const file = describe(name)
            const info = yield* fs.stat(file).pipe(Effect.map(Option.some), Effect.catchIf(isNotFound, () => Effect.succeedNone))
            const modified = Option.flatMap(info, (i) => i.mtime)
            if (Option.isNone(modified) || modified.value.getTime() >= cutoffMs) continue
            yield* fs.remove(file).pipe(Effect.catchIf(isNotFound, () => Effect.void))
            removed++
          }
          return removed
        }).pipe(Effect.mapError(fail(archiveDir)))
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
        .filter(([name]) => Option.isSome(parseDayFileName(name)))
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
        const hash = createHash("sha256")
        const chunks: Array<Uint8Array> = []
        yield* Stream.runForEach(content, (chunk) =>
          Effect.sync(() => {
            hash.update(chunk)
            chunks.push(chunk)
          }))
        const bytes = Buffer.concat(chunks)
        const ref = `${root}/${DurableFile.TEMP_PREFIX}${nextTemp++}`
        temps.set(ref, bytes)
        return { ref, sha256: hash.digest("hex"), bytes: bytes.byteLength }
      }),
    publish: (temp, name) =>
      Effect.suspend(() => {
        const bytes = temps.get(temp.ref)
        if (bytes === undefined) return Effect.fail(new ArchiveError({ file: describe(name), reason: "notFound", detail: "temp file is gone" }))
        temps.delete(temp.ref)
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
    discard: (temp) => Effect.sync(() => void temps.delete(temp.ref)),
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
  static readonly layerFileSystem = (archiveDir: string): Layer.Layer<DayFiles, never, FileSystem.FileSystem | Path.Path> =>
    Layer.effect(DayFiles, makeFileSystemStore(archiveDir))
  /** Day files in memory, fresh for each build of the layer. */
  static readonly layerMemory: Layer.Layer<DayFiles> = Layer.effect(DayFiles, Effect.sync(() => makeMemoryStore()))
}
