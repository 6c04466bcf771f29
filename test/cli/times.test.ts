// Issue 18 item 6: times typed without a zone are local time (TZ=America/New_York here), output
// is UTC with Z unless --local-time, and --since takes relative times (1h, 30m, 2d).
import { assert, beforeAll, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { LogEntry, LogStore } from "../../src/index.ts"
import { NerveStoreLive } from "../../layers/index.ts"
import { makeTempDir } from "../support/tempDir.ts"
import { cli, decodeJsonLines, lines } from "./run.ts"

const NEW_YORK = { TZ: "America/New_York" }
/** 2026-12-05T03:35:00Z is 2026-12-04T22:35:00 in New York (EST, UTC-5). */
const AT = Date.parse("2026-12-05T03:35:00Z")
let dataDir = ""

beforeAll(async () => {
  dataDir = makeTempDir("nerve-cli-times-")
  await Effect.runPromise(Effect.gen(function*() {
    const log = yield* LogStore
    yield* log.append({ source: "t", type: "before", timestamp: AT - 60_000 })
    yield* log.append({ source: "t", type: "at", timestamp: AT })
    yield* log.append({ source: "t", type: "recent", timestamp: Date.now() - 10 * 60_000 })
  }).pipe(Effect.provide(NerveStoreLive({ dataDir }))))
})

const types = (stdout: string) => decodeJsonLines(LogEntry, stdout).map((row) => row.type)

describe("times", () => {
  it.live("a time without a zone is local, with Z or an offset it is exact, epoch ms and relative times work", () =>
    Effect.gen(function*() {
      const query = (...args: ReadonlyArray<string>) => cli(["--data-dir", dataDir, "--json", "logs", "query", "--source", "t", ...args], { env: NEW_YORK })
      const [local, utc, offset, epoch, relative, days] = yield* Effect.all([
        query("--since", "2026-12-04T22:35:00"),
        query("--since", "2026-12-05T03:35:00Z"),
        query("--since", "2026-12-04T22:35:00-05:00", "--until", "2026-12-04T23:35:00-0500"),
        query("--since", String(AT)),
        query("--since", "1h"),
        query("--since", "2d ago", "--until", "30m")
      ], { concurrency: 3 })
      assert.deepStrictEqual(types(local?.stdout ?? ""), ["at", "recent"], local?.stderr)
      assert.deepStrictEqual(types(utc?.stdout ?? ""), ["at", "recent"])
      assert.deepStrictEqual(types(offset?.stdout ?? ""), ["at"])
      assert.deepStrictEqual(types(epoch?.stdout ?? ""), ["at", "recent"])
      assert.deepStrictEqual(types(relative?.stdout ?? ""), ["recent"], relative?.stderr)
      assert.deepStrictEqual(types(days?.stdout ?? ""), Date.now() - AT < 2 * 86_400_000 ? ["before", "at"] : [])
    }))

  it.live("output is UTC marked Z; --local-time shows the local time with its offset", () =>
    Effect.gen(function*() {
      const [utc, local] = yield* Effect.all([
        cli(["--data-dir", dataDir, "logs", "query", "--type", "at"], { env: NEW_YORK }),
        cli(["--data-dir", dataDir, "--local-time", "logs", "query", "--type", "at"], { env: NEW_YORK })
      ], { concurrency: 2 })
      assert.match(lines(utc?.stdout ?? "")[0] ?? "", /^\s+2\s+2026-12-05 03:35:00Z\s+t\/at/)
      assert.match(lines(local?.stdout ?? "")[0] ?? "", /^\s+2\s+2026-12-04 22:35:00-05:00\s+t\/at/)
    }))
})
