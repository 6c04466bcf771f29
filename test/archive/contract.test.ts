// The LogArchive contract (test/archive/archiveContract.ts) on the SQLite stacks.
import { NerveStoreLive, NerveStoreMemory } from "../../layers/index.ts"
import { makeTempDir } from "../support/tempDir.ts"
import { archiveContract } from "./archiveContract.ts"

archiveContract("NerveStoreLive", () => NerveStoreLive({ dataDir: makeTempDir("nerve-archive-") }))
archiveContract("NerveStoreMemory", () => NerveStoreMemory)
