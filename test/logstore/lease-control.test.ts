// Lease control (issue 16) on every SQLite LogStore layer: the contract suite, run on a file and
// in memory (the PostgreSQL suite runs the same `leaseContract`).
import { join } from "node:path"
import { LogStoreFile, LogStoreMemory } from "../../layers/index.ts"
import { makeTempDir } from "../support/tempDir.ts"
import { leaseContract } from "./leaseContract.ts"

leaseContract("SQLite file", () => LogStoreFile({ filename: join(makeTempDir(), "nerve.db") }))
leaseContract("in memory", () => LogStoreMemory)
