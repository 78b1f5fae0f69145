// What every stage receives: the parsed config, the run's identity and the logger.
import type { CacheStore } from '../cache/store.js'
import type { Config } from '../config.js'
import type { Ownership } from '../docker/labels.js'
import type { Logger } from '../logger.js'

export interface RunContext {
  readonly config: Config
  readonly log: Logger
  /** runId and treeHash: every Docker object of the run is labelled with them. */
  readonly owner: Ownership
  /** The host environment the upstream variables are read from. */
  readonly env: NodeJS.ProcessEnv
  /** Aborted when the run is cancelled: nothing new starts after that. */
  readonly signal: AbortSignal
  /** Where caches are kept between runs; null: caching is off. */
  readonly cache: CacheStore | null
  /** A directory for cache archives, at a stable path (the GitHub cache's version includes it). */
  readonly cacheFiles: string
}

/** Container names carry the tree and the run, so two runs on one engine never collide. */
export function containerName(ctx: RunContext, role: string): string {
  return `kube-${role}-${ctx.owner.treeHash}-${ctx.owner.runId}`
}
