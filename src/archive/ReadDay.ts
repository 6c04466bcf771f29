/**
 * Reading an archived day: the rows of one day from its file, opened consistently with its
 * manifest row (`DayReader.ts`).
 *
 * @since 0.8.0
 */
import { Effect, Stream } from "effect"
import type { ArchiveError, CorruptRow, DatabaseError, InvalidUtcDay } from "../../schema/Errors.ts"
import type { LogEntry } from "../../schema/LogEntry.ts"
import { parseUtcDay } from "../domain/UtcDay.ts"
import type { DayReader } from "./DayReader.ts"

/** The decoded rows of the day `input` names, in file order. */
export const readDay = (
  reader: DayReader,
  input: string
): Stream.Stream<LogEntry, InvalidUtcDay | ArchiveError | CorruptRow | DatabaseError> =>
  Stream.unwrap(Effect.gen(function*() {
    const day = yield* parseUtcDay(input)
    return reader.lines(yield* reader.openDay(day))
  })).pipe(Stream.map((line) => line.entry))
