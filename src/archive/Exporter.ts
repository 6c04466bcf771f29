/**
 * The day exporter: the bytes of a day file, made of the day's SQLite rows (read page by page by
 * id, up to the id fixed when the run planned the day) merged with the lines of the day's
 * existing files, deduplicated by id and in id order. Memory stays constant: one page of rows
 * and one chunk of each existing file at a time.
 *
 * @since 0.6.0
 */
import { Effect, Option, Pull, Stream } from "effect"
import type { PlannedDay } from "../../schema/Archive.ts"
import { encodeArchiveLine } from "../../schema/Archive.ts"
import { ArchiveError, type CorruptRow, type DatabaseError } from "../../schema/Errors.ts"
import { type ArchiveRepositoryShape, PAGE_BYTES_BUDGET } from "../seam/ArchiveRepository.ts"
import { gzip, readDayLines } from "./DayFile.ts"
import type { DayFileStore } from "./DayFileStore.ts"

/** The ids of one page of SQLite rows: `count` rows of the day with `first <= id <= last`. */
export interface IdRange {
  readonly first: number
  readonly last: number
  readonly count: number
}

/** What has been exported so far; final once the byte stream has ended. */
export interface ExportStats {
  /** Lines in the file (SQLite rows and previously archived lines). */
  lines: number
  /** Rows read from SQLite (the ones the delete step may remove). */
  sqliteRows: number
  firstSqliteId: number | null
  lastSqliteId: number | null
  minId: number | null
  maxId: number | null
  /** The pages of SQLite rows, in id order: the bounded steps in which they are checked and deleted. */
  readonly ranges: Array<IdRange>
}

/**
 * An existing file of the day to merge in. Its lines are decoded here; a recorded file was
 * checked against its manifest row (or the pending publish of an interrupted run) before.
 */
export interface ExistingFile {
  readonly name: string
}

export interface ExportInput {
  readonly rows: Pick<ArchiveRepositoryShape, "page" | "pageBytes">
  readonly store: DayFileStore
  readonly day: PlannedDay
  readonly existing: ReadonlyArray<ExistingFile>
  readonly compress: boolean
  /** The final file's path, for errors. */
  readonly file: string
  /** Called after every batch of lines, with the stats so far. */
  readonly onBatch: (stats: ExportStats) => Effect.Effect<void>
}

export type ExportError = ArchiveError | CorruptRow | DatabaseError

/** Rows per SQLite page and lines per written chunk. */
export const PAGE_SIZE = 1024
/** Rows per page when SQLite renders the page as bytes (about 0.5 MiB of lines; a page is also the unit the delete checks). */
export const BYTES_PAGE_SIZE = 2048

/**
 * Lines as UTF-8 bytes, each followed by a newline, written straight into one off-heap buffer:
 * joining them into one large string first would leave megabytes of large-object garbage per
 * page on the V8 heap, which it collects late (peak RSS then grows with the day's size).
 */
const encodeLines = (lines: ReadonlyArray<string>): Uint8Array => {
  let size = 0
  for (const line of lines) size += Buffer.byteLength(line, "utf8") + 1
  const buffer = Buffer.allocUnsafe(size)
  let offset = 0
  for (const line of lines) {
    offset += buffer.write(line, offset, "utf8")
    buffer[offset++] = 0x0a
  }
  return buffer
}

/** The day file's bytes and the live stats of what they hold. */
export const exportDay = (input: ExportInput): {
  readonly stats: ExportStats
  readonly bytes: Stream.Stream<Uint8Array, ExportError>
} => {
  const stats: ExportStats = { lines: 0, sqliteRows: 0, firstSqliteId: null, lastSqliteId: null, minId: null, maxId: null, ranges: [] }
  const text = input.existing.length === 0 ? sqliteOnly(input, stats) : merged(input, stats)
  return { stats, bytes: input.compress ? gzip<ExportError>(input.file)(text) : text }
}

const noteSqlite = (stats: ExportStats, count: number, first: number, last: number) => {
  stats.sqliteRows += count
  stats.firstSqliteId ??= first
  stats.lastSqliteId = last
  stats.ranges.push({ first, last, count })
}

const noteLines = (stats: ExportStats, count: number, first: number, last: number) => {
  stats.lines += count
  stats.minId ??= first
  stats.maxId = last
}

/** The common case: no file for the day yet, so the pages (rendered by SQLite) are the file. */
const sqliteOnly = (input: ExportInput, stats: ExportStats): Stream.Stream<Uint8Array, ExportError> =>
  Stream.paginate(input.day.minId - 1, (afterId: number) =>
    Effect.gen(function*() {
      const page = yield* input.rows.pageBytes(input.day.day, afterId, input.day.maxId, BYTES_PAGE_SIZE)
      if (Option.isNone(page)) return [[], Option.none<number>()] as const
      const { count, firstId, lastId, bytes } = page.value
      noteSqlite(stats, count, firstId, lastId)
      noteLines(stats, count, firstId, lastId)
      yield* input.onBatch(stats)
      return [[bytes], Option.some(lastId)] as const
    }))

interface Item {
  readonly id: number
  readonly text: string
  /** 1-based line in an existing file; 0 for a SQLite row. */
  readonly line: number
}

interface Cursor {
  items: ReadonlyArray<Item>
  index: number
  done: boolean
  lastId: number
  /** The next non-empty batch, or undefined at the end. */
  readonly next: Effect.Effect<ReadonlyArray<Item> | undefined, ExportError>
  /** The existing file this cursor reads, or undefined for SQLite. */
  readonly file: string | undefined
}

/** A row dated into a day that already has a file: k-way merge by id, SQLite winning ties. */
const merged = (input: ExportInput, stats: ExportStats): Stream.Stream<Uint8Array, ExportError> =>
  Stream.unwrap(Effect.gen(function*() {
    let afterId = input.day.minId - 1
    const sqlite: Cursor = {
      items: [],
      index: 0,
      done: false,
      lastId: 0,
      file: undefined,
      next: Effect.map(
        Effect.suspend(() => input.rows.page(input.day.day, afterId, input.day.maxId, PAGE_SIZE)),
        (page) => {
          const first = page.ids[0]
          const last = page.ids[page.ids.length - 1]
          if (first === undefined || last === undefined) return undefined
          afterId = last
          noteSqlite(stats, page.ids.length, first, last)
          return page.ids.map((id, i) => ({ id, text: page.lines[i] ?? "", line: 0 }))
        }
      )
    }
    const cursors: Array<Cursor> = [sqlite]
    for (const existing of input.existing) {
      const pull = yield* Stream.toPull(readDayLines(input.store, existing.name))
      cursors.push({
        items: [],
        index: 0,
        done: false,
        lastId: 0,
        file: input.store.describe(existing.name),
        next: pull.pipe(
          Effect.map((lines): ReadonlyArray<Item> | undefined =>
            lines.map(({ entry, line }) => ({ id: entry.id, text: encodeArchiveLine(entry), line }))
          ),
          Pull.catchDone(() => Effect.succeed(undefined))
        )
      })
    }

    const refill = Effect.fnUntraced(function*(cursor: Cursor) {
      while (!cursor.done && cursor.index >= cursor.items.length) {
        const items = yield* cursor.next
        if (items === undefined) cursor.done = true
        else {
          cursor.items = items
          cursor.index = 0
        }
      }
    })

    return Stream.paginate(undefined, () =>
      Effect.gen(function*() {
        const out: Array<string> = []
        let first = -1
        let last = -1
        let size = 0
        // A chunk holds at most PAGE_SIZE lines and about a page's budget of text (large lines).
        while (out.length < PAGE_SIZE && size < PAGE_BYTES_BUDGET) {
          let best: Item | undefined
          for (const cursor of cursors) {
            yield* refill(cursor)
            const head = cursor.done ? undefined : cursor.items[cursor.index]
            if (head !== undefined && (best === undefined || head.id < best.id)) best = head
          }
          if (best === undefined) break
          const id = best.id
          for (const cursor of cursors) {
            const head = cursor.done ? undefined : cursor.items[cursor.index]
            if (head === undefined || head.id !== id) continue
            if (cursor.file !== undefined && head.id <= cursor.lastId) {
              return yield* new ArchiveError({
                file: cursor.file,
                line: head.line,
                reason: "corrupt",
                detail: `ids are not in ascending order (${head.id} after ${cursor.lastId}); the file cannot be merged`
              })
            }
            cursor.lastId = head.id
            cursor.index++
          }
          // Ties go to SQLite (cursor 0 is looked at first): the row as it is in the database.
          out.push(best.text)
          size += best.text.length
          if (first === -1) first = id
          last = id
        }
        if (out.length === 0) return [[], Option.none<undefined>()] as const
        noteLines(stats, out.length, first, last)
        yield* input.onBatch(stats)
        return [[encodeLines(out)], Option.some(undefined)] as const
      }))
  }))
