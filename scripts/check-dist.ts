// After `npm run build`: the package's public entry points load from dist/ (no `source`
// condition) and export exactly the names below — an internal that leaks into the barrel, or a
// public name that goes missing, fails CI. Change these lists only with the API on purpose.
import * as store from "@uncaged/nerve-store"
import * as layers from "@uncaged/nerve-store/layers"

const expected = {
  "@uncaged/nerve-store": [
    "AppendInput", "ArchiveCompression", "ArchiveDayResult", "ArchiveError", "ArchiveErrorReason", "ArchiveOptions",
    "ArchivePlan", "ArchiveProgress", "ArchiveResult", "ArchivedDay", "ArchivedDayStatus", "BlobCheck", "BlobDigest", "BlobDigestFromString",
    "BlobMismatch", "BlobNotFound", "BlobOk", "BlobStat", "BlobStore", "BlobStoreError", "BlobStoreErrorReason", "BlobSuspicious",
    "BlobUnreadable", "CliOutput", "CorruptRow", "DEFAULT_KEEP_RESTORED_MS", "DEFAULT_LOG_RETENTION_MS", "DEFAULT_QUERY_LIMIT", "DEFAULT_TEMP_MAX_AGE",
    "DataDirectoryError", "DatabaseError", "DatabaseErrorReason", "DayFailed", "DayFinished", "DayProgress", "DaySkipped",
    "DayStarted", "DigestMismatch", "FileErrorReason", "GcOptions", "GcResult", "GetThreadRoundsParams",
    "IllegalTransition", "InvalidDigest", "InvalidInput", "InvalidUtcDay", "LOG_ARCHIVE_META_KEY", "LogArchive",
    "LogEntry", "LogId", "LogOrder", "LogQuery", "LogStore", "LogStreamQuery", "MAX_QUERY_LIMIT", "MAX_TIMESTAMP_MS",
    "MarkOrphansOptions", "NonEmptyText", "PlannedDay", "RestoreResult", "RunNotFound", "RunTransition",
    "RunTransitionInput", "RunTrigger", "RunsQuery", "ThreadEvent", "ThreadMessage", "ThreadRoundRow", "TimestampMs",
    "TriggerPayload", "UTC_DAY_MS", "UtcDay", "VerifyReport", "WorkflowRun", "WorkflowRunStatus", "assertValidUtcDay",
    "WellFormedText", "compareIsoDays", "isBlobDigest", "isValidUtcDay", "lastArchivableUtcDay", "nextUtcDay", "parseDigest",
    "parseUtcDay", "prevUtcDay", "utcDateStringFromMs", "utcDayEndExclusiveMs", "utcDayStartMs",
    // issue 8 (leases, safe retries, daemon reads)
    "DEFAULT_RUNS_LIMIT", "DEFAULT_THREAD_ROUNDS_LIMIT", "FollowQuery", "IdempotencyConflict", "MAX_RUNS_LIMIT", "RUN_STARTED_TYPE", "RecoverOrphansOptions", "RunLease", "RunLeased", "RunMismatch", "RunStatusFilter", "RunsCursor", "RunsStreamQuery", "THREAD_EVENT_TYPE", "THREAD_MESSAGE_TYPE", "ThreadMessageInput", "WORKFLOW_SOURCE", "WriteOptions",
    // issue 16 (daemon features, second round)
    "FollowGap", "LeaseLost", "Metrics", "OwnerInUse", "RunFinished", "SchemaTooNew",
    "CountRunsQuery", "RunCounts", "StoreHealth", "TERMINAL_STATUSES", "WaitForRunOptions",
    // issue 15 (the maintenance service)
    "CheckReport", "InitReport", "Maintenance", "NoDatabase", "QuarantinedBlob", "StaleLease", "StatsReport", "UpgradeRefused", "UpgradeReport",
    // issue 17 (maintenance on PostgreSQL)
    "NotOnThisBackend", "CopiedTable", "CopyMismatch", "CopyRefused", "CopyReport", "DatabaseCopy"
  ],
  "@uncaged/nerve-store/layers": [
    "ARCHIVE_FOLDER", "BLOB_FOLDER", "BlobStoreFileSystem", "BlobStoreMemory", "DATABASE_FILE", "DatabaseFile",
    "DatabaseMemory", "LogArchiveFileSystem", "LogArchiveMemory", "LogStoreFile", "LogStoreMemory", "LogStoreSqlite",
    "NerveStoreConfig", "NerveStoreLive", "NerveStoreMemory",
    "MaintenanceSqlite",
    // issue 17 (PostgreSQL)
    "LogStorePg", "NerveStorePg",
    // issue 17 (the CLI on PostgreSQL)
    "MaintenancePg", "DatabaseCopyPg"
  ]
}

let failed = false
for (const [entry, module] of [["@uncaged/nerve-store", store], ["@uncaged/nerve-store/layers", layers]] as const) {
  const actual = new Set(Object.keys(module))
  const wanted = new Set(expected[entry])
  const missing = [...wanted].filter((name) => !actual.has(name))
  const extra = [...actual].filter((name) => !wanted.has(name))
  if (missing.length > 0) console.error(`${entry}: missing exports: ${missing.join(", ")}`)
  if (extra.length > 0) console.error(`${entry}: unexpected exports (internals leaking?): ${extra.join(", ")}`)
  failed ||= missing.length > 0 || extra.length > 0
}
if (failed) process.exit(1)
console.log(`dist/ exports ok (${Object.keys(store).length} from the main entry, ${Object.keys(layers).length} from ./layers)`)
