/**
 * One log row on one line for people, in columns that never shift: id, time, source/type, ref
 * (blank when the row has none), payload. Rows are printed as they stream (`logs tail -f`), so
 * the columns have fixed widths, shared out of the terminal's width; the payload takes the rest
 * and is cut with `…` (`--full` and pipes get it whole). Stored text is escaped.
 *
 * @since 0.7.0
 */
import type { LogEntry } from "../index.ts"
import { cell, cut, pad } from "./Text.ts"
import type { View } from "./View.ts"

const ID_WIDTH = 7
const SOURCE_TYPE_MAX = 28
const REF_MAX = 24
const PAYLOAD_MIN = 10

/** The widths of the source/type, ref and payload columns (payload undefined: not cut). */
export const layout = (view: View, timeWidth: number): { readonly sourceType: number; readonly ref: number; readonly payload: number | undefined } => {
  if (view.width === undefined) return { sourceType: SOURCE_TYPE_MAX, ref: REF_MAX, payload: undefined }
  const rest = Math.max(0, view.width - ID_WIDTH - timeWidth - 8)
  const sourceType = Math.max(8, Math.min(SOURCE_TYPE_MAX, Math.floor(rest * 0.35)))
  const ref = Math.max(6, Math.min(REF_MAX, Math.floor(rest * 0.25)))
  return { sourceType, ref, payload: Math.max(PAYLOAD_MIN, rest - sourceType - ref) }
}

/** Makes the formatter of a view: call once per command, then once per row. */
export const formatter = (view: View) => {
  const timeWidth = view.time(0).length
  const widths = layout(view, timeWidth)
  const fit = (text: string, width: number | undefined) => (width === undefined || view.full ? text : cut(text, width))
  return (row: LogEntry): string => {
    const sourceType = pad(fit(cell(`${row.source}/${row.type}`), widths.sourceType), widths.sourceType)
    const ref = pad(fit(cell(row.refId ?? ""), widths.ref), widths.ref)
    const payload = row.payload === null ? "" : fit(cell(row.payload), widths.payload)
    return `${String(row.id).padStart(ID_WIDTH)}  ${view.time(row.timestamp)}  ${sourceType}  ${ref}  ${payload}`.trimEnd()
  }
}
