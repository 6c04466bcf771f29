/**
 * The BlobStore contract: behaviour every implementation shares, run against the file-system
 * layer (on a fresh temp folder per test) and the memory layer (fresh per provide).
 */
import { NodeServices } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Effect, FileSystem, Layer, Path, Stream } from "effect"
import { createHash, randomBytes } from "node:crypto"
import type { GcOptionsInput } from "../../schema/Blob.ts"
import { BlobStore, type BlobStoreShape } from "../../src/BlobStore.ts"
import { BlobStoreFileSystem, BlobStoreMemory, NerveStoreLive, NerveStoreMemory } from "../../layers/index.ts"
import { makeTempDir } from "../support/tempDir.ts"

const sha256 = (bytes: Uint8Array | string): string => createHash("sha256").update(bytes).digest("hex")
const utf8 = new TextEncoder()

const concat = (chunks: ReadonlyArray<Uint8Array>): Uint8Array => {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.byteLength, 0))
  let offset = 0
  for (const chunk of chunks) {
    out.set(chunk, offset)
    offset += chunk.byteLength
  }
  return out
}

/** Splits `bytes` into chunks of `size` (the last one shorter). */
const chunked = (bytes: Uint8Array, size: number): Stream.Stream<Uint8Array> => {
  const chunks: Array<Uint8Array> = []
  for (let offset = 0; offset < bytes.byteLength; offset += size) chunks.push(bytes.subarray(offset, offset + size))
  return Stream.fromIterable(chunks)
}

const invalidDigests = ["../../etc/passwd", "a".repeat(63), "a".repeat(65), "g".repeat(64), "", "   ", "ab/" + "c".repeat(61)]

/** The contract suite, run once per implementation. */
export const blobStoreContract = <E>(name: string, makeLayer: () => Layer.Layer<BlobStore, E>) =>
  describe(`BlobStore contract: ${name}`, () => {
    const run = <A, E>(body: (blobs: BlobStoreShape) => Effect.Effect<A, E>) =>
      BlobStore.use(body).pipe(Effect.provide(makeLayer()))

    const contents: ReadonlyArray<readonly [string, Uint8Array]> = [
      ["empty content", new Uint8Array(0)],
      ["one byte", new Uint8Array([0x2a])],
      ["a UTF-8 string", utf8.encode("grüße, 世界 🎉")],
      ["8 MiB", new Uint8Array(randomBytes(8 * 1024 * 1024))]
    ]

    for (const [label, bytes] of contents) {
      it.effect(`${label} round-trips through write/read and writeStream/stream with the sha256 of its bytes`, () =>
        run((blobs) =>
          Effect.gen(function*() {
            const digest = yield* blobs.write(bytes)
            assert.strictEqual(digest, sha256(bytes))
            assert.deepStrictEqual(yield* blobs.read(digest), bytes)
            const streamed = yield* blobs.writeStream(chunked(bytes, 100_003))
            assert.strictEqual(streamed, digest)
            assert.deepStrictEqual(concat(yield* Stream.runCollect(blobs.stream(digest))), bytes)
            assert.strictEqual((yield* blobs.stat(digest)).size, bytes.byteLength)
          })
        ))
    }

    it.effect("a string is stored as its UTF-8 bytes", () =>
      run((blobs) =>
        Effect.gen(function*() {
          const text = "héllo wörld"
          const digest = yield* blobs.write(text)
          assert.strictEqual(digest, sha256(Buffer.from(text, "utf8")))
          assert.strictEqual(new TextDecoder().decode(yield* blobs.read(digest)), text)
        })
      ))

    it.effect("every invalid digest fails with InvalidDigest in every operation", () =>
      run((blobs) =>
        Effect.gen(function*() {
          for (const input of invalidDigests) {
            const failures = [
              yield* Effect.flip(blobs.read(input)),
              yield* Effect.flip(Stream.runDrain(blobs.stream(input))),
              yield* Effect.flip(blobs.exists(input)),
              yield* Effect.flip(blobs.stat(input)),
              yield* Effect.flip(blobs.verify(input)),
              yield* Effect.flip(blobs.delete(input))
            ]
            for (const failure of failures) assert.strictEqual(failure._tag, "InvalidDigest", `input ${JSON.stringify(input)}`)
          }
        })
      ))

    it.effect("digest input is trimmed and lowercased", () =>
      run((blobs) =>
        Effect.gen(function*() {
          const digest = yield* blobs.write("normalise me")
          const sloppy = `  ${digest.toUpperCase()}\n`
          assert.isTrue(yield* blobs.exists(sloppy))
          assert.deepStrictEqual(yield* blobs.read(sloppy), utf8.encode("normalise me"))
        })
      ))

    it.effect("a digest that is valid but not stored is BlobNotFound for read, stream, stat and verify", () =>
      run((blobs) =>
        Effect.gen(function*() {
          const missing = sha256("never written")
          assert.strictEqual((yield* Effect.flip(blobs.read(missing)))._tag, "BlobNotFound")
          assert.strictEqual((yield* Effect.flip(Stream.runDrain(blobs.stream(missing))))._tag, "BlobNotFound")
          assert.strictEqual((yield* Effect.flip(blobs.stat(missing)))._tag, "BlobNotFound")
          assert.strictEqual((yield* Effect.flip(blobs.verify(missing)))._tag, "BlobNotFound")
          assert.isFalse(yield* blobs.exists(missing))
        })
      ))

    it.effect("50 fibers writing the same content and 50 writing different content all succeed", () =>
      run((blobs) =>
        Effect.gen(function*() {
          const same = new Uint8Array(randomBytes(64 * 1024))
          const different = Array.from({ length: 50 }, (_, i) => utf8.encode(`content number ${i}`))
          const writes = [
            ...Array.from({ length: 50 }, (_, i) => i % 2 === 0 ? blobs.write(same) : blobs.writeStream(chunked(same, 7_000))),
            ...different.map((bytes) => blobs.write(bytes))
          ]
          const digests = yield* Effect.all(writes, { concurrency: "unbounded" })
          for (const digest of digests.slice(0, 50)) assert.strictEqual(digest, sha256(same))
          different.forEach((bytes, i) => assert.strictEqual(digests[50 + i], sha256(bytes)))
          const report = yield* blobs.verifyAll()
          assert.strictEqual(report.totals.checked, 51)
          assert.strictEqual(report.totals.ok, 51)
        })
      ))

    it.effect("writing the same content twice is idempotent", () =>
      run((blobs) =>
        Effect.gen(function*() {
          const first = yield* blobs.write("twice")
          const before = yield* blobs.stat(first)
          const second = yield* blobs.write("twice")
          assert.strictEqual(second, first)
          assert.strictEqual((yield* blobs.stat(second)).size, before.size)
          assert.deepStrictEqual(yield* Stream.runCollect(blobs.list()), [first])
        })
      ))

    it.effect("delete removes a blob, exists and stat follow, and deleting again reports false", () =>
      run((blobs) =>
        Effect.gen(function*() {
          const keep = yield* blobs.write("keep")
          const drop = yield* blobs.write("drop")
          assert.isTrue(yield* blobs.exists(drop))
          const stat = yield* blobs.stat(drop)
          assert.strictEqual(stat.size, 4)
          assert.strictEqual(stat.digest, drop)
          assert.isTrue(stat.mtime instanceof Date)
          assert.isTrue(yield* blobs.delete(drop))
          assert.isFalse(yield* blobs.exists(drop))
          assert.isFalse(yield* blobs.delete(drop))
          assert.strictEqual((yield* Effect.flip(blobs.stat(drop)))._tag, "BlobNotFound")
          assert.deepStrictEqual(yield* Stream.runCollect(blobs.list()), [keep])
        })
      ))

    it.effect("list returns every digest once, in ascending order", () =>
      run((blobs) =>
        Effect.gen(function*() {
          assert.deepStrictEqual(yield* Stream.runCollect(blobs.list()), [])
          const digests = yield* Effect.forEach(Array.from({ length: 20 }, (_, i) => `blob ${i}`), (s) => blobs.write(s))
          assert.deepStrictEqual(yield* Stream.runCollect(blobs.list()), [...digests].sort())
        })
      ))

    it.effect("gc with a live set removes exactly the other blobs and reports the bytes freed", () =>
      run((blobs) =>
        Effect.gen(function*() {
          const live = yield* blobs.write("live one")
          const deadA = yield* blobs.write("dead a")
          const deadB = yield* blobs.write("dead bb")
          const result = yield* blobs.gc({ live: new Set([live]), tempOlderThan: "1 hour" })
          assert.deepStrictEqual([...result.removedBlobs], [deadA, deadB].sort())
          assert.strictEqual(result.bytesFreed, 6 + 7)
          assert.deepStrictEqual(yield* Stream.runCollect(blobs.list()), [live])
          const again = yield* blobs.gc({ live: [live], tempOlderThan: 0 })
          assert.strictEqual(again.removedBlobs.length, 0)
          assert.strictEqual((yield* blobs.gc()).removedBlobs.length, 0)
        })
      ))

    it.effect("gc rejects a negative, malformed or NaN temp age with InvalidInput naming the field", () =>
      run((blobs) =>
        Effect.gen(function*() {
          // As a CLI or a JSON config would pass them: not type-checked.
          const untyped: ReadonlyArray<GcOptionsInput> = JSON.parse('[{"tempOlderThan":"soon"},{"tempOlderThan":true}]')
          for (const options of [{ tempOlderThan: -1 }, { tempOlderThan: Number.NaN }, ...untyped]) {
            const error = yield* Effect.flip(blobs.gc(options))
            assert.strictEqual(error._tag, "InvalidInput", String(options.tempOlderThan))
            if (error._tag === "InvalidInput") assert.strictEqual(error.field, "options.tempOlderThan")
          }
          const negative = yield* Effect.flip(blobs.gc({ tempOlderThan: -1 }))
          if (negative._tag === "InvalidInput") assert.strictEqual(negative.reason, "must not be negative")
        })
      ))

    it.effect("gc rejects a live entry that is not a digest, naming it, and removes nothing", () =>
      run((blobs) =>
        Effect.gen(function*() {
          const kept = yield* blobs.write("kept because gc refused")
          const error = yield* Effect.flip(blobs.gc({ live: [kept, "../../etc/passwd"] }))
          assert.strictEqual(error._tag, "InvalidInput")
          if (error._tag === "InvalidInput") assert.strictEqual(error.field, "options.live.1")
          const fromSet = yield* Effect.flip(blobs.gc({ live: new Set(["nope"]) }))
          assert.strictEqual(fromSet._tag, "InvalidInput")
          if (fromSet._tag === "InvalidInput") assert.match(fromSet.field, /^options\.live\./)
          assert.deepStrictEqual(yield* Stream.runCollect(blobs.list()), [kept])
        })
      ))

    it.effect("gc normalises live digests like every digest input, so a live blob written in capitals is kept", () =>
      run((blobs) =>
        Effect.gen(function*() {
          const live = yield* blobs.write("live, named loudly")
          const dead = yield* blobs.write("dead")
          const result = yield* blobs.gc({ live: [`  ${live.toUpperCase()}\n`] })
          assert.deepStrictEqual([...result.removedBlobs], [dead])
          assert.deepStrictEqual(yield* Stream.runCollect(blobs.list()), [live])
        })
      ))

    it.effect("verifyAll reports every blob and the totals", () =>
      run((blobs) =>
        Effect.gen(function*() {
          const digests = yield* Effect.forEach(["a", "bb", "ccc"], (s) => blobs.write(s))
          const report = yield* blobs.verifyAll()
          assert.deepStrictEqual(report.totals, { checked: 3, ok: 3, mismatch: 0, unreadable: 0, bytes: 6 })
          assert.deepStrictEqual(report.entries.map((e) => e.digest), [...digests].sort())
          const one = yield* blobs.verify(digests[0] ?? "")
          assert.strictEqual(one._tag, "Ok")
        })
      ))

    it.effect("a failing source stream fails writeStream with its own error and stores nothing", () =>
      run((blobs) =>
        Effect.gen(function*() {
          const source = Stream.concat(Stream.make(utf8.encode("partial")), Stream.fail("source broke" as const))
          const error = yield* Effect.flip(blobs.writeStream(source))
          assert.strictEqual(error, "source broke")
          assert.deepStrictEqual(yield* Stream.runCollect(blobs.list()), [])
          assert.strictEqual((yield* blobs.verifyAll()).totals.checked, 0)
        })
      ))
  })

const fileSystemLayer = Layer.unwrap(Effect.gen(function*() {
  const fs = yield* FileSystem.FileSystem
  const path = yield* Path.Path
  const dir = yield* fs.makeTempDirectoryScoped({ prefix: "nerve-blobs-" })
  return BlobStoreFileSystem(path.join(dir, "blobs"))
})).pipe(Layer.provide(NodeServices.layer))

blobStoreContract("BlobStoreFileSystem", () => fileSystemLayer)
blobStoreContract("BlobStoreMemory", () => BlobStoreMemory)
blobStoreContract("NerveStoreLive", () => NerveStoreLive({ dataDir: makeTempDir("nerve-blobs-live-") }))
blobStoreContract("NerveStoreMemory", () => NerveStoreMemory)
