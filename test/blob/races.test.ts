/**
 * Races between a check (verify, verifyAll, a write's re-hash) and a concurrent write, made
 * deterministic with a FileSystem wrapper that runs the other party at the exact moment the
 * check is about to move a blob into quarantine.
 */
import { NodeServices } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Effect, FileSystem, Layer, Path, Stream } from "effect"
import { NodeFiles, nodeFiles, type NodeFilesShape } from "../../src/fs/NodeFiles.ts"
import { createHash } from "node:crypto"
import { BlobStore, type BlobStoreShape } from "../../src/BlobStore.ts"
import { BlobStoreFileSystem } from "../../layers/index.ts"

const sha256 = (bytes: Uint8Array | string): string => createHash("sha256").update(bytes).digest("hex")

/**
 * The real file calls (`NodeFiles`), except that the first rename into `<root>/quarantine/` runs
 * `before` first: the check has hashed the blob and is about to move it.
 */
const beforeFirstQuarantineRename = (quarantineDir: string, before: Effect.Effect<void>) =>
  Layer.sync(NodeFiles, (): NodeFilesShape => {
    let fired = false
    return {
      ...nodeFiles,
      rename: async (from, to) => {
        if (!fired && to.startsWith(quarantineDir)) {
          fired = true
          await Effect.runPromise(before)
        }
        return nodeFiles.rename(from, to)
      }
    }
  })

interface RaceSetup {
  readonly fs: FileSystem.FileSystem
  readonly path: Path.Path
  readonly root: string
  readonly quarantineDir: string
  /** A store on the plain file system (the "other process"). */
  readonly plain: <A, E>(body: (blobs: BlobStoreShape) => Effect.Effect<A, E>) => Effect.Effect<A, E>
  /** A store whose first quarantine rename is preceded by `before`. */
  readonly racing: (
    before: Effect.Effect<void>
  ) => <A, E>(body: (blobs: BlobStoreShape) => Effect.Effect<A, E>) => Effect.Effect<A, E>
}

const withRace = <A, E>(body: (setup: RaceSetup) => Effect.Effect<A, E>) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const dir = yield* fs.makeTempDirectoryScoped({ prefix: "nerve-blob-races-" })
    const root = path.join(dir, "blobs")
    const quarantineDir = path.join(root, "quarantine")
    const services = NodeServices.layer
    const plain: RaceSetup["plain"] = (use) =>
      BlobStore.use(use).pipe(Effect.provide(BlobStoreFileSystem(root).pipe(Layer.provide(services))))
    const racing: RaceSetup["racing"] = (before) => (use) =>
      BlobStore.use(use).pipe(
        Effect.provide(
          BlobStoreFileSystem(root).pipe(
            Layer.provide(beforeFirstQuarantineRename(quarantineDir, before)),
            Layer.provide(services)
          )
        )
      )
    return yield* body({ fs, path, root, quarantineDir, plain, racing })
  }).pipe(Effect.scoped, Effect.provide(NodeServices.layer))

/** Stores `text`, then overwrites the stored file with other bytes. */
const corruptBlob = (setup: RaceSetup, text: string) =>
  Effect.gen(function*() {
    const digest = yield* setup.plain((blobs) => blobs.write(text))
    const file = setup.path.join(setup.root, digest.slice(0, 2), digest.slice(2))
    yield* setup.fs.writeFileString(file, "corrupt bytes")
    return { digest, file }
  })

/** The contents of every file in the quarantine folder. */
const quarantined = (setup: RaceSetup) =>
  Effect.gen(function*() {
    const names = yield* setup.fs.readDirectory(setup.quarantineDir)
    return yield* Effect.forEach(names.sort(), (name) => setup.fs.readFileString(setup.path.join(setup.quarantineDir, name)))
  })

describe("BlobStore races between a check and a repairing write", () => {
  it.effect("verify keeps a good copy that a concurrent write published between the hash and the quarantine", () =>
    withRace((setup) =>
      Effect.gen(function*() {
        const text = "repaired while being verified"
        const { digest, file } = yield* corruptBlob(setup, text)
        // The other writer finds the corrupt copy, quarantines it and publishes a good one —
        // after our verify hashed the corrupt copy and before it moves "the blob" away.
        const repair = Effect.orDie(Effect.asVoid(setup.plain((blobs) => blobs.write(text))))

        const result = yield* setup.racing(repair)((blobs) => blobs.verify(digest))

        assert.strictEqual(result._tag, "Ok")
        assert.strictEqual(yield* setup.fs.readFileString(file), text)
        assert.strictEqual(new TextDecoder().decode(yield* setup.plain((blobs) => blobs.read(digest))), text)
        // Only the corrupt copy is in quarantine; the good one was put back, not left there.
        assert.deepStrictEqual(yield* quarantined(setup), ["corrupt bytes"])
      })
    ))

  it.effect("verifyAll keeps a good copy that a concurrent write published between the hash and the quarantine", () =>
    withRace((setup) =>
      Effect.gen(function*() {
        const text = "repaired while the sweep ran"
        const { digest } = yield* corruptBlob(setup, text)
        const repair = Effect.orDie(Effect.asVoid(setup.plain((blobs) => blobs.write(text))))

        const report = yield* setup.racing(repair)((blobs) => blobs.verifyAll())

        assert.deepStrictEqual(report.totals, { checked: 1, ok: 1, mismatch: 0, unreadable: 0, bytes: text.length })
        assert.deepStrictEqual(yield* setup.plain((blobs) => Stream.runCollect(blobs.list())), [digest])
        assert.strictEqual(new TextDecoder().decode(yield* setup.plain((blobs) => blobs.read(digest))), text)
        assert.deepStrictEqual(yield* quarantined(setup), ["corrupt bytes"])
      })
    ))

  it.effect("a write that re-hashes a corrupt copy keeps the good copy another writer published meanwhile", () =>
    withRace((setup) =>
      Effect.gen(function*() {
        const text = "two writers repair at once"
        const { digest, file } = yield* corruptBlob(setup, text)
        const repair = Effect.orDie(Effect.asVoid(setup.plain((blobs) => blobs.write(text))))

        assert.strictEqual(yield* setup.racing(repair)((blobs) => blobs.write(text)), digest)

        assert.strictEqual(yield* setup.fs.readFileString(file), text)
        assert.deepStrictEqual(yield* quarantined(setup), ["corrupt bytes"])
        assert.strictEqual((yield* setup.plain((blobs) => blobs.verify(digest)))._tag, "Ok")
      })
    ))

  it.effect("a corrupt copy that another check moved away first is reported as a Mismatch with no quarantine path", () =>
    withRace((setup) =>
      Effect.gen(function*() {
        const { digest, file } = yield* corruptBlob(setup, "moved by someone else")
        const takeAway = Effect.orDie(setup.fs.remove(file))

        const result = yield* setup.racing(takeAway)((blobs) => blobs.verify(digest))

        assert.strictEqual(result._tag, "Mismatch")
        if (result._tag === "Mismatch") {
          assert.isNull(result.quarantinedTo)
          assert.strictEqual(result.actual, sha256("corrupt bytes"))
        }
      })
    ))

  it.effect("a copy corrupted again before the move is quarantined and reported with the bytes actually moved", () =>
    withRace((setup) =>
      Effect.gen(function*() {
        const { digest, file } = yield* corruptBlob(setup, "corrupted twice")
        const corruptAgain = Effect.orDie(setup.fs.writeFileString(file, "other corrupt bytes"))

        const result = yield* setup.racing(corruptAgain)((blobs) => blobs.verify(digest))

        assert.strictEqual(result._tag, "Mismatch")
        if (result._tag === "Mismatch") assert.strictEqual(result.actual, sha256("other corrupt bytes"))
        assert.deepStrictEqual(yield* quarantined(setup), ["other corrupt bytes"])
        assert.isFalse(yield* setup.plain((blobs) => blobs.exists(digest)))
      })
    ))
})
