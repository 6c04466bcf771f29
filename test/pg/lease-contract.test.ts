// Lease control of issue 16 (test/logstore/leaseContract.ts: leases, releaseLease, claimQueued,
// leaseLost) on LogStorePg, against the test server.
import { LogStorePg } from "../../layers/index.ts"
import { leaseContract } from "../logstore/leaseContract.ts"
import { freshPgDatabase } from "../support/pgDatabase.ts"
import { afterTruncating } from "../support/pgStore.ts"

const database = freshPgDatabase()

leaseContract("LogStorePg", () => afterTruncating(database, LogStorePg({ url: database.url(), maxConnections: 4 })))
