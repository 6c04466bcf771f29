/**
 * `DurableFile`, the one place a file appears under its final name (blobs and archive days):
 * temp files from a buffer or a stream, publishing with and without clobbering, and cleanup of
 * the temp file by `publish` itself when it fails.
 */
import { NodeServices } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Effect, FileSystem, Layer, Path, Stream } from "effect"
import { createHash } from "node:crypto"
import { statSync, utimesSync } from "node:fs"
import { classify } from "../../src/fs/PlatformErrors.ts"
import { createNoClobber, isTempName, makeDirectoryDurable, publish, sweepTempFiles, writeTemp, writeTempBytes } from "../../src/fs/DurableFile.ts"
import { FaultyFiles, type Faults, makeFaults } from "../support/FaultyFileSystem.ts"

const sha256 = (bytes: Uint8Array | string): string => createHash("sha256").update(bytes).digest("hex")
const utf8 = new TextEncoder()

const inTempDir = <A, E>(
  body: (ctx: { readonly dir: string; readonly fs: FileSystem.FileSystem; readonly path: Path.Path }) => Effect.Effect<A, E, FileSystem.FileSystem | Path.Path>
) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const dir = yield* fs.makeTempDirectoryScoped({ prefix: "nerve-durable-" })
    return yield* body({ dir, fs, path })
  }).pipe(Effect.scoped, Effect.provide(NodeServices.layer))

describe("DurableFile", () => {
  it.effect("writeTempBytes and writeTemp leave a complete temp file and report its sha256 and size", () =>
    inTempDir(({ dir, fs, path }) =>
      Effect.gen(function*() {
        const bytes = utf8.encode("one buffer, one write")
        const fromBytes = yield* writeTempBytes(dir, bytes)
        const fromStream = yield* writeTemp(dir, Stream.make(bytes.subarray(0, 4), bytes.subarray(4)))
        for (const temp of [fromBytes, fromStream]) {
          assert.isTrue(isTempName(path.basename(temp.path)))
          assert.strictEqual(path.dirname(temp.path), dir)
          assert.strictEqual(temp.sha256, sha256(bytes))
          assert.strictEqual(temp.size, bytes.byteLength)
          assert.deepStrictEqual(yield* fs.readFile(temp.path), bytes)
        }
      })
    ))

  it.effect("writeTempBytes into a missing folder fails with NotFound and creates nothing", () =>
    inTempDir(({ dir, fs, path }) =>
      Effect.gen(function*() {
        const error = yield* Effect.flip(writeTempBytes(path.join(dir, "missing"), utf8.encode("x")))
        assert.strictEqual(error.reason._tag, "NotFound")
        assert.deepStrictEqual(yield* fs.readDirectory(dir), [])
      })
    ))

  it.effect("publish no-clobber creates the final name once; a second publish reports existed and keeps the first bytes", () =>
    inTempDir(({ dir, fs, path }) =>
      Effect.gen(function*() {
        const final = path.join(dir, "final")
        const first = yield* writeTempBytes(dir, utf8.encode("first"))
        assert.strictEqual(yield* publish(first.path, final, "no-clobber"), "created")
        const second = yield* writeTempBytes(dir, utf8.encode("second"))
        assert.strictEqual(yield* publish(second.path, final, "no-clobber"), "existed")
        assert.strictEqual(yield* fs.readFileString(final), "first")
        // Both temp names are gone.
        assert.deepStrictEqual(yield* fs.readDirectory(dir), ["final"])
      })
    ))

  it.effect("publish replace puts the new bytes under the final name", () =>
    inTempDir(({ dir, fs, path }) =>
      Effect.gen(function*() {
        const final = path.join(dir, "day.jsonl")
        yield* fs.writeFileString(final, "old")
        const temp = yield* writeTempBytes(dir, utf8.encode("new"))
        assert.strictEqual(yield* publish(temp.path, final, "replace"), "created")
        assert.strictEqual(yield* fs.readFileString(final), "new")
        assert.deepStrictEqual(yield* fs.readDirectory(dir), ["day.jsonl"])
      })
    ))

  it.effect("publish removes the temp file itself when it cannot give it the final name (both modes)", () =>
    inTempDir(({ dir, fs, path }) =>
      Effect.gen(function*() {
        // A plain file where the final name's folder should be: link and rename fail (ENOTDIR).
        yield* fs.writeFileString(path.join(dir, "blocker"), "not a folder")
        for (const mode of ["no-clobber", "replace"] as const) {
          const temp = yield* writeTempBytes(dir, utf8.encode(mode))
          const error = yield* Effect.flip(publish(temp.path, path.join(dir, "blocker", "final"), mode))
          assert.strictEqual(error._tag, "PlatformError")
          assert.isFalse(yield* fs.exists(temp.path), mode)
        }
        assert.deepStrictEqual(yield* fs.readDirectory(dir), ["blocker"])
      })
    ))

  it.effect("publish creates a missing folder only when asked to, and removes the temp file when it is not", () =>
    inTempDir(({ dir, fs, path }) =>
      Effect.gen(function*() {
        const final = path.join(dir, "ab", "cdef")
        const refused = yield* writeTempBytes(dir, utf8.encode("content"))
        const error = yield* Effect.flip(publish(refused.path, final, "no-clobber"))
        assert.strictEqual(error.reason._tag, "NotFound")
        assert.isFalse(yield* fs.exists(refused.path))

        const temp = yield* writeTempBytes(dir, utf8.encode("content"))
        assert.strictEqual(yield* publish(temp.path, final, "no-clobber", { createDirectory: true }), "created")
        assert.strictEqual(yield* fs.readFileString(final), "content")
        assert.deepStrictEqual((yield* fs.readDirectory(dir)).sort(), ["ab"])
      })
    ))

  it.effect("with umask 022 temp files, published files (both modes) and new folders are owner-only: 0600 / 0700", () =>
    inTempDir(({ dir, path }) => {
      const previous = process.umask(0o022)
      return Effect.gen(function*() {
        const mode = (p: string) => statSync(p).mode & 0o777
        const temp = yield* writeTemp(dir, Stream.make(utf8.encode("streamed")))
        assert.strictEqual(mode(temp.path), 0o600)
        const day = path.join(dir, "archive", "logs", "2024-01-01.jsonl")
        yield* makeDirectoryDurable(path.dirname(day))
        assert.strictEqual(mode(path.join(dir, "archive")), 0o700)
        assert.strictEqual(mode(path.dirname(day)), 0o700)
        const moved = yield* writeTemp(path.dirname(day), Stream.make(utf8.encode("a day")))
        yield* publish(moved.path, day, "replace")
        assert.strictEqual(mode(day), 0o600)
        const bytes = yield* writeTempBytes(dir, utf8.encode("bytes"))
        yield* publish(bytes.path, path.join(dir, "nested", "final"), "no-clobber", { createDirectory: true })
        assert.strictEqual(mode(path.join(dir, "nested")), 0o700)
        assert.strictEqual(mode(path.join(dir, "nested", "final")), 0o600)
        assert.strictEqual(yield* createNoClobber(path.join(dir, "nested", "other"), utf8.encode("one go")), "created")
        assert.strictEqual(mode(path.join(dir, "nested", "other")), 0o600)
      }).pipe(Effect.ensuring(Effect.sync(() => process.umask(previous))))
    }))

  it.live("sweepTempFiles removes only temp files older than the cutoff and reports their bytes", () =>
    inTempDir(({ dir, fs, path }) =>
      Effect.gen(function*() {
        const old = path.join(dir, ".tmp.old")
        const young = path.join(dir, ".tmp.young")
        yield* fs.writeFileString(old, "12345")
        yield* fs.writeFileString(young, "x")
        yield* fs.writeFileString(path.join(dir, "kept"), "not a temp")
        const hourAgo = new Date(Date.now() - 3600_000)
        utimesSync(old, hourAgo, hourAgo)
        const swept = yield* sweepTempFiles(dir, Date.now() - 60_000)
        assert.deepStrictEqual(swept, { removed: [old], bytes: 5 })
        assert.deepStrictEqual((yield* fs.readDirectory(dir)).sort(), [".tmp.young", "kept"])
        assert.deepStrictEqual(yield* sweepTempFiles(path.join(dir, "missing"), Date.now()), { removed: [], bytes: 0 })
      })
    ))
})

/** `body` on a fresh folder, with the file calls failing what `faults` is armed with. */
const withFaults = <A, E>(body: (ctx: { readonly dir: string; readonly fs: FileSystem.FileSystem; readonly path: Path.Path; readonly faults: Faults }) => Effect.Effect<A, E, FileSystem.FileSystem | Path.Path>) => {
  const faults = makeFaults()
  return Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const dir = yield* fs.makeTempDirectoryScoped({ prefix: "nerve-durable-faults-" })
    return yield* body({ dir, fs, path, faults })
  }).pipe(Effect.scoped, Effect.provide(Layer.fresh(FaultyFiles(faults))))
}

describe("DurableFile under file-system faults", () => {
  const cases = [
    { name: "a full disk while a stream is written", call: "file.writeAll", errno: "ENOSPC", reason: "diskFull", via: "stream" },
    { name: "an I/O error at the temp file's fsync", call: "file.sync", errno: "EIO", reason: "io", via: "bytes" },
    { name: "permission denied creating the temp file", call: "open", errno: "EACCES", reason: "permissionDenied", via: "bytes" }
  ] as const
  for (const { name, call, errno, reason, via } of cases) {
    it.effect(`${name} fails with a PlatformError classified ${reason}, leaves no temp file, and a retry succeeds`, () =>
      withFaults(({ dir, fs, faults }) =>
        Effect.gen(function*() {
          const write = via === "stream" ? writeTemp(dir, Stream.make(utf8.encode("day lines"))) : writeTempBytes(dir, utf8.encode("bytes"))
          faults.arm({ call, errno })
          const error = yield* Effect.flip(write)
          assert.strictEqual(classify(error).reason, reason)
          assert.deepStrictEqual(yield* fs.readDirectory(dir), [])
          faults.disarm()
          const temp = yield* write
          assert.isTrue(yield* fs.exists(temp.path))
        })
      ))
  }

  it.effect("a failed rename at a replacing publish keeps the old file, removes the temp file, and a retry replaces it", () =>
    withFaults(({ dir, fs, path, faults }) =>
      Effect.gen(function*() {
        const final = path.join(dir, "2024-01-01.jsonl")
        yield* fs.writeFileString(final, "old")
        faults.arm({ call: "rename", errno: "EACCES", times: 1 })
        const temp = yield* writeTempBytes(dir, utf8.encode("new"))
        const error = yield* Effect.flip(publish(temp.path, final, "replace"))
        assert.strictEqual(classify(error).reason, "permissionDenied")
        assert.strictEqual(yield* fs.readFileString(final), "old")
        assert.deepStrictEqual(yield* fs.readDirectory(dir), ["2024-01-01.jsonl"])
        const again = yield* writeTempBytes(dir, utf8.encode("new"))
        yield* publish(again.path, final, "replace")
        assert.strictEqual(yield* fs.readFileString(final), "new")
      })
    ))

  it.effect("a failed folder fsync fails the publish and removes the temp file; the final name holds complete bytes or nothing", () =>
    withFaults(({ dir, fs, path, faults }) =>
      Effect.gen(function*() {
        const final = path.join(dir, "final")
        faults.arm({ call: "file.sync", errno: "EIO", pathEndsWith: dir, times: 1 })
        const temp = yield* writeTempBytes(dir, utf8.encode("complete"))
        const error = yield* Effect.flip(publish(temp.path, final, "no-clobber"))
        assert.strictEqual(classify(error).reason, "io")
        assert.isFalse(yield* fs.exists(temp.path))
        assert.strictEqual(yield* fs.readFileString(final), "complete")
        const retry = yield* writeTempBytes(dir, utf8.encode("complete"))
        assert.strictEqual(yield* publish(retry.path, final, "no-clobber"), "existed")
        assert.deepStrictEqual(yield* fs.readDirectory(dir), ["final"])
      })
    ))
})
