/**
 * Behaviour of the file-system BlobStore that only a disk can show: where files land, tamper
 * detection and quarantine, a nerve-store 0.5 tree, and I/O failures.
 */
import { NodeServices } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber, FileSystem, Path, Stream } from "effect"
import { execFileSync } from "node:child_process"
import { createHash, randomBytes } from "node:crypto"
import { BlobStore } from "../../src/BlobStore.ts"
import { BlobStoreFileSystem } from "../../layers/index.ts"

const sha256 = (bytes: Uint8Array | string): string => createHash("sha256").update(bytes).digest("hex")
const utf8 = new TextEncoder()

/** Runs `body` with a blob store on a fresh temp folder, and the folder's path. */
const withStore = <A, E>(
  body: (ctx: { readonly root: string; readonly fs: FileSystem.FileSystem; readonly path: Path.Path }) => Effect.Effect<A, E, BlobStore>
) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const dir = yield* fs.makeTempDirectoryScoped({ prefix: "nerve-blobs-" })
    const root = path.join(dir, "blobs")
    return yield* body({ root, fs, path }).pipe(Effect.provide(BlobStoreFileSystem(root)))
  }).pipe(Effect.scoped, Effect.provide(NodeServices.layer))

/** Every file under `dir`, relative, sorted. */
const tree = (fs: FileSystem.FileSystem, dir: string) =>
  Effect.map(fs.readDirectory(dir, { recursive: true }), (names) => names.sort())

describe("BlobStore on the file system", () => {
  it.effect("a blob lands at <root>/<2 hex>/<62 hex> and no temp file is left behind", () =>
    withStore(({ root, fs, path }) =>
      Effect.gen(function*() {
        const blobs = yield* BlobStore
        const a = yield* blobs.write("first blob")
        const b = yield* blobs.writeStream(Stream.make(utf8.encode("second "), utf8.encode("blob")))
        assert.strictEqual(b, sha256("second blob"))
        const expected = [a, b].flatMap((d) => [d.slice(0, 2), path.join(d.slice(0, 2), d.slice(2))]).sort()
        assert.deepStrictEqual(yield* tree(fs, root), [...new Set(expected)].sort())
        assert.strictEqual(yield* fs.readFileString(path.join(root, a.slice(0, 2), a.slice(2))), "first blob")
      })
    ))

  it.effect("a flipped byte makes read and stream fail with DigestMismatch naming the digest, the actual hash and the path", () =>
    withStore(({ root, fs, path }) =>
      Effect.gen(function*() {
        const blobs = yield* BlobStore
        const bytes = new Uint8Array(randomBytes(600_000))
        const digest = yield* blobs.write(bytes)
        const file = path.join(root, digest.slice(0, 2), digest.slice(2))
        const tampered = bytes.slice()
        tampered[300_000] = (tampered[300_000] ?? 0) ^ 0x01
        yield* fs.writeFile(file, tampered)

        const readError = yield* Effect.flip(blobs.read(digest))
        assert.strictEqual(readError._tag, "DigestMismatch")
        if (readError._tag === "DigestMismatch") {
          assert.strictEqual(readError.digest, digest)
          assert.strictEqual(readError.actual, sha256(tampered))
          assert.strictEqual(readError.path, file)
        }
        let streamedBytes = 0
        const streamError = yield* Effect.flip(
          Stream.runForEach(blobs.stream(digest), (chunk) => Effect.sync(() => void (streamedBytes += chunk.byteLength)))
        )
        assert.strictEqual(streamError._tag, "DigestMismatch")
        // The failure comes after the last byte: consumers must wait for the end.
        assert.strictEqual(streamedBytes, bytes.byteLength)
      })
    ))

  it.effect("verifyAll reports a corrupt blob, quarantines it, and a fresh write repairs it", () =>
    withStore(({ root, fs, path }) =>
      Effect.gen(function*() {
        const blobs = yield* BlobStore
        const good = yield* blobs.write("good")
        const digest = yield* blobs.write("will be tampered")
        const file = path.join(root, digest.slice(0, 2), digest.slice(2))
        yield* fs.writeFileString(file, "will be tamperez")

        const report = yield* blobs.verifyAll()
        assert.deepStrictEqual(report.totals, { checked: 2, ok: 1, mismatch: 1, unreadable: 0, bytes: 4 })
        const mismatch = report.entries.find((e) => e._tag === "Mismatch")
        assert.isDefined(mismatch)
        if (mismatch?._tag !== "Mismatch") return
        assert.strictEqual(mismatch.digest, digest)
        assert.strictEqual(mismatch.actual, sha256("will be tamperez"))
        assert.isNotNull(mismatch.quarantinedTo)
        assert.strictEqual(path.dirname(mismatch.quarantinedTo ?? ""), path.join(root, "quarantine"))
        // Kept for inspection, not deleted; no longer served or listed.
        assert.strictEqual(yield* fs.readFileString(mismatch.quarantinedTo ?? ""), "will be tamperez")
        assert.isFalse(yield* blobs.exists(digest))
        assert.deepStrictEqual(yield* Stream.runCollect(blobs.list()), [good])

        assert.strictEqual(yield* blobs.write("will be tampered"), digest)
        assert.strictEqual(new TextDecoder().decode(yield* blobs.read(digest)), "will be tampered")
        assert.strictEqual((yield* blobs.verifyAll()).totals.mismatch, 0)
      })
    ))

  it.effect("writing content whose stored copy is corrupt quarantines the copy and replaces it (write and writeStream)", () =>
    withStore(({ root, fs, path }) =>
      Effect.gen(function*() {
        const blobs = yield* BlobStore
        for (const viaStream of [false, true]) {
          const text = `repair me ${viaStream}`
          const digest = yield* blobs.write(text)
          const file = path.join(root, digest.slice(0, 2), digest.slice(2))
          yield* fs.writeFileString(file, "garbage")
          const again = viaStream ? yield* blobs.writeStream(Stream.make(utf8.encode(text))) : yield* blobs.write(text)
          assert.strictEqual(again, digest)
          assert.strictEqual(yield* fs.readFileString(file), text)
        }
        const quarantined = yield* fs.readDirectory(path.join(root, "quarantine"))
        assert.strictEqual(quarantined.length, 2)
        for (const name of quarantined) assert.strictEqual(yield* fs.readFileString(path.join(root, "quarantine", name)), "garbage")
        const verify = yield* blobs.verify(sha256("repair me true"))
        assert.strictEqual(verify._tag, "Ok")
      })
    ))

  it.effect("a caller changing its buffer while write runs does not change what is stored under the returned digest", () =>
    withStore(() =>
      Effect.gen(function*() {
        const blobs = yield* BlobStore
        const bytes = new Uint8Array(randomBytes(4096))
        const original = bytes.slice()
        const writing = yield* Effect.forkChild(blobs.write(bytes))
        // The write has hashed its copy and is waiting on the disk when the caller reuses its buffer.
        yield* Effect.yieldNow
        bytes.fill(0)
        const digest = yield* Fiber.join(writing)
        assert.strictEqual(digest, sha256(original))
        assert.isTrue(Buffer.from(yield* blobs.read(digest)).equals(original))
      })
    ))

  it.effect("verify of one corrupt blob reports Mismatch and quarantines it", () =>
    withStore(({ root, fs, path }) =>
      Effect.gen(function*() {
        const blobs = yield* BlobStore
        const digest = yield* blobs.write("one")
        yield* fs.writeFileString(path.join(root, digest.slice(0, 2), digest.slice(2)), "two")
        const result = yield* blobs.verify(digest)
        assert.strictEqual(result._tag, "Mismatch")
        assert.isFalse(yield* blobs.exists(digest))
      })
    ))

  it.live("a 0.5 tree with .tmp.<hex> leftovers is read, listed and garbage-collected", () =>
    withStore(({ root, fs, path }) =>
      Effect.gen(function*() {
        // Lay out the tree by hand, as nerve-store 0.5 left it.
        const contents = ["legacy one", "legacy two", "legacy three"]
        for (const text of contents) {
          const digest = sha256(text)
          yield* fs.makeDirectory(path.join(root, digest.slice(0, 2)), { recursive: true })
          yield* fs.writeFileString(path.join(root, digest.slice(0, 2), digest.slice(2)), text)
        }
        const shard = sha256(contents[0] ?? "").slice(0, 2)
        const oldTemp = path.join(root, shard, ".tmp." + randomBytes(16).toString("hex"))
        const freshTemp = path.join(root, shard, ".tmp." + randomBytes(16).toString("hex"))
        yield* fs.writeFileString(oldTemp, "half a blo")
        yield* fs.writeFileString(freshTemp, "in progress")
        const twoHoursAgo = new Date(Date.now() - 2 * 3600_000)
        yield* fs.utimes(oldTemp, twoHoursAgo, twoHoursAgo)
        yield* fs.writeFileString(path.join(root, shard, "README"), "not a blob")

        const blobs = yield* BlobStore
        for (const text of contents) assert.strictEqual(new TextDecoder().decode(yield* blobs.read(sha256(text))), text)
        assert.deepStrictEqual(yield* Stream.runCollect(blobs.list()), contents.map((t) => sha256(t)).sort())

        const result = yield* blobs.gc({ tempOlderThan: "1 hour" })
        assert.deepStrictEqual([...result.removedTemps], [oldTemp])
        assert.strictEqual(result.bytesFreed, "half a blo".length)
        assert.isFalse(yield* fs.exists(oldTemp))
        assert.isTrue(yield* fs.exists(freshTemp))
        assert.isTrue(yield* fs.exists(path.join(root, shard, "README")))
        assert.strictEqual((yield* blobs.verifyAll()).totals.ok, 3)

        const all = yield* blobs.gc({ tempOlderThan: 0 })
        assert.deepStrictEqual([...all.removedTemps], [freshTemp])
      })
    ))

  it.effect("a file where the shard folder should be fails write with a BlobStoreError naming the operation and path, and leaves nothing under the blob name", () =>
    withStore(({ root, fs, path }) =>
      Effect.gen(function*() {
        const blobs = yield* BlobStore
        const text = "blocked"
        const digest = sha256(text)
        const shard = path.join(root, digest.slice(0, 2))
        yield* fs.makeDirectory(root, { recursive: true })
        yield* fs.writeFileString(shard, "I am a file")

        const error = yield* Effect.flip(blobs.write(text))
        assert.strictEqual(error._tag, "BlobStoreError")
        assert.strictEqual(error.operation, "BlobStore.write")
        assert.strictEqual(error.reason, "notADirectory")
        assert.isTrue(error.path.startsWith(shard), error.path)
        assert.include(error.message, "BlobStore.write")

        const streamError = yield* Effect.flip(blobs.writeStream(Stream.make(utf8.encode(text))))
        assert.strictEqual(streamError._tag, "BlobStoreError")
        if (streamError._tag === "BlobStoreError") {
          assert.strictEqual(streamError.operation, "BlobStore.writeStream")
          assert.strictEqual(streamError.reason, "notADirectory")
          assert.isTrue(streamError.path.startsWith(shard), streamError.path)
        }
        // Nothing half-written: only the obstacle remains, no temp file anywhere.
        assert.deepStrictEqual(yield* tree(fs, root), [digest.slice(0, 2)])
        assert.isFalse(yield* blobs.exists(digest))
        // Sweeps step over the obstacle instead of failing.
        assert.deepStrictEqual(yield* Stream.runCollect(blobs.list()), [])
        assert.strictEqual((yield* blobs.gc({ tempOlderThan: 0 })).removedTemps.length, 0)
      })
    ))

  it.effect("a file where the root folder should be fails writes and sweeps with a typed error", () =>
    withStore(({ root, fs, path }) =>
      Effect.gen(function*() {
        yield* fs.writeFileString(root, "not a folder")
        const blobs = yield* BlobStore
        const write = yield* Effect.flip(blobs.write("x"))
        assert.strictEqual(write._tag, "BlobStoreError")
        // No blob can be under a plain file: lookups say "not there", sweeps and writes fail.
        assert.strictEqual((yield* Effect.flip(blobs.read(sha256("x"))))._tag, "BlobNotFound")
        assert.isFalse(yield* blobs.exists(sha256("x")))
        const gc = yield* Effect.flip(blobs.gc())
        assert.strictEqual(gc._tag, "BlobStoreError")
        const list = yield* Effect.flip(Stream.runCollect(blobs.list()))
        assert.strictEqual(list._tag, "BlobStoreError")
        assert.strictEqual(list.operation, "BlobStore.list")
        assert.strictEqual(list.path, root)
        void path
      })
    ))

  it.effect("a blob file that is unreadable is reported as Unreadable by verifyAll", () =>
    withStore(({ root, fs, path }) =>
      Effect.gen(function*() {
        const blobs = yield* BlobStore
        yield* blobs.write("fine")
        // A folder under a blob name cannot be read as a file (chmod does not stop root).
        const digest = sha256("a folder")
        yield* fs.makeDirectory(path.join(root, digest.slice(0, 2), digest.slice(2)), { recursive: true })
        const report = yield* blobs.verifyAll()
        assert.deepStrictEqual(report.totals, { checked: 2, ok: 1, mismatch: 0, unreadable: 1, bytes: 4 })
        const unreadable = report.entries.find((e) => e._tag === "Unreadable")
        assert.strictEqual(unreadable?.digest, digest)
        const readError = yield* Effect.flip(blobs.read(digest))
        assert.strictEqual(readError._tag, "BlobStoreError")
        if (readError._tag === "BlobStoreError") assert.strictEqual(readError.reason, "isADirectory")
      })
    ))

  it.effect.skipIf(process.platform === "win32")("a FIFO planted under a blob name fails read with DigestMismatch instead of hanging it", () =>
    withStore(({ root, fs, path }) =>
      Effect.gen(function*() {
        const blobs = yield* BlobStore
        const digest = sha256("a fifo")
        yield* fs.makeDirectory(path.join(root, digest.slice(0, 2)), { recursive: true })
        execFileSync("mkfifo", [path.join(root, digest.slice(0, 2), digest.slice(2))])
        const readError = yield* Effect.flip(blobs.read(digest))
        assert.strictEqual(readError._tag, "DigestMismatch")
        if (readError._tag === "DigestMismatch") assert.strictEqual(readError.actual, sha256(""))
      })
    ))
})
