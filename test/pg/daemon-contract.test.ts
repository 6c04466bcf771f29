// The daemon contract (test/logstore/daemonContract.ts) on PostgreSQL: the stacks of one test are
// separate LogStorePg layers (separate pools, as separate daemons) on one emptied database.
import { Effect } from "effect"
import { type LogStoreOptions, LogStorePg } from "../../layers/index.ts"
import { daemonContract } from "../logstore/daemonContract.ts"
import { freshPgDatabase } from "../support/pgDatabase.ts"
import { truncateDatabase } from "../support/pgStore.ts"

const database = freshPgDatabase()

daemonContract("PostgreSQL (stacks sharing one database)", () =>
  Effect.as(
    Effect.orDie(truncateDatabase(database)),
    (options: LogStoreOptions) => LogStorePg({ url: database.url(), maxConnections: 3, ...options })
  ))
