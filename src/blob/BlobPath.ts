/**
 * The only code that turns a digest into a path (cacache's `lib/content/path.js` is the model):
 * `<root>/<2 hex>/<62 hex>` for a blob, `<root>/quarantine/<digest>.<time>.<hex>` for a corrupt
 * copy kept for inspection. It takes a parsed `BlobDigest`, never raw input, so no caller can
 * smuggle `..` into a path.
 *
 * @since 0.6.0
 */
import type { Path } from "effect"
import { randomBytes } from "node:crypto"
import type { BlobDigest } from "../../schema/Blob.ts"
import { isBlobDigest } from "../../schema/Blob.ts"

/** The folder (inside the root) that holds quarantined blobs. */
export const QUARANTINE_DIR = "quarantine"

const shardPattern = /^[0-9a-f]{2}$/
const restPattern = /^[0-9a-f]{62}$/

/** The paths of one blob root. */
export interface BlobPaths {
  readonly root: string
  /** `<root>/<first 2 hex>`. */
  readonly shardDir: (digest: BlobDigest) => string
  /** `<root>/<first 2 hex>/<last 62 hex>`. */
  readonly blobPath: (digest: BlobDigest) => string
  /** `<root>/quarantine`. */
  readonly quarantineDir: string
  /** A fresh name in the quarantine folder: `<digest>.<epoch ms>.<8 hex>`. */
  readonly quarantinePath: (digest: BlobDigest, nowMs: number) => string
  /** `<root>/<name>` — for names read from the root folder. */
  readonly inRoot: (name: string) => string
  /** `<root>/<shard>/<name>` — for names read from a shard folder. */
  readonly inShard: (shard: string, name: string) => string
}

/**
 * Paths under `root`. `path` is the Effect `Path` service (so Windows separators work).
 *
 * @example
 * ```ts
 * const paths = makeBlobPaths(yield* Path.Path, "/data/blobs")
 * paths.blobPath(digest) // "/data/blobs/e3/b0c442…b855"
 * ```
 */
export const makeBlobPaths = (path: Path.Path, root: string): BlobPaths => {
  const resolvedRoot = path.resolve(root)
  const quarantineDir = path.join(resolvedRoot, QUARANTINE_DIR)
  // The 256 shard folders' paths, joined once each: a read or a write builds its paths by
  // concatenation (a digest is 64 hex characters, so there is nothing to normalise).
  const shardDirs = new Map<string, string>()
  const shardDir = (digest: BlobDigest): string => {
    const shard = digest.slice(0, 2)
    let dir = shardDirs.get(shard)
    if (dir === undefined) {
      dir = path.join(resolvedRoot, shard)
      shardDirs.set(shard, dir)
    }
    return dir
  }
  return {
    root: resolvedRoot,
    shardDir,
    blobPath: (digest) => shardDir(digest) + path.sep + digest.slice(2),
    quarantineDir,
    quarantinePath: (digest, nowMs) =>
      path.join(quarantineDir, `${digest}.${nowMs}.${randomBytes(4).toString("hex")}`),
    inRoot: (name) => path.join(resolvedRoot, name),
    inShard: (shard, name) => path.join(resolvedRoot, shard, name)
  }
}

/** Whether a name in the root folder is a shard folder (2 lowercase hex characters). */
export const isShardName = (name: string): boolean => shardPattern.test(name)

/**
 * The digest of the blob stored as `<shard>/<name>`, or `undefined` when the name is not a blob
 * (a temp file, a stray file, an uppercase name).
 */
export const digestOfEntry = (shard: string, name: string): BlobDigest | undefined => {
  if (!restPattern.test(name)) return undefined
  const digest = shard + name
  return isBlobDigest(digest) ? digest : undefined
}
