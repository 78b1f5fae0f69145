// Which cache backend a run uses, and where its archives are written.
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { CacheConfig } from '../config.js'
import type { Logger } from '../logger.js'
import { GitHubCacheStore } from './github.js'
import { LocalCacheStore, defaultCacheDir } from './local.js'
import type { CacheStore } from './store.js'

export interface CacheChoice {
  readonly store: CacheStore | null
  /** Archives are written here; a stable path, because the GitHub cache's version includes it. */
  readonly archiveDir: string
}

/**
 * In a workflow: a `cache-dir` if given (self-hosted runners), else the GitHub cache service. On the
 * CLI: `cache-dir`, else the user's cache directory.
 */
export function chooseCache(
  config: CacheConfig,
  env: NodeJS.ProcessEnv,
  log: Logger,
  inWorkflow: boolean
): CacheChoice {
  // Not RUNNER_TEMP: the GitHub cache's version hashes this path, and it must match across runners.
  const archiveDir = join(tmpdir(), 'kube-release-cache')
  if (!config.enabled) return { store: null, archiveDir }
  if (config.dir || !inWorkflow) {
    return {
      store: new LocalCacheStore(config.dir ?? defaultCacheDir(env), { maxBytes: config.maxBytes, log }),
      archiveDir
    }
  }
  if (GitHubCacheStore.available(env)) return { store: new GitHubCacheStore(), archiveDir }
  log.warning(
    'caching is off: this step has no access to the cache service (set cache-dir to use a directory)'
  )
  return { store: null, archiveDir }
}
