// BlobStore benchmark, side by side in one process (best of ROUNDS rounds), on a store whose 256
// shard folders already exist:
//
// - 4 KiB durable writes: BlobStore.write vs raw node:crypto + node:fs doing the same durable
//   steps one after another (sha256, open `wx` temp in the shard folder, write, fsync, close,
//   link, unlink temp, fsync folder) vs cacache.put (which does not fsync: not durable, so a
//   kinder baseline).
// - 4 KiB verified reads: BlobStore.read vs raw fs.promises.readFile + sha256 + compare vs
//   cacache.get (index lookup + content read + integrity check).
//
// The contenders take turns op by op, each op in an order taken in turn from every permutation
// of them, so within an op each one follows each other one equally often: a write's fsync also
// commits what the previous writer left in the journal (cacache leaves its files unsynced), and a
// read runs on whatever caches the previous reader left (a fixed rotation had the store always
// follow the same contender).
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

/** The durable steps of a blob write, one after another, as the SPEC's baseline. */
const rawWrite = async (data: Uint8Array): Promise<string> => {
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
  await fsp.unlink(temp)
  const folder = await fsp.open(shard, "r")
  try {
    await folder.sync()
  } finally {
    await folder.close()
  }
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
}

const opsPerSecond = (ops: number, ms: number) => (ops * 1000) / ms

/** Every order of `items` (3 contenders: 6 orders). */
const permutations = <A>(items: ReadonlyArray<A>): Array<Array<A>> =>
  items.length <= 1
    ? [items.slice()]
    : items.flatMap((item, i) => permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [item, ...rest]))

type Contender = readonly ["ours" | "raw" | "cacache", (i: number) => Effect.Effect<unknown>]

/**
 * Runs op `i` of every contender, `ops` times, each time in the next of their orders (see the top
 * of this file); each contender sums only its own time (ms).
 */
const takeTurns = (contenders: ReadonlyArray<Contender>, ops: number) =>
  Effect.gen(function*() {
    const ms = { ours: 0, raw: 0, cacache: 0 }
    const orders = permutations(contenders)
    for (let i = 0; i < ops; i++) {
      for (const [name, op] of orders[i % orders.length] ?? []) {
        const start = performance.now()
        yield* op(i)
        ms[name] += performance.now() - start
      }
    }
    return ms
  })

// Durable writes wait on the disk, whose fsync latency drifts from second to second: hence turns
// op by op rather than one contender after another.
const writes = async (): Promise<Figure> => {
  const best = { ours: 0, raw: 0, cacache: 0 }
  for (let round = 0; round < ROUNDS; round++) {
    const data = { ours: payloads(WRITES_PER_ROUND), raw: payloads(WRITES_PER_ROUND), cacache: payloads(WRITES_PER_ROUND) }
    const spent = await withStore((blobs) =>
      takeTurns([
        ["ours", (i) => Effect.orDie(blobs.write(data.ours[i] ?? new Uint8Array(0)))],
        ["raw", (i) => Effect.promise(() => rawWrite(data.raw[i] ?? new Uint8Array(0)))],
        ["cacache", (i) => Effect.promise(() => cacache.put(cacacheRoot, `w-${round}-${i}`, Buffer.from(data.cacache[i] ?? new Uint8Array(0))))]
      ], WRITES_PER_ROUND)
    )
    best.ours = Math.max(best.ours, opsPerSecond(WRITES_PER_ROUND, spent.ours))
    best.raw = Math.max(best.raw, opsPerSecond(WRITES_PER_ROUND, spent.raw))
    best.cacache = Math.max(best.cacache, opsPerSecond(WRITES_PER_ROUND, spent.cacache))
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
      takeTurns([
        ["ours", (i) => Effect.orDie(blobs.read(digests[i % READ_SET] ?? ""))],
        ["raw", (i) => Effect.promise(() => rawRead(digests[i % READ_SET] ?? ""))],
        ["cacache", (i) => Effect.promise(() => cacache.get(cacacheRoot, `r-${i % READ_SET}`))]
      ], READS_PER_ROUND)
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
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
