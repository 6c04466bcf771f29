// The storage seam's contract (test/logstore/repositoryContract.ts) on PostgreSQL.
import { Layer } from "effect"
import * as LogRepositoryPg from "../../src/pg/LogRepositoryPg.ts"
import { logRepositoryContract } from "../logstore/repositoryContract.ts"
import { freshPgDatabase } from "../support/pgDatabase.ts"
import { emptyPgDatabase } from "../support/pgStore.ts"

const database = freshPgDatabase()

logRepositoryContract("PostgreSQL", () => LogRepositoryPg.layer.pipe(Layer.provide(emptyPgDatabase(database))))
