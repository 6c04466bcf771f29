/**
 * File-system hygiene of the blob store: symbolic links never lead it out of its root, whatever
 * it creates is owner-only whatever the umask, and temp files of killed writers are swept when
 * the store opens.
 */
import { NodeServices } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect, FileSystem, Path, Schema, Stream, Tracer } from "effect"
import { createHash, randomBytes } from "node:crypto"
import { lstatSync, mkdirSync, readdirSync, renameSync, statSync, symlinkSync, utimesSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { GcOptions } from "../../schema/Blob.ts"
import { BlobStore } from "../../src/BlobStore.ts"
import { BlobStoreFileSystem } from "../../layers/index.ts"
import { makeTempDir } from "../support/tempDir.ts"

const sha256 = (bytes: Uint8Array | string): string => createHash("sha256").update(bytes).digest("hex")
const utf8 = new TextEncoder()

/** A blob root and, beside it, a folder outside the root that links will point to. */
const setup = () => {
  const dir = makeTempDir("nerve-blob-hygiene-")
  const root = join(dir, "blobs")
  const outside = join(dir, "outside")
  mkdirSync(root, { recursive: true })
  mkdirSync(outside, { recursive: true })
  return { root, outside }
}

const runStore = <A, E>(root: string, body: Effect.Effect<A, E, BlobStore>) =>
  body.pipe(Effect.provide(BlobStoreFileSystem(root)), Effect.provide(NodeServices.layer))

/** Some text whose digest starts with "ab". */
const inShardAb = (): string => {
  for (let i = 0;; i++) if (sha256(`content ${i}`).startsWith("ab")) return `content ${i}`
}

/** The names and bytes of every file in `folder`, to show it was not touched. */
const snapshot = (folder: string) =>
  readdirSync(folder).sort().map((name) => [name, statSync(join(folder, name)).size, statSync(join(folder, name)).mtimeMs] as const)

describe("BlobStore never follows a symbolic link out of its root", () => {
  it.live("a shard folder that links outside is reported by verifyAll and gc and never entered by read, verify, delete, list or quarantine", () => {
    const { root, outside } = setup()
    // Outside the root: a file named like a blob of shard "ab" whose bytes do not match (a
    // verify would quarantine it), and an old temp file (a gc would delete it).
    const digest = "ab" + sha256("anything").slice(2)
    writeFileSync(join(outside, digest.slice(2)), "not the content of that digest")
    const oldTemp = join(outside, ".tmp.0123456789abcdef0123456789abcdef")
    writeFileSync(oldTemp, "someone's file")
    const twoHoursAgo = new Date(Date.now() - 2 * 3600_000)
    utimesSync(oldTemp, twoHoursAgo, twoHoursAgo)
    symlinkSync(outside, join(root, "ab"))
    const before = snapshot(outside)

    return runStore(root, Effect.gen(function*() {
      const blobs = yield* BlobStore
      const good = yield* blobs.write("a real blob")

      const report = yield* blobs.verifyAll()
      assert.deepStrictEqual(report.totals, { checked: 1, ok: 1, mismatch: 0, unreadable: 0, bytes: "a real blob".length })
      assert.deepStrictEqual((report.suspicious ?? []).map((s) => s.path), [join(root, "ab")])
      assert.include(report.suspicious?.[0]?.reason ?? "", "symbolic link")

      const collected = yield* blobs.gc({ live: [good], tempOlderThan: 0 })
      assert.deepStrictEqual(collected.removedBlobs, [])
      assert.deepStrictEqual(collected.removedTemps, [])
      assert.deepStrictEqual(collected.suspicious.map((s) => s.path), [join(root, "ab")])

      for (const failure of [
        yield* Effect.flip(blobs.read(digest)),
        yield* Effect.flip(Stream.runDrain(blobs.stream(digest))),
        yield* Effect.flip(blobs.verify(digest)),
        yield* Effect.flip(blobs.delete(digest)),
        yield* Effect.flip(blobs.exists(digest)),
        yield* Effect.flip(blobs.stat(digest))
      ]) {
        assert.strictEqual(failure._tag, "BlobStoreError")
        if (failure._tag === "BlobStoreError") {
          assert.strictEqual(failure.code, "ELOOP")
          assert.include(failure.detail, "symbolic link")
        }
      }
      assert.deepStrictEqual(yield* Stream.runCollect(blobs.list()), [good])
      // Writing content of that shard refuses the link instead of writing through it.
      const content = inShardAb()
      const write = yield* Effect.flip(blobs.write(content))
      assert.strictEqual(write.code, "ELOOP")
      const streamed = yield* Effect.flip(blobs.writeStream(Stream.make(utf8.encode(content))))
      assert.strictEqual(streamed._tag === "BlobStoreError" ? streamed.code : streamed, "ELOOP")

      assert.deepStrictEqual(snapshot(outside), before)
      assert.isFalse(readdirSync(root).includes("quarantine"))
    }))
  })

  it.live("a shard folder swapped for a link after a read is refused by the next read, stream and verify (issue 19)", () => {
    const { root, outside } = setup()
    return runStore(root, Effect.gen(function*() {
      const blobs = yield* BlobStore
      const digest = yield* blobs.write(inShardAb())
      // Read and verified once through the real folder (a store that remembered the check would skip it next time).
      assert.strictEqual(new TextDecoder().decode(yield* blobs.read(digest)), inShardAb())
      assert.strictEqual((yield* blobs.verify(digest))._tag, "Ok")
      // mv blobs/ab X; ln -s X blobs/ab
      const moved = join(outside, "ab")
      renameSync(join(root, "ab"), moved)
      symlinkSync(moved, join(root, "ab"))
      const before = snapshot(moved)
      for (const failure of [
        yield* Effect.flip(blobs.read(digest)),
        yield* Effect.flip(Stream.runDrain(blobs.stream(digest))),
        yield* Effect.flip(blobs.verify(digest))
      ]) {
        assert.strictEqual(failure._tag, "BlobStoreError")
        if (failure._tag === "BlobStoreError") {
          assert.strictEqual(failure.code, "ELOOP")
          assert.include(failure.detail, "symbolic link")
        }
      }
      assert.deepStrictEqual(snapshot(moved), before)
    }))
  })

  it.live("a blob name that is a link is Unreadable in verifyAll, refused by read, and its target is left alone", () => {
    const { root, outside } = setup()
    const target = join(outside, "secret")
    writeFileSync(target, "secret")
    const digest = sha256("linked blob")
    mkdirSync(join(root, digest.slice(0, 2)))
    symlinkSync(target, join(root, digest.slice(0, 2), digest.slice(2)))

    return runStore(root, Effect.gen(function*() {
      const blobs = yield* BlobStore
      const report = yield* blobs.verifyAll()
      assert.strictEqual(report.totals.unreadable, 1)
      const entry = report.entries[0]
      assert.strictEqual(entry?._tag, "Unreadable")
      if (entry?._tag === "Unreadable") assert.include(entry.reason, "symbolic link")
      const read = yield* Effect.flip(blobs.read(digest))
      assert.strictEqual(read._tag === "BlobStoreError" ? read.code : read._tag, "ELOOP")
      assert.deepStrictEqual(yield* Stream.runCollect(blobs.list()), [])
      // gc removes the link itself (never what it points to).
      const collected = yield* blobs.gc({ live: [] })
      assert.deepStrictEqual([...collected.removedBlobs] as Array<string>, [digest])
      assert.isFalse(readdirSync(join(root, digest.slice(0, 2))).includes(digest.slice(2)))
      assert.strictEqual(yield* Effect.sync(() => statSync(target).size), "secret".length)
    }))
  })

  it.effect("a quarantine folder that links outside makes verify fail with a typed error and moves nothing out of the root", () => {
    const { root, outside } = setup()
    symlinkSync(outside, join(root, "quarantine"))
    return runStore(root, Effect.gen(function*() {
      const blobs = yield* BlobStore
      const digest = yield* blobs.write("to be tampered")
      const file = join(root, digest.slice(0, 2), digest.slice(2))
      writeFileSync(file, "tampered")
      const error = yield* Effect.flip(blobs.verify(digest))
      assert.strictEqual(error._tag === "BlobStoreError" ? error.code : error._tag, "ELOOP")
      assert.deepStrictEqual(readdirSync(outside), [])
      assert.isTrue(lstatSync(file).isFile())
    }))
  })
})

describe("BlobStore files are owner-only whatever the umask", () => {
  for (const umask of [0o022, 0o000]) {
    it.effect(`with umask ${umask.toString(8).padStart(3, "0")} blobs, shard folders, the root and quarantine are 0600 / 0700`, () => {
      const { root: parent } = setup()
      const root = join(parent, "store")
      const previous = process.umask(umask)
      return runStore(root, Effect.gen(function*() {
        const blobs = yield* BlobStore
        const a = yield* blobs.write("written at once")
        const b = yield* blobs.writeStream(Stream.make(utf8.encode("streamed")))
        const c = yield* blobs.write(new Uint8Array(randomBytes(64)))
        writeFileSync(join(root, c.slice(0, 2), c.slice(2)), "tampered")
        const verified = yield* blobs.verify(c)
        assert.strictEqual(verified._tag, "Mismatch")
        const mode = (p: string) => statSync(p).mode & 0o777
        assert.strictEqual(mode(root), 0o700)
        for (const digest of [a, b]) {
          assert.strictEqual(mode(join(root, digest.slice(0, 2))), 0o700, "shard folder")
          assert.strictEqual(mode(join(root, digest.slice(0, 2), digest.slice(2))), 0o600, "blob")
        }
        assert.strictEqual(mode(join(root, "quarantine")), 0o700)
      }).pipe(Effect.ensuring(Effect.sync(() => process.umask(previous)))))
    })
  }
})

describe("BlobStore sweeps temp files of killed writers when it opens", () => {
  it.live("temp files older than an hour are removed from the root and the shard folders; younger ones and other files stay", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const path = yield* Path.Path
      const dir = yield* fs.makeTempDirectoryScoped({ prefix: "nerve-blob-sweep-" })
      const root = path.join(dir, "blobs")
      mkdirSync(join(root, "ab"), { recursive: true })
      const stale = [join(root, ".tmp." + "1".repeat(32)), join(root, "ab", ".tmp." + "2".repeat(32))]
      const fresh = join(root, "ab", ".tmp." + "3".repeat(32))
      const stray = join(root, "ab", "README")
      for (const file of [...stale, fresh, stray]) writeFileSync(file, "left behind")
      const twoHoursAgo = new Date(Date.now() - 2 * 3600_000)
      for (const file of [...stale, stray]) utimesSync(file, twoHoursAgo, twoHoursAgo)

      yield* Effect.service(BlobStore).pipe(Effect.provide(BlobStoreFileSystem(root)))
      assert.deepStrictEqual(readdirSync(root).sort(), ["ab"])
      assert.deepStrictEqual(readdirSync(join(root, "ab")).sort(), [".tmp." + "3".repeat(32), "README"])
    }).pipe(Effect.scoped, Effect.provide(NodeServices.layer)))
})

describe("BlobStore spans", () => {
  it.effect("write and read spans carry the digest and the byte count", () => {
    const spans: Array<Tracer.NativeSpan> = []
    const tracer = Tracer.make({
      span(options) {
        const span = new Tracer.NativeSpan(options)
        spans.push(span)
        return span
      }
    })
    const { root } = setup()
    return runStore(root, Effect.gen(function*() {
      const blobs = yield* BlobStore
      const digest = yield* blobs.write("traced")
      yield* blobs.read(digest)
      const write = spans.find((s) => s.name === "BlobStore.write")
      const read = spans.find((s) => s.name === "BlobStore.read")
      assert.strictEqual(write?.attributes.get("digest"), digest)
      assert.strictEqual(write?.attributes.get("bytes"), "traced".length)
      assert.strictEqual(read?.attributes.get("digest"), digest)
      assert.strictEqual(read?.attributes.get("bytes"), "traced".length)
    }).pipe(Effect.withTracer(tracer)))
  })
})

describe("gc options", () => {
  it("tempOlderThan decodes through the Schema.Duration family: a Duration, finite milliseconds or a duration string", () => {
    const decode = Schema.decodeUnknownSync(GcOptions)
    for (const input of [Duration.minutes(90), 5_400_000, "90 minutes"]) {
      const decoded = decode({ tempOlderThan: input }).tempOlderThan
      assert.isTrue(Duration.isDuration(decoded))
      assert.strictEqual(Duration.toMillis(decoded ?? Duration.zero), 5_400_000)
    }
    for (const input of [-1, Number.NaN, "soon", Duration.millis(-5)]) {
      assert.throws(() => decode({ tempOlderThan: input }))
    }
  })
})
