/**
 * How the CLI shows data to people: aligned tables, human sizes, times and durations. Pure
 * functions of their input (the current time is passed in), so `--json` and tests stay exact.
 *
 * @since 0.6.0
 */
import { cell, cut, displayWidth, pad } from "./Text.ts"

/**
 * A column of {@link table}: its header, whether its cells line up on the right (numbers), and
 * whether it may be cut (with `…`) so the table fits the terminal.
 */
export interface Column {
  readonly header: string
  readonly align?: "left" | "right"
  readonly shrink?: boolean
}

/** How wide a table may be: `width` cells (undefined: no limit), and `full` (never cut). */
export interface Fit {
  readonly width?: number | undefined
  readonly full?: boolean | undefined
}

/** The narrowest a shrinkable column is cut to. */
const MIN_SHRUNK = 6

/**
 * The widths of the columns: each as wide as its widest cell; when the line is wider than
 * `width`, the shrinkable columns share what is left (the narrow ones keep their width).
 */
const columnWidths = (natural: ReadonlyArray<number>, columns: ReadonlyArray<Column>, fit: Fit): ReadonlyArray<number> => {
  const total = natural.reduce((sum, w) => sum + w, 0) + 2 * Math.max(0, natural.length - 1)
  if (fit.full === true || fit.width === undefined || total <= fit.width) return natural
  const shrinkable = columns.flatMap((column, i) => (column.shrink === true ? [i] : []))
  const fixed = natural.reduce((sum, w, i) => sum + (columns[i]?.shrink === true ? 0 : w), 0) + 2 * Math.max(0, natural.length - 1)
  let budget = Math.max(0, fit.width - fixed)
  const widths = [...natural]
  // Narrowest first: a column that needs less than an even share keeps its width, the rest is shared.
  const order = [...shrinkable].sort((a, b) => (natural[a] ?? 0) - (natural[b] ?? 0))
  order.forEach((i, k) => {
    const share = Math.floor(budget / (order.length - k))
    const width = Math.max(Math.min(MIN_SHRUNK, natural[i] ?? 0), Math.min(natural[i] ?? 0, share))
    widths[i] = width
    budget -= width
  })
  return widths
}

/**
 * Rows under a header, each column as wide as its widest cell (in terminal cells: wide
 * characters count two), two spaces apart, no trailing blanks. Cells are stored text made safe:
 * one line, control characters escaped. With `fit.width`, shrinkable columns are cut with `…`
 * so a line fits; `fit.full` never cuts.
 *
 * @example
 * ```ts
 * table([{ header: "ID" }, { header: "ROWS", align: "right" }], [["a", "12"], ["bb", "3"]])
 * // ID  ROWS
 * // a     12
 * // bb     3
 * ```
 */
export const table = (columns: ReadonlyArray<Column>, rows: ReadonlyArray<ReadonlyArray<string>>, fit: Fit = {}): string => {
  const safe = rows.map((row) => columns.map((_, i) => cell(row[i] ?? "")))
  const natural = columns.map((column, i) => Math.max(displayWidth(column.header), ...safe.map((row) => displayWidth(row[i] ?? ""))))
  const widths = columnWidths(natural, columns, fit)
  const line = (cells: ReadonlyArray<string>) =>
    columns.map((column, i) => {
      const width = widths[i] ?? 0
      return pad(cut(cells[i] ?? "", width), width, column.align)
    }).join("  ").trimEnd()
  return [line(columns.map((column) => column.header)), ...safe.map(line)].join("\n")
}

/**
 * `label: value` lines with the values lined up; values are stored text made safe (one line,
 * escaped). With `fit.width`, a value is cut with `…` so its line fits (as a table's shrinkable
 * column, never narrower than {@link MIN_SHRUNK}); `fit.full` never cuts.
 *
 * @example
 * ```ts
 * fields([["run", "r-1234567890"], ["status", "started"]], { width: 16 })
 * // run:     r-1234…
 * // status:  started
 * ```
 */
export const fields = (pairs: ReadonlyArray<readonly [string, string]>, fit: Fit = {}): string => {
  const width = Math.max(0, ...pairs.map(([label]) => displayWidth(label) + 1))
  const room = fit.full === true || fit.width === undefined ? undefined : Math.max(MIN_SHRUNK, fit.width - width - 2)
  return pairs.map(([label, value]) => {
    const safe = cell(value)
    return `${pad(label + ":", width)}  ${room === undefined ? safe : cut(safe, room)}`
  }).join("\n")
}

/** One line of text (already made safe) cut with `…` to `fit.width` cells; whole with `fit.full` or no width. */
export const fitLine = (line: string, fit: Fit): string =>
  fit.full === true || fit.width === undefined ? line : cut(line, Math.max(MIN_SHRUNK, fit.width))

const units = ["B", "KiB", "MiB", "GiB", "TiB"] as const

/** Bytes for people: `0 B`, `512 B`, `1.5 KiB`, `12 MiB`. */
export const humanBytes = (bytes: number): string => {
  let value = bytes
  let unit = 0
  while (Math.abs(value) >= 1024 && unit < units.length - 1) {
    value /= 1024
    unit++
  }
  const shown = unit === 0 || value >= 100 ? Math.round(value).toString() : value.toFixed(1).replace(/\.0$/, "")
  return `${shown} ${units[unit]}`
}

/**
 * An epoch-ms time to the second: in UTC with `Z` (`2026-11-27 17:02:34Z`), or with `local` in
 * the local time zone with its offset (`2026-11-27 12:02:34-05:00`).
 */
export const humanTime = (ms: number, local = false): string => {
  if (!local) return new Date(ms).toISOString().replace("T", " ").replace(/\.\d{3}Z$/, "Z")
  const d = new Date(ms)
  const two = (n: number) => String(n).padStart(2, "0")
  const offset = -d.getTimezoneOffset()
  const zone = `${offset < 0 ? "-" : "+"}${two(Math.floor(Math.abs(offset) / 60))}:${two(Math.abs(offset) % 60)}`
  return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())} ${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}${zone}`
}

/** A duration for people: `850ms`, `12s`, `4m 10s`, `3h 5m`, `2d 4h`. */
export const humanDuration = (ms: number): string => {
  const abs = Math.abs(ms)
  if (abs < 1000) return `${Math.round(abs)}ms`
  const s = Math.floor(abs / 1000)
  if (s < 60) return `${s}s`
  const m = Math.floor(s / 60)
  if (m < 60) return s % 60 === 0 ? `${m}m` : `${m}m ${s % 60}s`
  const h = Math.floor(m / 60)
  if (h < 24) return m % 60 === 0 ? `${h}h` : `${h}h ${m % 60}m`
  const d = Math.floor(h / 24)
  return h % 24 === 0 ? `${d}d` : `${d}d ${h % 24}h`
}

/** How long ago `ms` was at `now` (`3m ago`), or how far ahead (`in 20s`). */
export const humanAgo = (ms: number, now: number): string =>
  ms <= now ? `${humanDuration(now - ms)} ago` : `in ${humanDuration(ms - now)}`

/** `value` on one line, control characters escaped, cut to `max` cells (with `…`). */
export const truncate = (value: string, max: number): string => cut(cell(value), max)

/** `-` for a missing value. */
export const orDash = (value: string | number | null | undefined): string =>
  value === null || value === undefined ? "-" : String(value)

/** How far along, as a percentage right-aligned in four cells, rounded down: ` 42%` (`100%` for nothing to do). */
export const percent = (done: number, total: number): string =>
  `${String(total <= 0 ? 100 : Math.floor((done / total) * 100)).padStart(3)}%`

/** A textual progress bar of `width` cells: `[######----]`. */
export const bar = (done: number, total: number, width: number): string => {
  const filled = total <= 0 ? width : Math.min(width, Math.round((done / total) * width))
  return `[${"#".repeat(filled)}${"-".repeat(width - filled)}]`
}
