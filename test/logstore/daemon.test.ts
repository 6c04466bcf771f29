// The daemon contract (daemonContract.ts) on the SQLite stacks.
import { liveStacks, memoryStacks } from "../support/stacks.ts"
import { daemonContract } from "./daemonContract.ts"

daemonContract("live stack on a data directory", liveStacks)

daemonContract("in memory (stacks sharing one in-memory database)", memoryStacks)
