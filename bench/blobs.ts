// BlobStore benchmark, side by side in one process (best of ROUNDS rounds), on a store whose 256
// shard folders already exist:
//
// - 4 KiB durable writes: BlobStore.write vs raw node:crypto + node:fs doing the same durable
//   steps (sha256, open `wx` temp in the shard folder, write, fsync, close, link, unlink temp,
//   fsync folder) vs cacache.put (which does not fsync: not durable, so a kinder baseline).
//   The store unlinks the temp name while the folder is fsynced (DurableFile.publish); the raw
//   baseline does the steps one after another, as the SPEC's baseline. For transparency a second
//   raw writer that overlaps the same two steps is timed too and printed on its own line.
// - 4 KiB verified reads: BlobStore.read vs raw fs.promises.readFile + sha256 + compare vs
//   cacache.get (index lookup + content read + integrity check), taking turns op by op too.
//
//   node --conditions=source bench/blobs.ts
import { NodeServices } from "@effect/platform-node"
import cacache from "cacache"
import { Effect, Layer } from "effect"
import { createHash, randomBytes } from "node:crypto"
import { mkdirSync, mkdtempSync, rmSync } from "node:fs"
import * as fsp from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { BlobStore, type BlobStoreShape } from "../src/BlobStore.ts"
import { BlobStoreFileSystem } from "../layers/index.ts"

const ROUNDS = 5
const WRITES_PER_ROUND = 300
const READS_PER_ROUND = 3_000
const READ_SET = 500
const SIZE = 4096
const TARGET = 0.8

const dir = mkdtempSync(join(tmpdir(), "nerve-bench-blobs-"))
const oursRoot = join(dir, "ours")
const rawRoot = join(dir, "raw")
const cacacheRoot = join(dir, "cacache")

const payloads = (n: number) => Array.from({ length: n }, () => new Uint8Array(randomBytes(SIZE)))

const withStore = <A, E>(body: (blobs: BlobStoreShape) => Effect.Effect<A, E>): Promise<A> =>
  Effect.runPromise(
    BlobStore.use(body).pipe(Effect.provide(BlobStoreFileSystem(oursRoot).pipe(Layer.provide(NodeServices.layer))))
  )

// ---- raw durable write: the same steps as the store, written out by hand ----
const rawShards = new Set<string>()

/** The steps both raw writers share: hash, write and fsync a temp file, link it under its name. */
const rawWriteAndLink = async (data: Uint8Array) => {
  const digest = createHash("sha256").update(data).digest("hex")
  const shard = join(rawRoot, digest.slice(0, 2))
  if (!rawShards.has(shard)) {
    mkdirSync(shard, { recursive: true })
    rawShards.add(shard)
  }
  const temp = join(shard, ".tmp." + randomBytes(16).toString("hex"))
  const file = await fsp.open(temp, "wx")
  try {
    await file.write(data)
    await file.sync()
  } finally {
    await file.close()
  }
  try {
    await fsp.link(temp, join(shard, digest.slice(2)))
  } catch (error) {
    if (!(error instanceof Error && "code" in error && error.code === "EEXIST")) throw error
  }
  return { digest, shard, temp }
}

const syncFolder = async (folderPath: string) => {
  const folder = await fsp.open(folderPath, "r")
  try {
    await folder.sync()
  } finally {
    await folder.close()
  }
}

const rawWrite = async (data: Uint8Array): Promise<string> => {
  const { digest, shard, temp } = await rawWriteAndLink(data)
  await fsp.unlink(temp)
  await syncFolder(shard)
  return digest
}

/** `rawWrite` with the unlink of the temp name beside the folder fsync, as the store does it. */
const rawWriteOverlapped = async (data: Uint8Array): Promise<string> => {
  const { digest, shard, temp } = await rawWriteAndLink(data)
  await Promise.all([fsp.unlink(temp), syncFolder(shard)])
  return digest
}

const rawRead = async (digest: string): Promise<Uint8Array> => {
  const bytes = await fsp.readFile(join(oursRoot, digest.slice(0, 2), digest.slice(2)))
  if (createHash("sha256").update(bytes).digest("hex") !== digest) throw new Error("mismatch")
  return bytes
}

interface Figure {
  readonly name: string
  readonly ours: number
  readonly raw: number
  readonly cacache: number
  /** Writes only: the raw writer that overlaps the unlink with the folder fsync, like the store. */
  readonly rawOverlapped?: number
}

const opsPerSecond = (ops: number, ms: number) => (ops * 1000) / ms

// Durable writes wait on the disk, whose fsync latency drifts from second to second; so the
// writers take turns op by op, in a rotating order, and each sums only its own time.
const writes = async (): Promise<Figure> => {
  const best = { ours: 0, raw: 0, cacache: 0, rawOverlapped: 0 }
  for (let round = 0; round < ROUNDS; round++) {
    const data = {
      ours: payloads(WRITES_PER_ROUND),
      raw: payloads(WRITES_PER_ROUND),
      cacache: payloads(WRITES_PER_ROUND),
      rawOverlapped: payloads(WRITES_PER_ROUND)
    }
    const spent = await withStore((blobs) =>
      Effect.gen(function*() {
        const ms = { ours: 0, raw: 0, cacache: 0, rawOverlapped: 0 }
        const writers: ReadonlyArray<readonly [keyof typeof ms, (i: number) => Effect.Effect<unknown>]> = [
          ["ours", (i) => Effect.orDie(blobs.write(data.ours[i] ?? new Uint8Array(0)))],
          ["raw", (i) => Effect.promise(() => rawWrite(data.raw[i] ?? new Uint8Array(0)))],
          ["cacache", (i) => Effect.promise(() => cacache.put(cacacheRoot, `w-${round}-${i}`, Buffer.from(data.cacache[i] ?? new Uint8Array(0))))],
          ["rawOverlapped", (i) => Effect.promise(() => rawWriteOverlapped(data.rawOverlapped[i] ?? new Uint8Array(0)))]
        ]
        for (let i = 0; i < WRITES_PER_ROUND; i++) {
          // Each writer's fsync also commits what the previous one left in the journal, so the
          // order rotates: no writer always follows the same one.
          for (let turn = 0; turn < writers.length; turn++) {
            const writer = writers[(i + turn) % writers.length]
            if (writer === undefined) continue
            const [name, write] = writer
            const start = performance.now()
            yield* write(i)
            ms[name] += performance.now() - start
          }
        }
        return ms
      })
    )
    best.ours = Math.max(best.ours, opsPerSecond(WRITES_PER_ROUND, spent.ours))
    best.raw = Math.max(best.raw, opsPerSecond(WRITES_PER_ROUND, spent.raw))
    best.cacache = Math.max(best.cacache, opsPerSecond(WRITES_PER_ROUND, spent.cacache))
    best.rawOverlapped = Math.max(best.rawOverlapped, opsPerSecond(WRITES_PER_ROUND, spent.rawOverlapped))
  }
  return { name: "4 KiB durable write", ...best }
}

const reads = async (): Promise<Figure> => {
  const data = payloads(READ_SET)
  const digests = await withStore((blobs) => Effect.forEach(data, (bytes) => blobs.write(bytes)))
  for (const [i, bytes] of data.entries()) await cacache.put(cacacheRoot, `r-${i}`, Buffer.from(bytes))
  const best = { ours: 0, raw: 0, cacache: 0 }
  for (let round = 0; round < ROUNDS; round++) {
    const spent = await withStore((blobs) =>
      Effect.gen(function*() {
        const ms = { ours: 0, raw: 0, cacache: 0 }
        const readers: ReadonlyArray<readonly [keyof typeof ms, (i: number) => Effect.Effect<unknown>]> = [
          ["ours", (i) => Effect.orDie(blobs.read(digests[i % READ_SET] ?? ""))],
          ["raw", (i) => Effect.promise(() => rawRead(digests[i % READ_SET] ?? ""))],
          ["cacache", (i) => Effect.promise(() => cacache.get(cacacheRoot, `r-${i % READ_SET}`))]
        ]
        // As for writes: op by op, in a rotating order, so load from elsewhere hits all alike.
        for (let i = 0; i < READS_PER_ROUND; i++) {
          for (let turn = 0; turn < readers.length; turn++) {
            const reader = readers[(i + turn) % readers.length]
            if (reader === undefined) continue
            const [name, read] = reader
            const start = performance.now()
            yield* read(i)
            ms[name] += performance.now() - start
          }
        }
        return ms
      })
    )
    best.ours = Math.max(best.ours, opsPerSecond(READS_PER_ROUND, spent.ours))
    best.raw = Math.max(best.raw, opsPerSecond(READS_PER_ROUND, spent.raw))
    best.cacache = Math.max(best.cacache, opsPerSecond(READS_PER_ROUND, spent.cacache))
  }
  return { name: "4 KiB verified read", ...best }
}

const format = (n: number) => Math.round(n).toLocaleString("en-US")

if (import.meta.main) {
  // A store in steady state: all 256 shard folders exist (creating one costs the store an extra
  // fsync of the root, which a long-lived store pays 256 times in its life).
  for (let i = 0; i < 256; i++) {
    const shard = i.toString(16).padStart(2, "0")
    mkdirSync(join(oursRoot, shard), { recursive: true })
    mkdirSync(join(rawRoot, shard), { recursive: true })
    rawShards.add(join(rawRoot, shard))
  }
  console.log("BlobStore (ops/s, best of %d alternating rounds; ratio = ours / baseline, target >= %sx)", ROUNDS, TARGET)
  try {
    for (const f of [await writes(), await reads()]) {
      const vsRaw = f.ours / f.raw
      const vsCacache = f.ours / f.cacache
      console.log(
        `  ${f.name.padEnd(22)} ours ${format(f.ours).padStart(8)}  raw ${format(f.raw).padStart(8)}  cacache ${
          format(f.cacache).padStart(8)
        }  ratio vs raw ${vsRaw.toFixed(2)}x ${vsRaw >= TARGET ? "ok" : "MISS"}  vs cacache ${vsCacache.toFixed(2)}x ${
          vsCacache >= TARGET ? "ok" : "MISS"
        }`
      )
      if (f.rawOverlapped !== undefined) {
        console.log(
          `  ${"".padEnd(22)} raw with the unlink beside the folder fsync ${format(f.rawOverlapped).padStart(8)}  ratio ${
            (f.ours / f.rawOverlapped).toFixed(2)
          }x (information, no target)`
        )
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
