/**
 * How much text SQLite can store in one row: SQLite refuses any string, BLOB or row (the record
 * of all its columns) over `SQLITE_MAX_LENGTH`, 1,000,000,000 bytes by default, with
 * `SQLITE_TOOBIG` (code 18). A row over it must be refused when its input is decoded, before it
 * joins a group-commit batch, where SQLite's refusal would fail every row of the batch.
 *
 * @since 0.8.0
 */
import { Buffer } from "node:buffer"

/** SQLite's limit on one value and on one row, in bytes (`SQLITE_MAX_LENGTH`, its default). */
export const SQLITE_MAX_LENGTH = 1_000_000_000

/**
 * The most UTF-8 bytes of text one log row may hold (source, type, refId and payload together):
 * SQLite's limit less 1,000 bytes for the row's record header and its integer columns.
 */
export const MAX_ROW_TEXT_BYTES = SQLITE_MAX_LENGTH - 1_000

/**
 * The UTF-8 size of `texts` together when it is over `limit`, else `undefined`. Texts whose
 * UTF-16 length times 3 (the most bytes a code unit can take in UTF-8) fits the limit are not
 * measured at all; longer ones are measured in place (`Buffer.byteLength`, no encoded copy).
 */
export const utf8SizeOver = (texts: ReadonlyArray<string | null | undefined>, limit: number): number | undefined => {
  let units = 0
  for (const text of texts) units += text?.length ?? 0
  if (units * 3 <= limit) return undefined
  let bytes = 0
  for (const text of texts) bytes += text === null || text === undefined ? 0 : Buffer.byteLength(text, "utf8")
  return bytes > limit ? bytes : undefined
}

const grouped = (n: number): string => n.toLocaleString("en-US")

/** Why text of `bytes` UTF-8 bytes cannot be stored, naming the limit. */
export const tooBigReason = (bytes: number, what: string): string =>
  `${what} is ${grouped(bytes)} bytes as UTF-8, over the ${grouped(MAX_ROW_TEXT_BYTES)} a row may hold ` +
  `(SQLite stores at most ${grouped(SQLITE_MAX_LENGTH)} bytes in one value or row, SQLITE_MAX_LENGTH)`
