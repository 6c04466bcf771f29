// Issue 16 item 6 (see followGapContract.ts) on the live and the memory stack.
import { NerveStoreLive, NerveStoreMemory } from "../../layers/index.ts"
import { makeTempDir } from "../support/tempDir.ts"
import { followGapSuite } from "./followGapContract.ts"

followGapSuite("NerveStoreLive", () => NerveStoreLive({ dataDir: makeTempDir() }))
followGapSuite("NerveStoreMemory", () => NerveStoreMemory)
