// Caches kept between runs (the kube-cross image archive, a tar of the Go build cache): the GitHub
// Actions cache service in a workflow, a directory on the CLI and on self-hosted runners. An entry is
// one file under a key; the same key is never saved twice, so keys must name their content.
import { ReleaseError } from '../errors.js'

export interface CacheStore {
  /** Describes the store for logs and errors. */
  readonly description: string
  /** The room the store keeps entries in; beyond it, it evicts the least recently used. */
  readonly quotaBytes: number
  /**
   * Restores the entry for `key` (exact) or, failing that, the newest entry whose key starts with one of
   * `restoreKeys` (in order), to the file `path`. Returns the matched key, or undefined on a miss.
   * A file already at `path` is replaced on a hit and removed otherwise, so that a partial download
   * never passes for a hit.
   */
  restore(path: string, key: string, restoreKeys?: readonly string[]): Promise<string | undefined>
  /**
   * Saves the file at `path` under `key`. True when saved; false only when an entry with that key exists
   * already (another job saved it). Throws CacheError when the entry was not stored for any other reason,
   * such as the store refusing or failing the write.
   */
  save(path: string, key: string): Promise<boolean>
}

/** A cache that could not be read or written. Callers log it as a warning: a cache never fails a build. */
export class CacheError extends ReleaseError {
  constructor(store: CacheStore, action: 'restore' | 'save', key: string, reason: unknown) {
    const detail = reason instanceof Error ? reason.message : String(reason)
    super(`cannot ${action} the cache entry ${key} in ${store.description}: ${detail}`, { cause: reason })
  }
}
