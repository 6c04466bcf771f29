/**
 * How a file appears under its final name — for blobs and archive days alike. One step a module
 * (cacache's `lib/content` is the model), each written once, on the direct `node:fs` calls
 * (`Step.ts`, `NodeFiles.ts`):
 *
 * 1. `TempFile.ts` — `writeTemp` (a stream) / `writeTempBytes` (one buffer): `<dir>/.tmp.<hex>`,
 *    `wx`, 0600, hashed, fsynced; removed on failure.
 * 2. `Publish.ts` — `publish` (and `createNoClobber`, both steps for one buffer): the one function
 *    that gives a file its final name (git's `finalize_object_file`), then fsyncs the folder.
 * 3. `Sweep.ts` — `sweepTempFiles`: the one rule for leftovers of a write that died in between.
 *
 * Folders (`Directory.ts`) are created 0700 and fsynced; stored files are opened for reading by
 * `OpenRead.ts` (no-follow, non-blocking, regular files only). This module gathers them so a
 * caller imports one name.
 *
 * @since 0.6.0
 */
export { makeDirectoryDurable, type PublishOptions, syncDirectory } from "./Directory.ts"
export { createNoClobber, placeNoClobber, publish, type PublishMode, type PublishOutcome, removeFile } from "./Publish.ts"
export { DIRECTORY_MODE, FILE_MODE } from "./Step.ts"
export { sweepTempFiles, type SweptTemps } from "./Sweep.ts"
export { isTempName, TEMP_PREFIX, type TempFile, writeTemp, writeTempBytes } from "./TempFile.ts"
