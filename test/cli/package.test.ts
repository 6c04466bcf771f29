// The CLI as a project that installs the package gets it: `npm pack`, the tarball unpacked into a
// fresh project's node_modules (its dependencies linked from ours, so no registry is needed), and
// the `bin` named in the packed package.json run as a program, without the `source` condition.
// Needs `dist/` (built by `npm ci`'s prepare and by CI before the tests).
import { assert, describe, it } from "@effect/vitest"
import { execFileSync, spawnSync } from "node:child_process"
import { chmodSync, existsSync, mkdirSync, readFileSync, symlinkSync } from "node:fs"
import { join } from "node:path"
import { makeTempDir } from "../support/tempDir.ts"
import { ROOT } from "./run.ts"

describe("the installed package", () => {
  it("npm pack ships the built CLI, and its bin runs in a project that installs it", () => {
    assert.isTrue(existsSync(join(ROOT, "dist", "src", "cli", "main.js")), "dist/ is built (npm ci runs prepare)")
    const work = makeTempDir("nerve-pack-")
    const packed = JSON.parse(execFileSync(
      "npm",
      ["pack", "--json", "--ignore-scripts", "--pack-destination", work],
      // npm turns on Node's compile cache, which would leave a folder in TMPDIR.
      { cwd: ROOT, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"], env: { ...process.env, NODE_DISABLE_COMPILE_CACHE: "1" } }
    )) as ReadonlyArray<{ readonly filename: string; readonly files: ReadonlyArray<{ readonly path: string }> }>
    const tarball = packed[0]
    assert.isDefined(tarball)
    const shipped = new Set(tarball?.files.map((f) => f.path))
    assert.isTrue(shipped.has("dist/src/cli/main.js"))
    assert.isFalse([...shipped].some((path) => path.startsWith("src/") || path.startsWith("test/")), "only dist/ is shipped")

    const project = join(work, "project")
    const installed = join(project, "node_modules", "@uncaged", "nerve-store")
    mkdirSync(installed, { recursive: true })
    execFileSync("tar", ["-xzf", join(work, tarball?.filename ?? ""), "-C", installed, "--strip-components=1"])
    const ours = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { readonly dependencies: Record<string, string> }
    for (const dependency of [...Object.keys(ours.dependencies), "@effect/platform-node-shared"]) {
      const from = join(ROOT, "node_modules", dependency)
      if (!existsSync(from)) continue
      mkdirSync(join(project, "node_modules", dependency, ".."), { recursive: true })
      symlinkSync(from, join(project, "node_modules", dependency))
    }

    const manifest = JSON.parse(readFileSync(join(installed, "package.json"), "utf8")) as { readonly bin: Record<string, string> }
    const bin = join(installed, manifest.bin["nerve-store"] ?? "")
    assert.match(readFileSync(bin, "utf8"), /^#!\/usr\/bin\/env node\n/)
    chmodSync(bin, 0o755)
    // As a shell runs it: the shebang finds `node` on PATH (here, the pinned Node 24).
    const env = { ...process.env, PATH: `${join(process.execPath, "..")}:${process.env.PATH ?? ""}` }
    const help = spawnSync(bin, ["--help"], { cwd: project, env, encoding: "utf8" })
    assert.strictEqual(help.status, 0, help.stderr)
    assert.include(help.stdout, "nerve-store")
    const version = spawnSync(bin, ["--version"], { cwd: project, env, encoding: "utf8" })
    assert.strictEqual(version.status, 0, version.stderr)
    const missing = spawnSync(bin, ["--data-dir", join(work, "none"), "runs", "list"], { cwd: project, env, encoding: "utf8" })
    assert.notStrictEqual(missing.status, 0)
    assert.strictEqual(missing.stderr.trim().split("\n").length, 1, missing.stderr)
    assert.isFalse(existsSync(join(work, "none")))
  }, 120_000)
})
