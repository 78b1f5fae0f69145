// The cache quota estimate: a warning with the numbers once a run's entries take half the room the
// store keeps (GitHub's 10 GB per repository, or cache-size-limit), nothing below.
import { describe, expect, it } from 'vitest'
import { GITHUB_CACHE_QUOTA_BYTES, cacheRoom } from '../../../src/cache/quota.js'

const GiB = 1024 ** 3

describe('cacheRoom', () => {
  it('says nothing while the entries take less than half the room', () => {
    const entries = [
      { name: 'kube-cross image', bytes: 2 * GiB },
      { name: 'build cache', bytes: 3 * GiB - 1 }
    ]
    const room = cacheRoom(entries, GITHUB_CACHE_QUOTA_BYTES, 'the GitHub Actions cache')
    expect(room.warning).toBeNull()
    expect(room.bytes).toBe(5 * GiB - 1)
  })

  it('warns from half the room on, with each entry, the sum and its share', () => {
    const entries = [
      { name: 'kube-cross image', bytes: 2 * GiB },
      { name: 'build cache', bytes: 4.1 * GiB }
    ]
    expect(cacheRoom(entries, GITHUB_CACHE_QUOTA_BYTES, 'the GitHub Actions cache').warning).toBe(
      "caches: this run's entries take about 6.1 GiB (kube-cross image 2 GiB, build cache 4.1 GiB), 61 % of " +
        'the 10 GiB that the GitHub Actions cache keeps; beyond it the least recently used entries are ' +
        'evicted, and every matrix leg adds a build cache entry of its own'
    )
  })

  it('leaves out entries this run does not have, and measures against the store’s own room', () => {
    const { warning } = cacheRoom(
      [
        { name: 'kube-cross image', bytes: 0 },
        { name: 'build cache', bytes: 600 * 1024 ** 2 }
      ],
      GiB,
      'the cache directory /cache'
    )
    expect(warning).toContain(
      '(build cache 600 MiB), 59 % of the 1 GiB that the cache directory /cache keeps'
    )
  })
})
