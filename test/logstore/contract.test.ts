// The LogStore contract (logStoreContract.ts) on the SQLite layers.
import { join } from "node:path"
import { LogStoreFile, LogStoreMemory, NerveStoreLive, NerveStoreMemory } from "../../layers/index.ts"
import { makeTempDir } from "../support/tempDir.ts"
import { logStoreContract } from "./logStoreContract.ts"

logStoreContract("LogStoreFile", () => LogStoreFile({ filename: join(makeTempDir(), "nerve.db") }))
logStoreContract("LogStoreMemory", () => LogStoreMemory)
logStoreContract("NerveStoreLive", () => NerveStoreLive({ dataDir: makeTempDir() }))
logStoreContract("NerveStoreMemory", () => NerveStoreMemory)
