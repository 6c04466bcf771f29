// After `npm run build`: the package's public entry points load from dist/ (no `source`
// condition) and provide what the README promises.
import * as store from "@uncaged/nerve-store"
import * as layers from "@uncaged/nerve-store/layers"

const expected = {
  store: ["LogStore", "LogArchive", "BlobStore", "IllegalTransition", "DatabaseError", "LogEntry", "utcDayStartMs", "LOG_ARCHIVE_META_KEY"],
  layers: ["NerveStoreLive", "NerveStoreMemory", "LogStoreFile", "LogStoreMemory", "BlobStoreFile", "BlobStoreMemory"]
}
const missing = [
  ...expected.store.filter((name) => !(name in store)),
  ...expected.layers.filter((name) => !(name in layers))
]
if (missing.length > 0) {
  console.error(`dist/ is missing exports: ${missing.join(", ")}`)
  process.exit(1)
}
console.log(`dist/ exports ok (${Object.keys(store).length} from the main entry, ${Object.keys(layers).length} from ./layers)`)
