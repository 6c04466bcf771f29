/**
 * One live boot per owner name (issue 16): a stack built with a name of its own (`owner`)
 * registers its boot as the name's live boot; building another stack of that name while the
 * first still renews it fails with `OwnerInUse` (instead of recovering the first boot's runs).
 * A boot that stopped renewing for two of its renewal intervals is taken over, and a boot on this
 * host whose process is gone (killed) at once.
 * A default name (`host:pid:boot`) is unique to its process and is not registered.
 *
 * @since 0.8.0
 */
import { Effect, Option } from "effect"
import type { DatabaseError } from "../../schema/Errors.ts"
import { OwnerInUse } from "../../schema/RunErrors.ts"
import { hostname } from "node:os"
import { bootIsLive, isDefaultName, type OwnerBoot } from "../domain/Lease.ts"
import type { LogRepositoryShape } from "../seam/LogRepository.ts"
import type { LeaseConfig } from "./LeaseConfig.ts"

const OPERATION = "LogStore.registerOwner"

/** Whether process `pid` of this host runs (EPERM: it runs as another user). */
const processRuns = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM"
  }
}

/** A stored boot is live while it renews, unless it ran on this host in a process that is gone. */
const isLive = (host: string) => (stored: OwnerBoot, now: number): boolean =>
  bootIsLive(stored, now) && !(stored.host === host && stored.pid !== process.pid && !processRuns(stored.pid))

/**
 * Registers this stack's boot; whether it did (a default name, or a database that cannot be
 * written, registers nothing). A lock that outlasts the wait fails the build (`DatabaseError`,
 * retryable): registering is what keeps two live boots of one name apart.
 */
export const register = (repository: LogRepositoryShape, config: LeaseConfig): Effect.Effect<boolean, OwnerInUse | DatabaseError> =>
  isDefaultName(config.owner)
    ? Effect.succeed(false)
    : Effect.suspend(() => {
      const host = hostname()
      return repository.registerBoot(OPERATION, config.owner, { renewalMs: config.renewalMs, host, pid: process.pid }, isLive(host))
    }).pipe(
      Effect.flatMap((live) =>
        Option.isSome(live)
          ? Effect.fail(new OwnerInUse({ owner: live.value.owner, boot: live.value.boot, lastRenewedAt: live.value.renewedAt }))
          : Effect.succeed(true)
      ),
      Effect.catchTag("CorruptRow", (corrupt) => Effect.as(Effect.logWarning(`${corrupt.message}; owner not registered`), false)),
      Effect.catchIf(
        (error): error is DatabaseError => error._tag === "DatabaseError" && !error.isRetryable,
        (error) => Effect.as(Effect.logWarning(`owner ${config.owner.name} not registered: ${error.message}`), false)
      )
    )
