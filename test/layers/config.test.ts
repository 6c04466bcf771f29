// Options and environment that must be refused when the layer is built (issue 16 item 8, issue 19
// item 6): an empty owner name, and a lease time-to-live whose expiry cannot be stored.
import { assert, describe, it } from "@effect/vitest"
import { ConfigProvider, Duration, Effect, Layer } from "effect"
import { LogStoreFile, NerveStoreConfig, NerveStoreLive } from "../../layers/index.ts"
import { LogStore } from "../../src/LogStore.ts"
import { MAX_TIMESTAMP_MS } from "../../schema/Primitives.ts"
import { MAX_LEASE_TTL } from "../../src/logstore/LeaseConfig.ts"
import { join } from "node:path"
import { makeTempDir } from "../support/tempDir.ts"

const ownerName = LogStore.use((log) => Effect.succeed(log.owner.name))

const fromEnv = (env: Record<string, string>) => ConfigProvider.layer(ConfigProvider.fromEnvRecord({ NERVE_DATA_DIR: makeTempDir(), ...env }))

/** Builds the layer and returns why it failed, as `tag field: reason`. */
const buildFailure = <E extends { readonly _tag: string }>(layer: Layer.Layer<LogStore, E>) =>
  Effect.map(Effect.flip(Effect.provide(ownerName, layer)), (error) =>
    error._tag === "InvalidInput" && "field" in error && "reason" in error ? `InvalidInput ${String(error.field)}: ${String(error.reason)}` : error._tag)

describe("the owner name", () => {
  it.effect("an empty NERVE_OWNER is InvalidInput naming the variable, not the default owner", () =>
    Effect.gen(function*() {
      const failure = yield* buildFailure(NerveStoreConfig.pipe(Layer.provide(fromEnv({ NERVE_OWNER: "" }))))
      assert.match(failure, /^InvalidInput NERVE_OWNER: is set but empty/)
      // The same through a flat record provider, whose keys are not split at "_".
      const flat = yield* buildFailure(NerveStoreConfig.pipe(
        Layer.provide(ConfigProvider.layer(ConfigProvider.fromUnknown({ NERVE_DATA_DIR: makeTempDir(), NERVE_OWNER: "" })))
      ))
      assert.match(flat, /^InvalidInput NERVE_OWNER/)
    }))

  it.effect("an unset NERVE_OWNER (even beside another NERVE_OWNER_* variable) still means the default owner", () =>
    Effect.gen(function*() {
      const name = yield* ownerName.pipe(Effect.provide(NerveStoreConfig.pipe(Layer.provide(fromEnv({ NERVE_OWNER_NOTE: "x" })))))
      assert.match(name, /^[^:]+:\d+:[0-9a-f]{16}$/)
      const named = yield* ownerName.pipe(Effect.provide(NerveStoreConfig.pipe(Layer.provide(fromEnv({ NERVE_OWNER: "d1" })))))
      assert.strictEqual(named, "d1")
    }))

  it.effect("an empty or blank owner option is InvalidInput naming `owner`", () =>
    Effect.gen(function*() {
      for (const owner of ["", "   "]) {
        const failure = yield* buildFailure(NerveStoreLive({ dataDir: makeTempDir(), owner }))
        assert.match(failure, /^InvalidInput owner: /)
      }
    }))
})

describe("the lease time-to-live", () => {
  it.effect("a leaseTtl whose expiry could not be stored is InvalidInput when the layer is built, with the bound in the message", () =>
    Effect.gen(function*() {
      const huge: ReadonlyArray<Duration.Input> = [Number.MAX_SAFE_INTEGER, "500000000 weeks", Duration.sum(MAX_LEASE_TTL, Duration.millis(1))]
      for (const leaseTtl of huge) {
        const failure = yield* buildFailure(NerveStoreLive({ dataDir: makeTempDir(), leaseTtl }))
        assert.match(failure, /^InvalidInput leaseTtl: must be at most .* \(31536000000 ms\)/)
        const file = yield* buildFailure(LogStoreFile({ filename: join(makeTempDir(), "nerve.db"), leaseTtl }))
        assert.match(file, /^InvalidInput leaseTtl: /)
      }
      const env = yield* buildFailure(NerveStoreConfig.pipe(Layer.provide(fromEnv({ NERVE_LEASE_TTL: "500000000 weeks" }))))
      assert.match(env, /^InvalidInput leaseTtl: must be at most/)
    }))

  it.effect("the longest lease is accepted, and its expiry is a valid timestamp even near the end of time", () =>
    Effect.gen(function*() {
      const name = yield* ownerName.pipe(Effect.provide(NerveStoreLive({ dataDir: makeTempDir(), leaseTtl: MAX_LEASE_TTL })))
      assert.isString(name)
      // The bound leaves room for every clock before year 275759.
      assert.isTrue(Date.UTC(275759, 0, 1) + Duration.toMillis(MAX_LEASE_TTL) <= MAX_TIMESTAMP_MS)
    }))
})
