/**
 * Stored text made safe and measurable for a terminal: control characters escaped (a stored
 * `\e[2J` must not clear the operator's screen), the width of a string in terminal cells (CJK and
 * emoji take two, combining marks none), and cutting to a width with `…`. Pure functions.
 *
 * @since 0.7.0
 */

/**
 * C0 and C1 controls, DEL, and the Unicode format characters that reorder or hide text (bidi
 * overrides and isolates, zero-width joiners are left: they are harmless and used by emoji).
 */
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g

const named: Record<string, string> = { "\n": "\\n", "\r": "\\r", "\t": "\\t", "\u001b": "\\e" }

const escapeOne = (char: string): string => {
  const known = named[char]
  if (known !== undefined) return known
  const code = char.charCodeAt(0)
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, "0")}` : `\\u${code.toString(16).padStart(4, "0")}`
}

/**
 * `text` with every control character written out (`\e`, `\n`, `\x07`, `\u202e`): one line that
 * shows what is stored and cannot move the cursor, clear the screen or reorder what follows.
 *
 * @example
 * ```ts
 * escapeControl("a\u001b[2Jb\n") // "a\\e[2Jb\\n"
 * ```
 */
export const escapeControl = (text: string): string => text.replace(CONTROL, escapeOne)

/**
 * `text` with control characters escaped except line feeds: for blocks the CLI lays out itself
 * over several lines (the last line of defence in `Print.line`).
 */
export const escapeControlKeepLines = (text: string): string =>
  text.replace(CONTROL, (char) => (char === "\n" ? char : escapeOne(char)))

/** Whether a code point is drawn two cells wide (East Asian Wide / Fullwidth, most emoji). */
const isWide = (cp: number): boolean =>
  (cp >= 0x1100 && cp <= 0x115f) ||
  (cp >= 0x2e80 && cp <= 0x303e) ||
  (cp >= 0x3041 && cp <= 0x33ff) ||
  (cp >= 0x3400 && cp <= 0x4dbf) ||
  (cp >= 0x4e00 && cp <= 0x9fff) ||
  (cp >= 0xa000 && cp <= 0xa4cf) ||
  (cp >= 0xac00 && cp <= 0xd7a3) ||
  (cp >= 0xf900 && cp <= 0xfaff) ||
  (cp >= 0xfe30 && cp <= 0xfe4f) ||
  (cp >= 0xff00 && cp <= 0xff60) ||
  (cp >= 0xffe0 && cp <= 0xffe6) ||
  (cp >= 0x1f300 && cp <= 0x1f64f) ||
  (cp >= 0x1f900 && cp <= 0x1f9ff) ||
  (cp >= 0x20000 && cp <= 0x3fffd)

/** Whether a code point takes no cell (combining marks, zero-width characters, variation selectors). */
const isZeroWidth = (cp: number): boolean =>
  (cp >= 0x0300 && cp <= 0x036f) ||
  (cp >= 0x200b && cp <= 0x200f) ||
  (cp >= 0xfe00 && cp <= 0xfe0f) ||
  (cp >= 0x20d0 && cp <= 0x20ff)

const cellsOf = (cp: number): number => (isZeroWidth(cp) ? 0 : isWide(cp) ? 2 : 1)

/**
 * How many terminal cells `text` takes (after escaping, it holds no control characters).
 *
 * @example
 * ```ts
 * displayWidth("abc") // 3
 * displayWidth("日本") // 4
 * ```
 */
export const displayWidth = (text: string): number => {
  let width = 0
  for (const char of text) width += cellsOf(char.codePointAt(0) ?? 0)
  return width
}

/**
 * `text` cut to at most `width` cells, ending in `…` when cut; never splits a wide character.
 *
 * @example
 * ```ts
 * cut("abcdef", 4) // "abc…"
 * cut("日本語", 4) // "日…"
 * ```
 */
export const cut = (text: string, width: number): string => {
  if (displayWidth(text) <= width) return text
  if (width <= 0) return ""
  let out = ""
  let used = 0
  for (const char of text) {
    const cells = cellsOf(char.codePointAt(0) ?? 0)
    if (used + cells > width - 1) break
    out += char
    used += cells
  }
  return out + "…"
}

/** `text` padded with spaces to `width` cells, on the right (or on the left for `"right"`). */
export const pad = (text: string, width: number, align: "left" | "right" = "left"): string => {
  const fill = " ".repeat(Math.max(0, width - displayWidth(text)))
  return align === "right" ? fill + text : text + fill
}

/** One cell of a table: stored text on one line, control characters escaped, runs of blanks as one. */
export const cell = (text: string): string => escapeControl(text.replace(/[ \t\r\n]+/g, " ").trim())
