// The GitHub Actions cache service, through @actions/cache. The library archives the path with tar and
// hashes the path string into the entry's "version", so save and restore must pass the same absolute path.
import * as cache from '@actions/cache'
import { rm, stat } from 'node:fs/promises'
import { isAbsolute } from 'node:path'
import { GITHUB_CACHE_QUOTA_BYTES } from './quota.js'
import { CacheError, type CacheStore } from './store.js'

export class GitHubCacheStore implements CacheStore {
  readonly description = 'the GitHub Actions cache'
  readonly quotaBytes = GITHUB_CACHE_QUOTA_BYTES

  /**
   * Available when the runner gave this step a cache service: the results service (cache v2) or the older
   * ACTIONS_CACHE_URL one (v1, GHES). That is cache.isFeatureAvailable(), read from `env`.
   */
  static available(env: NodeJS.ProcessEnv = process.env): boolean {
    return Boolean(env.ACTIONS_RUNTIME_TOKEN && (env.ACTIONS_RESULTS_URL || env.ACTIONS_CACHE_URL))
  }

  async restore(path: string, key: string, restoreKeys: readonly string[] = []): Promise<string | undefined> {
    try {
      checkPath(path)
      await rm(path, { force: true }) // so that only this restore can make the file appear
      // Service, download and tar failures come back as a miss, possibly after extracting part of the file.
      const matched = await cache.restoreCache([path], key, [...restoreKeys])
      if (matched !== undefined && (await isFile(path))) return matched
      await rm(path, { force: true })
      return undefined
    } catch (error) {
      throw new CacheError(this, 'restore', key, error) // ValidationError (a bad key), or a local failure
    }
  }

  async save(path: string, key: string): Promise<boolean> {
    try {
      checkPath(path)
      if (!(await isFile(path))) throw new Error(`${path} is not a file`)
      if ((await cache.saveCache([path], key)) !== -1) return true
      // -1 is all saveCache returns both when the key exists and when the service refused or failed
      // (429, 5xx, a failed upload or finalize), having logged which. Only a lookup tells them apart.
      if ((await cache.restoreCache([path], key, [], { lookupOnly: true })) === key) return false
      throw new Error('the service refused or failed to store it, and a lookup finds no entry under that key')
    } catch (error) {
      throw new CacheError(this, 'save', key, error)
    }
  }
}

function checkPath(path: string): void {
  // A relative path resolves against the cwd and changes the entry's version: restores would miss.
  if (!isAbsolute(path)) throw new Error(`the path ${path} is not absolute`)
}

async function isFile(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined))?.isFile() ?? false
}
