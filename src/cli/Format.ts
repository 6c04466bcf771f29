/**
 * How the CLI shows data to people: aligned tables, human sizes, times and durations. Pure
 * functions of their input (the current time is passed in), so `--json` and tests stay exact.
 *
 * @since 0.6.0
 */

/** A column of {@link table}: its header, and whether its cells line up on the right (numbers). */
export interface Column {
  readonly header: string
  readonly align?: "left" | "right"
}

/**
 * Rows under a header, each column as wide as its widest cell, two spaces apart, no trailing
 * blanks. An empty table is its header alone.
 *
 * @example
 * ```ts
 * table([{ header: "ID" }, { header: "ROWS", align: "right" }], [["a", "12"], ["bb", "3"]])
 * // ID  ROWS
 * // a     12
 * // bb     3
 * ```
 */
export const table = (columns: ReadonlyArray<Column>, rows: ReadonlyArray<ReadonlyArray<string>>): string => {
  const widths = columns.map((column, i) => Math.max(column.header.length, ...rows.map((row) => (row[i] ?? "").length)))
  const line = (cells: ReadonlyArray<string>) =>
    columns.map((column, i) => {
      const cell = cells[i] ?? ""
      const width = widths[i] ?? 0
      return column.align === "right" ? cell.padStart(width) : cell.padEnd(width)
    }).join("  ").trimEnd()
  return [line(columns.map((column) => column.header)), ...rows.map(line)].join("\n")
}

/** `label: value` lines with the values lined up. */
export const fields = (pairs: ReadonlyArray<readonly [string, string]>): string => {
  const width = Math.max(0, ...pairs.map(([label]) => label.length + 1))
  return pairs.map(([label, value]) => `${(label + ":").padEnd(width)}  ${value}`).join("\n")
}

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

/** An epoch-ms time in UTC, to the second: `2026-11-27 17:02:34Z`. */
export const humanTime = (ms: number): string => new Date(ms).toISOString().replace("T", " ").replace(/\.\d{3}Z$/, "Z")

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

/** `value` cut to `max` characters (with `…`), on one line. */
export const truncate = (value: string, max: number): string => {
  const flat = value.replace(/\s+/g, " ")
  return flat.length <= max ? flat : flat.slice(0, Math.max(0, max - 1)) + "…"
}

/** `-` for a missing value. */
export const orDash = (value: string | number | null | undefined): string =>
  value === null || value === undefined ? "-" : String(value)

/** A textual progress bar of `width` cells: `[######----]`. */
export const bar = (done: number, total: number, width: number): string => {
  const filled = total <= 0 ? width : Math.min(width, Math.round((done / total) * width))
  return `[${"#".repeat(filled)}${"-".repeat(width - filled)}]`
}
