/**
 * `DurableFile`, the one place a file appears under its final name (blobs and archive days):
 * temp files from a buffer or a stream, publishing with and without clobbering, and cleanup of
 * the temp file by `publish` itself when it fails.
 */
import { NodeServices } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Effect, FileSystem, Path, Stream } from "effect"
import { createHash } from "node:crypto"
import { isTempName, publish, writeTemp, writeTempBytes } from "../../src/fs/DurableFile.ts"

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
})
