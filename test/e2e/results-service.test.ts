// The real @actions/cache and @actions/artifact against the test-owned fake results service: in-process
// with blob URLs on 127.0.0.1, and in a child process (DNS preload) with blob URLs on the product-style
// *.blob.core.windows.net host, which sends cache downloads through the Azure SDK's ranged path.
import * as cache from '@actions/cache'
import { execFile } from 'node:child_process'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { roundTrip, type RoundTripReport } from '../helpers/actions-roundtrip.js'
import { inActionsEnv } from '../helpers/actions-env.js'
import { startResultsService, type BlobHost, type ResultsService } from '../helpers/results-service.js'

const HELPERS = resolve(fileURLToPath(import.meta.url), '../../helpers')
const MiB = 1024 * 1024

/** The same round trip in a child process whose dns.lookup maps *.blob.core.windows.net to 127.0.0.1. */
async function roundTripInChild(service: ResultsService, workspace: string) {
  const reportFile = join(workspace, '..', 'report.json')
  const args = [
    '--import',
    pathToFileURL(join(HELPERS, 'azure-dns.mjs')).href,
    join(HELPERS, 'actions-roundtrip.ts'),
    reportFile
  ]
  const env = { ...process.env, ...service.env(workspace, join(workspace, '..', 'runner-temp')) }
  // Asynchronous: the service answers from this process's event loop.
  const { stdout } = await promisify(execFile)(process.execPath, args, {
    cwd: workspace,
    env,
    maxBuffer: 64 * MiB
  })
  return { value: JSON.parse(await readFile(reportFile, 'utf8')) as RoundTripReport, log: stdout }
}

describe.each<[BlobHost, string]>([
  ['ip', 'in-process, blob URLs on 127.0.0.1'],
  ['azure', 'child process, blob URLs on devstoreaccount1.blob.core.windows.net']
])('results service, %s host (%s)', blobHost => {
  let service: ResultsService
  let root: string
  let report: RoundTripReport
  let log: string

  beforeAll(async () => {
    service = await startResultsService({ blobHost })
    root = await mkdtemp(join(tmpdir(), 'results-e2e-'))
    const workspace = join(root, 'workspace')
    await mkdir(workspace)
    const run =
      blobHost === 'ip'
        ? inActionsEnv(service, workspace, () => roundTrip(workspace))
        : roundTripInChild(service, workspace)
    ;({ value: report, log } = await run)
  })

  afterAll(async () => {
    await service?.close()
    if (root) await rm(root, { recursive: true, force: true })
  })

  it('saves caches, refuses a duplicate key and restores by exact key and by restore-key prefix', () => {
    const { cache: c } = report
    expect(c.saved).toBeGreaterThan(0)
    expect(c.duplicate).toBe(-1)
    expect(log).toContain('Unable to reserve cache with key deps-a, another job may be creating this cache')
    expect(c.second).toBeGreaterThan(c.saved)
    expect(c.exact).toEqual({ key: 'deps-a', files: c.expected.a })
    expect(c.prefix).toEqual({ key: 'deps-b', files: c.expected.b })
    expect(c.expected.a['notes.txt']).not.toBe(c.expected.b['notes.txt'])
    expect(service.caches).toEqual([
      { id: c.saved, key: 'deps-a', version: expect.any(String), size: expect.any(Number), finalized: true },
      { id: c.second, key: 'deps-b', version: expect.any(String), size: expect.any(Number), finalized: true }
    ])
    expect(service.caches[0].size).toBeGreaterThan(6 * MiB)
  })

  it('misses on unknown keys and on other paths, and lookupOnly downloads nothing', () => {
    expect(report.cache.miss).toBeNull()
    expect(report.cache.otherPaths).toBeNull()
    expect(report.cache.lookupOnly).toEqual({ key: 'deps-b', files: {} })
  })

  it('downloads caches the way the blob host implies', () => {
    const cacheGets = service.requests.filter(r => /^(GET|HEAD) actions-cache\//.test(r))
    if (blobHost === 'azure') {
      // Azure SDK: properties first, then 4 MiB slices (the archive is > 6 MiB).
      expect(cacheGets.filter(r => r.startsWith('HEAD')).length).toBeGreaterThanOrEqual(2)
      expect(cacheGets.filter(r => r.endsWith(' 206')).length).toBeGreaterThanOrEqual(4)
    } else {
      expect(cacheGets).toHaveLength(2)
      expect(cacheGets.every(r => r.startsWith('GET') && r.endsWith(' 200'))).toBe(true)
    }
    // Archives under 128 MiB go up as one Put Blob each.
    expect(service.requests.filter(r => r.startsWith('PUT actions-cache/'))).toHaveLength(2)
  })

  it('uploads, lists, gets and downloads a zipped artifact with a matching digest', () => {
    const { artifact: a } = report
    expect(a.uploaded.id).toBeGreaterThan(0)
    expect(a.uploaded.size).toBeGreaterThan(9 * MiB)
    expect(a.uploaded.digest).toMatch(/^[0-9a-f]{64}$/)
    const release = {
      id: a.uploaded.id,
      name: 'release',
      size: a.uploaded.size,
      digest: `sha256:${a.uploaded.digest}`
    }
    expect(a.listed).toEqual([release])
    expect(a.got).toEqual(release)
    expect(a.downloaded).toEqual({ digestMismatch: false, files: a.expected })
    expect(Object.keys(a.expected).sort()).toEqual(['SHA256SUMS', 'kubernetes.tar.gz'])
    // > 8 MiB: the zip went up as several blocks and one block list.
    expect(
      service.requests.filter(r => /^PUT actions-results\/.*\.zip\?comp=block 201$/.test(r)).length
    ).toBeGreaterThanOrEqual(2)
    expect(service.requests).toContainEqual(
      expect.stringMatching(/^PUT actions-results\/.*\.zip\?comp=blocklist 201$/)
    )
  })

  it('round-trips a raw file with skipArchive under its own name', () => {
    const { raw } = report.artifact
    expect(raw.uploaded.digest).toBe(raw.expected)
    expect(raw.uploaded.size).toBe(9 * MiB)
    expect(raw.downloaded).toEqual({ digestMismatch: false, files: { 'kubernetes.tar.gz': raw.expected } })
  })

  it('refuses a second artifact with the same name, and deletes one', () => {
    const { artifact: a } = report
    expect(a.duplicateError).toMatch(/409/)
    expect(a.deletedId).toBe(a.uploaded.id)
    expect(a.listedAfterDelete).toEqual(['kubernetes.tar.gz'])
    expect(a.getAfterDelete).toMatch(/ArtifactNotFoundError/)
    expect(service.artifacts).toEqual([
      {
        id: a.raw.uploaded.id,
        name: 'kubernetes.tar.gz',
        size: 9 * MiB,
        digest: `sha256:${a.raw.expected}`,
        finalized: true
      }
    ])
  })
})

describe('results service fault injection', () => {
  let service: ResultsService
  let root: string
  let workspace: string

  beforeAll(async () => {
    service = await startResultsService()
    root = await mkdtemp(join(tmpdir(), 'results-faults-'))
    workspace = join(root, 'workspace')
    await mkdir(workspace)
    await writeFile(join(workspace, 'f.txt'), 'data\n')
  })
  afterAll(async () => {
    await service?.close()
    if (root) await rm(root, { recursive: true, force: true })
  })

  it('answers injected errors as JSON, then recovers', async () => {
    const { value } = await inActionsEnv(service, workspace, async () => {
      service.failNext('CreateCacheEntry', 429) // RateLimitError: not retried
      const limited = await cache.saveCache(['f.txt'], 'k')
      const saved = await cache.saveCache(['f.txt'], 'k')
      return { limited, saved }
    })
    expect(value.limited).toBe(-1)
    expect(value.saved).toBeGreaterThan(0)
    expect(service.requests.filter(r => r.startsWith('POST CreateCacheEntry'))).toEqual([
      'POST CreateCacheEntry 429',
      'POST CreateCacheEntry 200'
    ])
  })

  it('serves truncated blobs while asked to', async () => {
    const { value } = await inActionsEnv(service, workspace, async () => {
      service.truncateBlobs(true) // half an archive: tar fails, which restoreCache reports as a miss
      const cut = await cache.restoreCache(['f.txt'], 'k')
      service.truncateBlobs(false)
      const whole = await cache.restoreCache(['f.txt'], 'k')
      return { cut, whole }
    })
    expect(value.cut).toBeUndefined()
    expect(value.whole).toBe('k')
    expect(service.requests.filter(r => r.startsWith('GET actions-cache/'))).toHaveLength(2)
  })

  it('rejects requests without the minted token', async () => {
    const res = await fetch(
      `${service.url}twirp/github.actions.results.api.v1.CacheService/CreateCacheEntry`,
      {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: '{}'
      }
    )
    expect(res.status).toBe(401)
    expect(await res.json()).toMatchObject({ code: 'unauthenticated' })
  })
})
