/**
 * LogArchive on any backend: the service built on the archive's storage seam
 * (`src/seam/ArchiveRepository.ts`) and a day file store. Each operation's work lives in a module
 * of its own: `Plan.ts`, `ArchiveRun.ts` / `ArchiveDay.ts` / `DeleteExported.ts`, `ReadDay.ts`,
 * `Restore.ts`, `ArchivedDays.ts`. The per-day publish protocol is described in
 * docs/ARCHITECTURE.md §Archive a day.
 *
 * @since 0.8.0
 */
import { Effect, FileSystem, Layer, Path, Semaphore, Stream } from "effect"
import { ArchiveOptions, type ArchivePlan, type ArchiveResult, type ArchivedDay, type RestoreResult } from "../../schema/Archive.ts"
import type { ArchiveError, CorruptRow, DatabaseError, InvalidInput, InvalidUtcDay } from "../../schema/Errors.ts"
import { ArchiveRepository, type ArchiveRepositoryShape } from "../seam/ArchiveRepository.ts"
import { type ArchiveProgressListener, LogArchive, type LogArchiveShape } from "../LogArchive.ts"
import { parseUtcDay } from "../domain/UtcDay.ts"
import { namedAs } from "../domain/PublicOperation.ts"
import { inputDecoder } from "../domain/Validate.ts"
import { archivedDays } from "./ArchivedDays.ts"
import { runArchive } from "./ArchiveRun.ts"
import { DayFiles, type DayFileStore } from "./DayFileStore.ts"
import { makeDayReader } from "./DayReader.ts"
import { planDays } from "./Plan.ts"
import { readDay as readDayRows } from "./ReadDay.ts"
import { makeRecordedFiles } from "./RecordedFiles.ts"
import { restoreDay } from "./Restore.ts"

/**
 * Temp files older than this (by the wall clock, as file times are) belong to a run that died;
 * younger ones may be a live run's, in this or another process.
 */
export const STALE_TEMP_AGE_MS = 60 * 60 * 1000

const decodeOptions = inputDecoder(ArchiveOptions, "options")

const noProgress: ArchiveProgressListener = () => Effect.void

/** Builds the service on a repository (whose storage is ready) and a day file store. */
export const make = Effect.fnUntraced(function*(repo: ArchiveRepositoryShape, store: DayFileStore): Effect.fn.Return<LogArchiveShape> {
  const reader = makeDayReader(store, repo)
  const context = { repo, store, reader, files: makeRecordedFiles(repo, store) }
  // `archive` and `restore` of one service take turns; other processes are held off by the
  // repository's archive lock around claim, publish and each delete step.
  const lock = yield* Semaphore.make(1)
  const exclusive = lock.withPermits(1)

  /** Removes stale temp files of killed runs (the one sweep rule, at layer build and at each run). */
  const sweepTemps: Effect.Effect<void> = store.sweepTemps(STALE_TEMP_AGE_MS).pipe(
    Effect.flatMap((removed) =>
      removed > 0 ? Effect.logInfo(`LogArchive: removed ${removed} stale temp file(s) of an interrupted run`) : Effect.void
    ),
    Effect.catch((error) => Effect.logWarning(`LogArchive: could not sweep stale temp files: ${error.message}`))
  )

  const plan = Effect.fn("LogArchive.plan")(function*(options: ArchiveOptions = {}): Effect.fn.Return<ArchivePlan, InvalidInput | DatabaseError> {
    return yield* planDays(repo, yield* decodeOptions(options))
  })

  const archive = Effect.fn("LogArchive.archive")(function*(
    options: ArchiveOptions = {},
    onProgress: ArchiveProgressListener = noProgress
  ): Effect.fn.Return<ArchiveResult, InvalidInput | ArchiveError | CorruptRow | DatabaseError> {
    const decoded = yield* decodeOptions(options)
    yield* sweepTemps
    return yield* runArchive(context, decoded, onProgress)
  }, exclusive, namedAs("LogArchive.archive"))

  const days = Effect.fn("LogArchive.days")(function*(): Effect.fn.Return<
    ReadonlyArray<ArchivedDay>,
    ArchiveError | CorruptRow | DatabaseError
  > {
    return yield* archivedDays(repo, store, reader)
  })

  const readDay = (input: string) => readDayRows(reader, input).pipe(Stream.withSpan("LogArchive.readDay", { attributes: { day: input } }))

  const restore = Effect.fn("LogArchive.restore")(function*(input: string): Effect.fn.Return<
    RestoreResult,
    InvalidUtcDay | ArchiveError | CorruptRow | DatabaseError
  > {
    const day = yield* parseUtcDay(input)
    yield* Effect.annotateCurrentSpan({ day })
    return yield* restoreDay(repo, store, reader, day)
  }, exclusive)

  yield* sweepTemps
  return { plan, archive, days, readDay, restore }
})

/** The archive on the `ArchiveRepository` (a backend) and the `DayFiles` store in context. */
export const layer: Layer.Layer<LogArchive, never, ArchiveRepository | DayFiles> = Layer.effect(
  LogArchive,
  Effect.gen(function*() {
    return LogArchive.of(yield* make(yield* ArchiveRepository, yield* DayFiles))
  })
)

/** Day files under `archiveDir` (e.g. `<dataDir>/archive/logs`), created on the first write. */
export const layerFileSystem = (
  archiveDir: string
): Layer.Layer<LogArchive, never, ArchiveRepository | FileSystem.FileSystem | Path.Path> =>
  layer.pipe(Layer.provide(DayFiles.layerFileSystem(archiveDir)))

/** Day files in memory, fresh for each build of the layer. */
export const layerMemory: Layer.Layer<LogArchive, never, ArchiveRepository> = layer.pipe(Layer.provide(DayFiles.layerMemory))
