// The LogStore contract (test/logstore/logStoreContract.ts) on LogStorePg, against the test server.
import { LogStorePg } from "../../layers/index.ts"
import { logStoreContract } from "../logstore/logStoreContract.ts"
import { freshPgDatabase } from "../support/pgDatabase.ts"
import { afterTruncating } from "../support/pgStore.ts"

const database = freshPgDatabase()

logStoreContract("LogStorePg", () => afterTruncating(database, LogStorePg({ url: database.url(), maxConnections: 4 })))
