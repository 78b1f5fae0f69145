// How much of its cache's room a release takes: GitHub keeps 10 GB per repository and evicts the
// least recently used entries beyond it, so a release whose entries approach that finds its own
// entries gone in the next run. The log says so before it happens, with the numbers.
import { formatBytes } from '../progress.js'

/** GitHub's cache room per repository: 10 GB (taken as GiB, the larger reading). */
export const GITHUB_CACHE_QUOTA_BYTES = 10 * 1024 ** 3

/** The share of the room from which a run's entries are worth a warning. */
export const QUOTA_WARNING_SHARE = 0.5

export interface CacheEntrySize {
  /** What the entry holds, for the message: "kube-cross image", "build cache". */
  readonly name: string
  readonly bytes: number
}

/** How much of the store's room this run's entries take, with the warning when it is much. */
export interface CacheRoom {
  readonly bytes: number
  readonly quotaBytes: number
  readonly warning: string | null
}

/**
 * How much room the entries take, with a warning once they take QUOTA_WARNING_SHARE of it or more.
 * Each leg of a matrix keeps a build cache entry of its own: a release takes that many more.
 */
export function cacheRoom(entries: readonly CacheEntrySize[], quotaBytes: number, store: string): CacheRoom {
  const bytes = entries.reduce((sum, entry) => sum + entry.bytes, 0)
  if (bytes < QUOTA_WARNING_SHARE * quotaBytes) return { bytes, quotaBytes, warning: null }
  const parts = entries.filter(entry => entry.bytes > 0).map(e => `${e.name} ${formatBytes(e.bytes)}`)
  const share = Math.round((100 * bytes) / quotaBytes)
  const warning =
    `caches: this run's entries take about ${formatBytes(bytes)} (${parts.join(', ')}), ${share} % of the ` +
    `${formatBytes(quotaBytes)} that ${store} keeps; beyond it the least recently used entries are evicted, ` +
    `and every matrix leg adds a build cache entry of its own`
  return { bytes, quotaBytes, warning }
}
