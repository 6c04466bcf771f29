/**
 * File-system faults driven through every step of the blob store (FaultyFiles fails chosen
 * calls on cue): each failure is a typed `BlobStoreError` with the right `reason`, leaves nothing
 * partial under a blob name (and no temp file), and the same call succeeds once the fault clears.
 */
import { NodeServices } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Effect, FileSystem, Layer, Path, Stream } from "effect"
import { createHash } from "node:crypto"
import type { FileErrorReason } from "../../schema/Errors.ts"
import { BlobStore } from "../../src/BlobStore.ts"
import { BlobStoreFileSystem } from "../../layers/index.ts"
import { type Fault, FaultyFiles, type Faults, makeFaults } from "../support/FaultyFileSystem.ts"

const sha256 = (bytes: Uint8Array | string): string => createHash("sha256").update(bytes).digest("hex")
const utf8 = new TextEncoder()

interface Ctx {
  readonly faults: Faults
  readonly root: string
  readonly fs: FileSystem.FileSystem
  readonly path: Path.Path
}

/** A blob store on a fresh folder whose file system fails what `faults` is armed with. */
const withFaultyStore = <A, E>(body: (ctx: Ctx) => Effect.Effect<A, E, BlobStore>) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const dir = yield* fs.makeTempDirectoryScoped({ prefix: "nerve-blob-faults-" })
    const root = path.join(dir, "blobs")
    const faults = makeFaults()
    return yield* body({ faults, root, fs, path }).pipe(
      Effect.provide(BlobStoreFileSystem(root).pipe(Layer.provide(FaultyFiles(faults))))
    )
  }).pipe(Effect.scoped, Effect.provide(NodeServices.layer))

/** Every file under `root`, relative (a missing root is empty). */
const filesUnder = (ctx: Ctx) =>
  Effect.map(
    ctx.fs.readDirectory(ctx.root, { recursive: true }).pipe(Effect.orElseSucceed(() => [] as Array<string>)),
    (names) => names.sort()
  )

/**
 * No temp file is left, and nothing incomplete is under the blob name: either no file, or (when
 * only the folder's fsync failed, after the link) the complete bytes.
 */
const assertNothingPartial = (ctx: Ctx, digest: string) =>
  Effect.gen(function*() {
    const names = yield* filesUnder(ctx)
    const blobName = ctx.path.join(digest.slice(0, 2), digest.slice(2))
    if (names.includes(blobName)) {
      assert.strictEqual(sha256(yield* ctx.fs.readFile(ctx.path.join(ctx.root, blobName))), digest, "a complete blob")
    }
    assert.deepStrictEqual(names.filter((n) => ctx.path.basename(n).startsWith(".tmp.")), [], "no temp file left")
  })

interface WriteCase {
  readonly step: string
  readonly fault: (shard: string) => Fault
  readonly reason: FileErrorReason
}

// The steps of a durable write, in order. `shard` is the blob's shard folder (absolute).
const writeSteps: ReadonlyArray<WriteCase> = [
  { step: "creating the shard folder", fault: () => ({ call: "makeDirectory", errno: "ENOSPC" }), reason: "diskFull" },
  { step: "opening the shard folder", fault: (shard) => ({ call: "open", flag: "r", pathEndsWith: shard, errno: "EMFILE" }), reason: "tooManyOpenFiles" },
  { step: "opening the temp file (wx)", fault: () => ({ call: "open", flag: "wx", errno: "EACCES" }), reason: "permissionDenied" },
  { step: "writing the temp file", fault: () => ({ call: "file.writeAll", errno: "ENOSPC" }), reason: "diskFull" },
  { step: "fsyncing the temp file", fault: () => ({ call: "file.sync", pathIncludes: ".tmp.", errno: "EIO" }), reason: "io" },
  { step: "linking the temp file to the blob name", fault: () => ({ call: "link", errno: "EIO" }), reason: "io" },
  { step: "fsyncing the shard folder", fault: (shard) => ({ call: "file.sync", pathEndsWith: shard, errno: "EIO" }), reason: "io" }
]

describe("BlobStore under file-system faults", () => {
  for (const viaStream of [false, true]) {
    const operation = viaStream ? "BlobStore.writeStream" : "BlobStore.write"
    for (const { step, fault, reason } of writeSteps) {
      it.effect(`${operation}: a failure ${step} is a BlobStoreError (${reason}), leaves nothing partial, and a retry succeeds`, () =>
        withFaultyStore((ctx) =>
          Effect.gen(function*() {
            const blobs = yield* BlobStore
            const text = `content for ${step} ${viaStream}`
            const digest = sha256(text)
            const write = viaStream ? blobs.writeStream(Stream.make(utf8.encode(text))) : blobs.write(text)
            if (step !== "creating the shard folder") {
              // The shard folder exists already (another blob of the same shard was written).
              yield* ctx.fs.makeDirectory(ctx.path.join(ctx.root, digest.slice(0, 2)), { recursive: true })
            }
            ctx.faults.arm(fault(ctx.path.join(ctx.root, digest.slice(0, 2))))
            const error = yield* Effect.flip(write)
            assert.isAbove(ctx.faults.injected(), 0)
            assert.strictEqual(error._tag, "BlobStoreError")
            if (error._tag !== "BlobStoreError") return
            assert.strictEqual(error.reason, reason, error.message)
            assert.strictEqual(error.operation, operation)
            yield* assertNothingPartial(ctx, digest)

            ctx.faults.disarm()
            assert.strictEqual(yield* write, digest)
            assert.strictEqual(new TextDecoder().decode(yield* blobs.read(digest)), text)
            assert.deepStrictEqual((yield* filesUnder(ctx)).filter((n) => n.includes(".tmp.")), [])
          })
        ))
    }
  }

  it.effect("EEXIST at link counts as success: the stored copy is checked and the write completes", () =>
    withFaultyStore((ctx) =>
      Effect.gen(function*() {
        const blobs = yield* BlobStore
        ctx.faults.arm({ call: "link", errno: "EEXIST", times: 1 })
        const digest = yield* blobs.write("linked by someone else")
        assert.strictEqual(ctx.faults.injected(), 1)
        assert.strictEqual(new TextDecoder().decode(yield* blobs.read(digest)), "linked by someone else")
        assert.deepStrictEqual((yield* filesUnder(ctx)).filter((n) => n.includes(".tmp.")), [])
      })
    ))

  it.effect("where links are unsupported the temp file is renamed; ENOENT at that rename fails with notFound and a retry succeeds", () =>
    withFaultyStore((ctx) =>
      Effect.gen(function*() {
        const blobs = yield* BlobStore
        ctx.faults.arm({ call: "link", errno: "ENOTSUP" })
        const first = yield* blobs.write("renamed into place")
        assert.strictEqual(new TextDecoder().decode(yield* blobs.read(first)), "renamed into place")

        ctx.faults.arm({ call: "rename", errno: "ENOENT", times: 1 })
        const digest = sha256("renamed, second")
        const error = yield* Effect.flip(blobs.write("renamed, second"))
        assert.strictEqual(error.reason, "notFound")
        yield* assertNothingPartial(ctx, digest)
        assert.strictEqual(yield* blobs.write("renamed, second"), digest)
        ctx.faults.disarm()
        assert.strictEqual((yield* blobs.verifyAll()).totals.ok, 2)
      })
    ))

  // live: gc compares file times with the Effect Clock.
  it.live("a temp name that cannot be removed after the link does not fail the write; the sweep removes it later", () =>
    withFaultyStore((ctx) =>
      Effect.gen(function*() {
        const blobs = yield* BlobStore
        ctx.faults.arm({ call: "remove", errno: "EACCES", pathIncludes: ".tmp." })
        const digest = yield* blobs.write("published, temp kept")
        assert.strictEqual(new TextDecoder().decode(yield* blobs.read(digest)), "published, temp kept")
        assert.strictEqual((yield* filesUnder(ctx)).filter((n) => n.includes(".tmp.")).length, 1, "the temp file is left")
        ctx.faults.disarm()
        const swept = yield* blobs.gc({ tempOlderThan: 0 })
        assert.strictEqual(swept.removedTemps.length, 1)
        assert.deepStrictEqual((yield* filesUnder(ctx)).filter((n) => n.includes(".tmp.")), [])
      })
    ))

  it.effect("read, stream and verifyAll report open and read failures with their reason, and work once the fault clears", () =>
    withFaultyStore((ctx) =>
      Effect.gen(function*() {
        const blobs = yield* BlobStore
        const digest = yield* blobs.write("read me")
        const name = digest.slice(2)

        ctx.faults.arm({ call: "open", flag: "r", pathIncludes: name, errno: "EACCES" })
        const denied = yield* Effect.flip(blobs.read(digest))
        assert.strictEqual(denied._tag === "BlobStoreError" ? denied.reason : denied._tag, "permissionDenied")
        const deniedStream = yield* Effect.flip(Stream.runDrain(blobs.stream(digest)))
        assert.strictEqual(deniedStream._tag === "BlobStoreError" ? deniedStream.reason : deniedStream._tag, "permissionDenied")
        ctx.faults.disarm()

        ctx.faults.arm({ call: "file.read", errno: "EIO" })
        const io = yield* Effect.flip(blobs.read(digest))
        assert.strictEqual(io._tag === "BlobStoreError" ? io.reason : io._tag, "io")
        const ioStream = yield* Effect.flip(Stream.runDrain(blobs.stream(digest)))
        assert.strictEqual(ioStream._tag === "BlobStoreError" ? ioStream.reason : ioStream._tag, "io")
        const report = yield* blobs.verifyAll()
        assert.strictEqual(report.totals.unreadable, 1)
        assert.include(report.entries[0]?._tag === "Unreadable" ? report.entries[0].reason : "", "io")
        ctx.faults.disarm()

        ctx.faults.arm({ call: "readDirectory", errno: "EIO" })
        const listing = yield* Effect.flip(blobs.verifyAll())
        assert.strictEqual(listing.reason, "io")
        ctx.faults.disarm()

        assert.strictEqual(new TextDecoder().decode(yield* blobs.read(digest)), "read me")
        assert.strictEqual((yield* blobs.verifyAll()).totals.ok, 1)
      })
    ))

  it.effect("gc and delete fail with permissionDenied when a blob cannot be removed, keep it, and succeed on retry", () =>
    withFaultyStore((ctx) =>
      Effect.gen(function*() {
        const blobs = yield* BlobStore
        const keep = yield* blobs.write("keep")
        const drop = yield* blobs.write("drop")
        ctx.faults.arm({ call: "remove", errno: "EACCES" })
        const gcError = yield* Effect.flip(blobs.gc({ live: [keep] }))
        assert.strictEqual(gcError._tag === "BlobStoreError" ? gcError.reason : gcError._tag, "permissionDenied")
        const deleteError = yield* Effect.flip(blobs.delete(drop))
        assert.strictEqual(deleteError._tag === "BlobStoreError" ? deleteError.reason : deleteError._tag, "permissionDenied")
        assert.isTrue(yield* blobs.exists(drop))
        ctx.faults.disarm()
        assert.deepStrictEqual((yield* blobs.gc({ live: [keep] })).removedBlobs, [drop])
        assert.isFalse(yield* blobs.exists(drop))
      })
    ))
})
