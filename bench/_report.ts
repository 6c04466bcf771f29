/**
 * How a benchmark script reports: one line per figure (ours, baseline, ratio, target) on stdout,
 * and the same figures as JSON lines appended to the file named by `NERVE_BENCH_OUT` (set by
 * `bench/run.ts`, which gathers them into `bench/results.json`).
 *
 * `--quick` (or `NERVE_BENCH_QUICK=1`) asks a script for small sizes: every figure, quickly, to
 * check that the suite runs; its ratios mean little.
 */
import { appendFileSync } from "node:fs"

export const quick = process.argv.includes("--quick") || process.env.NERVE_BENCH_QUICK === "1"

/** One measured figure: ours against a baseline measured side by side. */
export interface Figure {
  readonly suite: string
  readonly name: string
  readonly ours: number
  readonly baseline: number
  /** What `ours` and `baseline` count (e.g. "rows/s"); higher is better. */
  readonly unit: string
  /** The ratio ours ÷ baseline the SPEC asks for, if any. */
  readonly target?: number | undefined
  /** Anything else worth keeping with the figure (distributions, sizes). */
  readonly details?: Record<string, unknown> | undefined
}

const format = (n: number) =>
  n >= 100 ? Math.round(n).toLocaleString("en-US") : n.toLocaleString("en-US", { maximumSignificantDigits: 3 })

/** The line printed for a figure; `test/bench/quick.test.ts` parses it. */
export const line = (f: Figure): string => {
  const ratio = f.ours / f.baseline
  const verdict = f.target === undefined ? "(information)" : `(target >= ${f.target}x) ${ratio >= f.target ? "ok" : "MISS"}`
  return `  ${f.name.padEnd(72)} ours ${format(f.ours).padStart(10)} ${f.unit}  baseline ${format(f.baseline).padStart(10)} ${f.unit}  ratio ${
    ratio.toFixed(2)
  }x  ${verdict}`
}

/** Prints the figure and records it for `results.json`. */
export const report = (f: Figure): void => {
  console.log(line(f))
  const out = process.env.NERVE_BENCH_OUT
  if (out !== undefined && out !== "") appendFileSync(out, JSON.stringify({ ...f, ratio: f.ours / f.baseline }) + "\n")
}

/** Prints a note under the figures (a table, a distribution); also kept in `results.json`. */
export const note = (suite: string, title: string, text: string): void => {
  console.log(text)
  const out = process.env.NERVE_BENCH_OUT
  if (out !== undefined && out !== "") appendFileSync(out, JSON.stringify({ suite, note: title, text }) + "\n")
}
