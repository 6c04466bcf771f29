// Issue 16's daemon operations (test/logstore/daemonOpsContract.ts: fenced thread messages, keyed
// thread messages, countRuns, waitForRun, health) on LogStorePg and NerveStorePg, against the test server.
import { LogStorePg, NerveStorePg } from "../../layers/index.ts"
import { daemonOpsContract } from "../logstore/daemonOpsContract.ts"
import { freshPgDatabase } from "../support/pgDatabase.ts"
import { afterTruncating } from "../support/pgStore.ts"
import { makeTempDir } from "../support/tempDir.ts"

const database = freshPgDatabase()

daemonOpsContract("LogStorePg", () => afterTruncating(database, LogStorePg({ url: database.url(), maxConnections: 4 })))
daemonOpsContract("NerveStorePg", () => afterTruncating(database, NerveStorePg({ url: database.url(), maxConnections: 4, dataDir: makeTempDir() })))
