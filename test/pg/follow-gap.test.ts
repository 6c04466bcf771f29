// Issue 16 item 6 (test/logstore/followGapContract.ts: follow fails with FollowGap past archived
// rows) on NerveStorePg, against the test server.
import { NerveStorePg } from "../../layers/index.ts"
import { followGapSuite } from "../logstore/followGapContract.ts"
import { freshPgDatabase } from "../support/pgDatabase.ts"
import { afterTruncating } from "../support/pgStore.ts"
import { makeTempDir } from "../support/tempDir.ts"

const database = freshPgDatabase()

followGapSuite("NerveStorePg", () => afterTruncating(database, NerveStorePg({ url: database.url(), maxConnections: 4, dataDir: makeTempDir() })))
