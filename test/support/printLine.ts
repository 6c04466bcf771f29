// A synchronous write of a whole line to stdout, for child fixtures that report acknowledged
// writes: a line the parent reads was printed after the write it reports completed. stdout may be
// a non-blocking pipe, so EAGAIN and partial writes are retried.
import { writeSync } from "node:fs"

export const printLine = (line: string): void => {
  const bytes = Buffer.from(`${line}\n`)
  let offset = 0
  while (offset < bytes.length) {
    try {
      offset += writeSync(1, bytes, offset)
    } catch (error) {
      if (!(error instanceof Error && "code" in error && error.code === "EAGAIN")) throw error
    }
  }
}
