// Issue 16 (daemon-ops) on every LogStore layer: see daemonOpsContract.ts.
import { join } from "node:path"
import { LogStoreFile, LogStoreMemory, NerveStoreLive, NerveStoreMemory } from "../../layers/index.ts"
import { makeTempDir } from "../support/tempDir.ts"
import { daemonOpsContract } from "./daemonOpsContract.ts"

daemonOpsContract("LogStoreFile", () => LogStoreFile({ filename: join(makeTempDir(), "nerve.db") }))
daemonOpsContract("LogStoreMemory", () => LogStoreMemory)
daemonOpsContract("NerveStoreLive", () => NerveStoreLive({ dataDir: makeTempDir() }))
daemonOpsContract("NerveStoreMemory", () => NerveStoreMemory)
