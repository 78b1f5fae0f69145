// GitHubCacheStore over the real @actions/cache, against the test-owned fake results service, in-process.
// The cached file lives outside the workspace, as the action's do: tar stores it as ../<dir>/<file>.
import { createHash, randomBytes } from 'node:crypto'
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { GitHubCacheStore } from '../../src/cache/github.js'
import { CacheError } from '../../src/cache/store.js'
import { inActionsEnv } from '../helpers/actions-env.js'
import { startResultsService, type ResultsService } from '../helpers/results-service.js'

const MiB = 1024 * 1024

let service: ResultsService
let root: string
let workspace: string
let file: string
const store = new GitHubCacheStore()

beforeAll(async () => {
  service = await startResultsService()
  root = await mkdtemp(join(tmpdir(), 'cache-store-e2e-'))
  workspace = join(root, 'workspace')
  file = join(root, 'caches', 'image.tar')
  await mkdir(workspace)
  await mkdir(join(root, 'caches'))
})
afterAll(async () => {
  await service?.close()
  if (root) await rm(root, { recursive: true, force: true })
})

/** Writes `MiB` MiB of random bytes (incompressible, so the archive is as big) to the file; its sha256. */
async function newContent(mib = 3): Promise<string> {
  const data = randomBytes(mib * MiB)
  await writeFile(file, data)
  return sha256(data)
}
const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex')
const fileHash = async (): Promise<string> => sha256(await readFile(file).catch(() => Buffer.alloc(0)))
const exists = (path: string): Promise<boolean> =>
  stat(path).then(
    () => true,
    () => false
  )

/**
 * Runs `fn` as a job step would; returns what it returned, or the error it threw, its stdout (workflow
 * commands) and the service's log of the requests it made.
 */
async function step<T>(fn: () => Promise<T>): Promise<{ value: T | Error; log: string; requests: string[] }> {
  const before = service.requests.length
  const { value, log } = await inActionsEnv(service, workspace, () => fn().catch((error: Error) => error))
  return { value, log, requests: service.requests.slice(before) }
}

describe('GitHubCacheStore', () => {
  it('is available with a results service and a token', () => {
    const env = service.env(workspace, root)
    expect(GitHubCacheStore.available(env)).toBe(true)
    expect(GitHubCacheStore.available({ ...env, ACTIONS_RUNTIME_TOKEN: '' })).toBe(false)
    expect(
      GitHubCacheStore.available({ ACTIONS_RUNTIME_TOKEN: 't', ACTIONS_CACHE_URL: 'https://ghes/' })
    ).toBe(true)
    expect(GitHubCacheStore.available({})).toBe(false)
  })

  it('saves, then restores the exact key', async () => {
    const saved = await newContent()
    expect((await step(() => store.save(file, 'image-a'))).value).toBe(true)
    await writeFile(file, 'stale')
    expect((await step(() => store.restore(file, 'image-a', ['image-']))).value).toBe('image-a')
    expect(await fileHash()).toBe(saved)
    expect(service.caches.find(entry => entry.key === 'image-a')?.size).toBeGreaterThan(3 * MiB)
  })

  it('restores the newest entry for a restore key', async () => {
    await newContent()
    expect((await step(() => store.save(file, 'go-1'))).value).toBe(true)
    const newest = await newContent()
    expect((await step(() => store.save(file, 'go-2'))).value).toBe(true)
    await rm(file)
    const { value, log } = await step(() => store.restore(file, 'go-3', ['other-', 'go-']))
    expect(value).toBe('go-2')
    expect(log).toContain('Cache hit for restore-key: go-2')
    expect(await fileHash()).toBe(newest)
  })

  it('answers false when the key exists, and keeps the first entry', async () => {
    const first = await newContent(1)
    expect((await step(() => store.save(file, 'once'))).value).toBe(true)
    await newContent(1)
    const { value, log, requests } = await step(() => store.save(file, 'once'))
    expect(value).toBe(false)
    expect(log).toContain('another job may be creating this cache')
    // Refused as existing, then found by the lookup that tells that from a refusal.
    expect(requests).toEqual(['POST CreateCacheEntry 409', 'POST GetCacheEntryDownloadURL 200'])
    expect((await step(() => store.restore(file, 'once'))).value).toBe('once')
    expect(await fileHash()).toBe(first)
  })

  it('misses with nothing left at the path', async () => {
    await writeFile(file, 'stale')
    expect((await step(() => store.restore(file, 'absent', ['absent-']))).value).toBeUndefined()
    expect(await exists(file)).toBe(false)
  })

  it('turns bad arguments into CacheErrors naming the key and the store', async () => {
    await newContent(1)
    const comma = (await step(() => store.save(file, 'a,b'))).value
    expect(comma).toBeInstanceOf(CacheError)
    expect((comma as Error).message).toMatch(/^cannot save the cache entry a,b in the GitHub Actions cache: /)
    const relative = (await step(() => store.restore('image.tar', 'k'))).value
    expect(relative).toBeInstanceOf(CacheError)
    expect((relative as Error).message).toContain('the path image.tar is not absolute')
    const missing = (await step(() => store.save(join(root, 'nothing'), 'k'))).value
    expect((missing as Error).message).toContain(`${join(root, 'nothing')} is not a file`)
  })

  it('survives a service that keeps failing lookups, then recovers', async () => {
    const saved = await newContent(1)
    expect((await step(() => store.save(file, 'flaky'))).value).toBe(true)
    // 5 attempts with backoff: about 30 s.
    service.failNext('GetCacheEntryDownloadURL', 500, 5)
    // @actions/cache reports a failed lookup as a miss, with a warning.
    const { value, log, requests } = await step(() => store.restore(file, 'flaky'))
    expect(value).toBeUndefined()
    expect(log).toMatch(/^::warning::Failed to restore: .*\(500\)/m)
    expect(await exists(file)).toBe(false)
    expect(requests).toEqual(Array(5).fill('POST GetCacheEntryDownloadURL 500'))
    expect((await step(() => store.restore(file, 'flaky'))).value).toBe('flaky')
    expect(await fileHash()).toBe(saved)
  }, 120_000)

  it.each<[string, () => void, string]>([
    // @actions/cache takes any refused reservation for "another job may be creating this cache".
    ['rate limited', () => service.failNext('CreateCacheEntry', 429), 'POST CreateCacheEntry 429'],
    // 5 attempts with backoff: about 25 s.
    [
      'failing to finalize',
      () => service.failNext('FinalizeCacheEntryUpload', 500, 5),
      'POST FinalizeCacheEntryUpload 500'
    ]
  ])(
    'throws a CacheError, not "exists already", for a service %s; saves afterwards',
    async (what, fault, served) => {
      await newContent(1)
      const key = `refused-${what.replaceAll(' ', '-')}`
      fault()
      const { value, requests } = await step(() => store.save(file, key))
      expect(requests).toContain(served)
      expect(value).toBeInstanceOf(CacheError)
      expect((value as Error).message).toBe(
        `cannot save the cache entry ${key} in the GitHub Actions cache: ` +
          'the service refused or failed to store it, and a lookup finds no entry under that key'
      )
      expect(service.caches.some(entry => entry.key === key && entry.finalized)).toBe(false)
      expect((await step(() => store.save(file, key))).value).toBe(true)
    },
    60_000
  )

  it('never reports a truncated download as a hit', async () => {
    const saved = await newContent()
    expect((await step(() => store.save(file, 'cut'))).value).toBe(true)
    service.truncateBlobs(true)
    try {
      // @actions/cache reports the dropped connection as a miss, with a warning.
      const { value, log, requests } = await step(() => store.restore(file, 'cut'))
      expect(value).toBeUndefined()
      expect(log).toMatch(/^::warning::Failed to restore: /m)
      expect(requests).toContainEqual(expect.stringMatching(/^GET actions-cache\/\d+ 200 truncated$/))
      expect(await exists(file)).toBe(false)
    } finally {
      service.truncateBlobs(false)
    }
    expect((await step(() => store.restore(file, 'cut'))).value).toBe('cut')
    expect(await fileHash()).toBe(saved)
  })
})
