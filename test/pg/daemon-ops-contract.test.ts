// Issue 16's daemon operations (test/logstore/daemonOpsContract.ts: fenced thread messages, keyed
// thread messages, countRuns, waitForRun, health) on LogStorePg, against the test server.
import { LogStorePg } from "../../layers/index.ts"
import { daemonOpsContract } from "../logstore/daemonOpsContract.ts"
import { freshPgDatabase } from "../support/pgDatabase.ts"
import { afterTruncating } from "../support/pgStore.ts"

const database = freshPgDatabase()

daemonOpsContract("LogStorePg", () => afterTruncating(database, LogStorePg({ url: database.url(), maxConnections: 4 })))
