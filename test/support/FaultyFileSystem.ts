// A Node file system that fails chosen calls on cue, for fault-injection suites (blob store,
// archive, data directory). A test holds a `Faults` controller, arms a fault (which call, which
// errno, optionally only for matching paths, optionally only N times), runs the code under test,
// disarms it and checks that a retry succeeds.
//
//   const faults = makeFaults()
//   const platform = FaultyFileSystem(faults)           // Layer<FileSystem | Path>
//   faults.arm({ call: "file.writeAll", errno: "ENOSPC" })
//
// `file.*` calls are the methods of a handle returned by `open` (writeAll, sync, ...).
//
// `FaultyFiles(faults)` also wraps the direct `node:fs` calls (`NodeFiles`) that every file step of
// `src/fs/` makes (blobs and day files), with the same controller, under the same names: `open` (with its flag, "wx" for a new temp file, "r"
// for a folder or a blob), `file.writeAll`, `file.sync`, `file.read`, `file.stat`, `link`, `rename`,
// `remove` (unlink), `makeDirectory` (mkdir), `stat` (lstat), `readDirectory` (readdir) and
// `readFile` (which also checks `open` "r" and `file.read`, the calls it makes). A fault
// armed once therefore fires whichever path the code under test takes.
import { NodeServices } from "@effect/platform-node"
import { Effect, FileSystem, Layer, type Path } from "effect"
import * as PlatformError from "effect/PlatformError"
import { constants } from "node:fs"
import { type NodeFileHandle, NodeFiles, nodeFiles, type NodeFilesShape } from "../../src/fs/NodeFiles.ts"

/** The errno codes a fault can carry, with the `PlatformError` tag Node's own mapping gives them. */
const tagOf = {
  ENOSPC: "Unknown",
  EDQUOT: "Unknown",
  EACCES: "PermissionDenied",
  EPERM: "PermissionDenied",
  EROFS: "Unknown",
  EIO: "Unknown",
  EEXIST: "AlreadyExists",
  ENOENT: "NotFound",
  ENOTDIR: "Unknown",
  EMFILE: "Unknown",
  EXDEV: "Unknown",
  ENOTSUP: "Unknown"
} as const satisfies Record<string, PlatformError.SystemErrorTag>
export type Errno = keyof typeof tagOf

/** A call that can fail: a `FileSystem` method, or `file.<method>` of an opened file. */
export type FaultyCall =
  | "access" | "chmod" | "copyFile" | "link" | "makeDirectory" | "makeTempDirectory" | "open" | "readDirectory"
  | "readFile" | "readLink" | "realPath" | "remove" | "rename" | "stat" | "symlink" | "truncate" | "utimes"
  | "writeFile" | "file.write" | "file.writeAll" | "file.sync" | "file.read" | "file.stat" | "file.truncate"

export interface Fault {
  readonly call: FaultyCall
  readonly errno: Errno
  /** Only calls whose path contains this text (for `file.*`, the path it was opened with). */
  readonly pathIncludes?: string
  /** Only calls whose path ends with this text (e.g. a folder's own path, not the files inside it). */
  readonly pathEndsWith?: string
  /** Only calls whose `open` flag is this (for `open`), e.g. `"wx"` for a new temp file. */
  readonly flag?: string
  /** Fail this many matching calls, then pass (default: until disarmed). */
  readonly times?: number
}

/** The controller a test arms and disarms; `injected` counts the failures it caused. */
export interface Faults {
  readonly arm: (fault: Fault) => void
  readonly disarm: () => void
  readonly injected: () => number
  /** Internal: whether this call fails now (consumes one of `times`). */
  readonly check: (call: FaultyCall, path: string, flag?: string) => Errno | undefined
}

export const makeFaults = (): Faults => {
  let armed: Array<{ fault: Fault; left: number }> = []
  let injected = 0
  return {
    arm: (fault) => void armed.push({ fault, left: fault.times ?? Number.POSITIVE_INFINITY }),
    disarm: () => void (armed = []),
    injected: () => injected,
    check: (call, path, flag) => {
      const hit = armed.find(({ fault, left }) =>
        left > 0 && fault.call === call && (fault.pathIncludes === undefined || path.includes(fault.pathIncludes)) &&
        (fault.pathEndsWith === undefined || path.endsWith(fault.pathEndsWith)) &&
        (fault.flag === undefined || fault.flag === flag)
      )
      if (hit === undefined) return undefined
      hit.left--
      injected++
      return hit.fault.errno
    }
  }
}

const failure = (errno: Errno, method: string, path: string) => {
  const cause = Object.assign(new Error(`${errno}: injected fault, ${method} '${path}'`), { code: errno })
  return PlatformError.systemError({ _tag: tagOf[errno], module: "FileSystem", method, pathOrDescriptor: path, cause })
}

const wrapFile = (file: FileSystem.File, path: string, faults: Faults): FileSystem.File => {
  const guard = <A>(call: FaultyCall, effect: Effect.Effect<A, PlatformError.PlatformError>) =>
    Effect.suspend(() => {
      const errno = faults.check(call, path)
      return errno === undefined ? effect : Effect.fail(failure(errno, call, path))
    })
  return {
    ...file,
    write: (buffer) => guard("file.write", file.write(buffer)),
    writeAll: (buffer) => guard("file.writeAll", file.writeAll(buffer)),
    sync: guard("file.sync", file.sync),
    read: (buffer, options) => guard("file.read", file.read(buffer, options)),
    stat: guard("file.stat", file.stat),
    truncate: (length) => guard("file.truncate", file.truncate(length))
  }
}

/** The error Node would throw for `errno`. */
const nodeFailure = (errno: Errno, syscall: string, path: string) =>
  Object.assign(new Error(`${errno}: injected fault, ${syscall} '${path}'`), { code: errno, syscall, path })

/** A numeric open flag as the string a fault's `flag` names ("r" when it only reads). */
const flagName = (flags: string | number): string => {
  if (typeof flags === "string") return flags
  const writes = (flags & (constants.O_WRONLY | constants.O_RDWR)) !== 0
  if (!writes) return "r"
  return (flags & constants.O_EXCL) !== 0 ? "wx" : "w"
}

const wrapHandle = (handle: NodeFileHandle, path: string, faults: Faults): NodeFileHandle => {
  const guard = <A>(call: FaultyCall, syscall: string, run: () => Promise<A>): Promise<A> => {
    const errno = faults.check(call, path)
    return errno === undefined ? run() : Promise.reject(nodeFailure(errno, syscall, path))
  }
  return {
    write: (buffer, offset, length, position) => guard("file.writeAll", "write", () => handle.write(buffer, offset, length, position)),
    read: (buffer, offset, length, position) => guard("file.read", "read", () => handle.read(buffer, offset, length, position)),
    sync: () => guard("file.sync", "fsync", () => handle.sync()),
    stat: () => guard("file.stat", "fstat", () => handle.stat()),
    close: () => handle.close()
  }
}

/** `node:fs/promises` (as `NodeFiles`) with `faults` injected, under the `FileSystem` call names. */
export const faultyNodeFiles = (faults: Faults, files: NodeFilesShape = nodeFiles): NodeFilesShape => {
  const guard = <A>(call: FaultyCall, syscall: string, path: string, run: () => Promise<A>, flag?: string): Promise<A> => {
    const errno = faults.check(call, path, flag)
    return errno === undefined ? run() : Promise.reject(nodeFailure(errno, syscall, path))
  }
  return {
    open: (path, flags, mode) =>
      guard("open", "open", path, async () => wrapHandle(await files.open(path, flags, mode), path, faults), flagName(flags)),
    link: (from, to) => guard("link", "link", to, () => files.link(from, to)),
    unlink: (path) => guard("remove", "unlink", path, () => files.unlink(path)),
    rename: (from, to) => guard("rename", "rename", to, () => files.rename(from, to)),
    mkdir: (path, options) => guard("makeDirectory", "mkdir", path, () => files.mkdir(path, options)),
    lstat: (path) => guard("stat", "lstat", path, () => files.lstat(path)),
    lstatSync: (path) => {
      const errno = faults.check("stat", path)
      if (errno !== undefined) throw nodeFailure(errno, "lstat", path)
      return files.lstatSync(path)
    },
    readdir: (path, options) => guard("readDirectory", "scandir", path, () => files.readdir(path, options)),
    // A whole-file read is an open ("r") and reads: faults armed on either fire here too.
    readFile: (path, options, callback) => {
      const errno = faults.check("open", path, "r") ?? faults.check("file.read", path) ?? faults.check("readFile", path)
      if (errno === undefined) files.readFile(path, options, callback)
      else queueMicrotask(() => callback(nodeFailure(errno, "read", path)))
    }
  }
}

/**
 * The Node file system (and `Path`) with `faults` injected, and the direct calls (`NodeFiles`)
 * too: what every file step makes, for blobs and day files. One controller drives both.
 */
export const FaultyFiles = (faults: Faults): Layer.Layer<FileSystem.FileSystem | Path.Path | NodeFiles> =>
  Layer.merge(FaultyFileSystem(faults), Layer.succeed(NodeFiles, faultyNodeFiles(faults)))

/**
 * The Node file system (and `Path`) with `faults` injected: for code on the Effect `FileSystem`
 * (data-directory setup). The file steps of `src/fs/` never use it: provide `FaultyFiles` for them.
 */
export const FaultyFileSystem = (faults: Faults): Layer.Layer<FileSystem.FileSystem | Path.Path> =>
  Layer.effect(
    FileSystem.FileSystem,
    Effect.map(FileSystem.FileSystem, (fs) => {
      const guard = <A, R>(call: FaultyCall, path: string, effect: Effect.Effect<A, PlatformError.PlatformError, R>, flag?: string) =>
        Effect.suspend(() => {
          const errno = faults.check(call, path, flag)
          return errno === undefined ? effect : Effect.fail(failure(errno, call, path))
        })
      return FileSystem.FileSystem.of({
        ...fs,
        access: (path, options) => guard("access", path, fs.access(path, options)),
        chmod: (path, mode) => guard("chmod", path, fs.chmod(path, mode)),
        copyFile: (from, to) => guard("copyFile", to, fs.copyFile(from, to)),
        link: (from, to) => guard("link", to, fs.link(from, to)),
        makeDirectory: (path, options) => guard("makeDirectory", path, fs.makeDirectory(path, options)),
        open: (path, options) =>
          guard("open", path, Effect.map(fs.open(path, options), (file) => wrapFile(file, path, faults)), options?.flag),
        readDirectory: (path, options) => guard("readDirectory", path, fs.readDirectory(path, options)),
        readFile: (path) => guard("readFile", path, fs.readFile(path)),
        readLink: (path) => guard("readLink", path, fs.readLink(path)),
        realPath: (path) => guard("realPath", path, fs.realPath(path)),
        remove: (path, options) => guard("remove", path, fs.remove(path, options)),
        rename: (from, to) => guard("rename", to, fs.rename(from, to)),
        stat: (path) => guard("stat", path, fs.stat(path)),
        symlink: (from, to) => guard("symlink", to, fs.symlink(from, to)),
        truncate: (path, length) => guard("truncate", path, fs.truncate(path, length)),
        utimes: (path, atime, mtime) => guard("utimes", path, fs.utimes(path, atime, mtime)),
        writeFile: (path, data, options) => guard("writeFile", path, fs.writeFile(path, data, options))
      })
    })
  ).pipe(Layer.provideMerge(NodeServices.layer))
