// The real @actions/cache and @actions/artifact against the test-owned fake results service: in-process
// with blob URLs on 127.0.0.1, and in a child process (DNS preload) with blob URLs on the product-style
// *.blob.core.windows.net host, which sends cache downloads through the Azure SDK's ranged path.
import * as cache from '@actions/cache'
import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
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

const TWIRP = 'twirp/github.actions.results.api.v1.'

/** Calls a Twirp method of `service` as the libraries do, with the minted token. */
function twirp(service: ResultsService, route: string, body: unknown, init: RequestInit = {}) {
  return fetch(`${service.url}${TWIRP}${route}`, {
    method: 'POST',
    headers: {
      'Content-Type': 'application/json',
      Authorization: `Bearer ${service.env('', '').ACTIONS_RUNTIME_TOKEN}`
    },
    body: JSON.stringify(body),
    ...init
  })
}

/** The answer of a Twirp method that must succeed. */
async function call(service: ResultsService, route: string, body: unknown): Promise<Record<string, string>> {
  const res = await twirp(service, route, body)
  expect(res.status, route).toBe(200)
  return (await res.json()) as Record<string, string>
}

/** Stores `data` as a finalized cache entry through the service's own signed URLs; its download URL. */
async function cacheEntry(service: ResultsService, key: string, data: Buffer): Promise<string> {
  const entry = { key, version: 'v' }
  const { signed_upload_url } = await call(service, 'CacheService/CreateCacheEntry', entry)
  expect((await fetch(signed_upload_url, { method: 'PUT', body: data })).status).toBe(201)
  const finalized = { ...entry, size_bytes: String(data.length) }
  expect(await call(service, 'CacheService/FinalizeCacheEntryUpload', finalized)).toMatchObject({ ok: true })
  return (await call(service, 'CacheService/GetCacheEntryDownloadURL', entry)).signed_download_url
}

/** The blob endpoint's error code (x-ms-error-code) for a GET of `url`, or its status when it succeeds. */
async function blobGet(url: string): Promise<number | string> {
  const res = await fetch(url)
  await res.arrayBuffer()
  return res.headers.get('x-ms-error-code') ?? res.status
}

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

  it('cuts truncated downloads off mid-body, which the cache library takes for a miss', async () => {
    const { value, log } = await inActionsEnv(service, workspace, async () => {
      service.truncateBlobs(true)
      const cut = await cache.restoreCache(['f.txt'], 'k')
      service.truncateBlobs(false)
      const whole = await cache.restoreCache(['f.txt'], 'k')
      return { cut, whole }
    })
    expect(value.cut).toBeUndefined()
    expect(log).toMatch(/::warning::Failed to restore: /)
    expect(value.whole).toBe('k')
    expect(service.requests.filter(r => r.startsWith('GET actions-cache/'))).toEqual([
      expect.stringMatching(/ 200 truncated$/),
      expect.stringMatching(/ 200$/)
    ])
  })

  it('sends the full Content-Length, part of the body, then drops the connection', async () => {
    const data = randomBytes(256 * 1024)
    const url = await cacheEntry(service, 'cut-off', data)
    service.truncateBlobs(true)
    try {
      const res = await fetch(url)
      expect(res.status).toBe(200)
      expect(res.headers.get('content-length')).toBe(String(data.length))
      await expect(res.arrayBuffer()).rejects.toThrow(/terminated/)
    } finally {
      service.truncateBlobs(false)
    }
    expect(Buffer.from(await (await fetch(url)).arrayBuffer())).toEqual(data)
  })

  it('rejects requests without the minted token', async () => {
    const res = await twirp(
      service,
      'CacheService/CreateCacheEntry',
      {},
      { headers: { 'Content-Type': 'application/json' } }
    )
    expect(res.status).toBe(401)
    expect(await res.json()).toMatchObject({ code: 'unauthenticated' })
  })

  it('routes by service and method, and answers anything else with a JSON 404', async () => {
    const asked = service.requests.length
    const misses = [
      await twirp(service, 'CacheService/NoSuchMethod', {}),
      await twirp(service, 'ArtifactService/CreateCacheEntry', {}), // a cache method on the artifact service
      await twirp(service, 'NoSuchService/CreateCacheEntry', {}),
      await twirp(service, 'CacheService/CreateCacheEntry', undefined, { method: 'GET' }),
      await fetch(`${service.url}devstoreaccount1/actions-cache/1`, { method: 'DELETE' }),
      await fetch(`${service.url}devstoreaccount1/actions-cache/1?comp=appendblock`, { method: 'PUT' }),
      await fetch(`${service.url}elsewhere`)
    ]
    for (const res of misses) {
      expect(res.status).toBe(404)
      expect(await res.json()).toMatchObject({
        code: 'bad_route',
        msg: expect.stringMatching(/^no route for /)
      })
    }
    expect(service.requests.slice(asked)).toEqual([
      `POST /${TWIRP}CacheService/NoSuchMethod 404`,
      `POST /${TWIRP}ArtifactService/CreateCacheEntry 404`,
      `POST /${TWIRP}NoSuchService/CreateCacheEntry 404`,
      `GET /${TWIRP}CacheService/CreateCacheEntry 404`,
      'DELETE /devstoreaccount1/actions-cache/1 404',
      'PUT /devstoreaccount1/actions-cache/1 404',
      'GET /elsewhere 404'
    ])
    expect((await twirp(service, 'ArtifactService/ListArtifacts', {})).status).toBe(200)
  })
})

describe('results service signed URLs', () => {
  const lifetime = 60_000
  let now = Date.now()
  let service: ResultsService

  beforeAll(async () => {
    service = await startResultsService({ clock: () => now, signedUrlLifetimeMs: lifetime })
  })
  afterAll(async () => {
    await service?.close()
  })

  it('serves a blob through its own URL, and refuses a URL with anything changed', async () => {
    const url = await cacheEntry(service, 'signed', Buffer.from('signed data'))
    expect(await blobGet(url)).toBe(200)
    const changed = (edit: (u: URL) => void): string => {
      const copy = new URL(url)
      edit(copy)
      return copy.href
    }
    const sig = new URL(url).searchParams.get('sig') ?? ''
    const later = new Date(now + 10 * lifetime).toISOString().replace(/\.\d+Z$/, 'Z')
    expect(await blobGet(changed(u => u.searchParams.set('sig', `${sig.slice(1)}${sig[0]}`)))).toBe(
      'AuthenticationFailed'
    )
    expect(await blobGet(changed(u => u.searchParams.delete('sig')))).toBe('AuthenticationFailed')
    expect(await blobGet(changed(u => u.searchParams.set('se', later)))).toBe('AuthenticationFailed')
    expect(await blobGet(changed(u => u.searchParams.set('sp', 'rcw')))).toBe('AuthenticationFailed')
    expect(await blobGet(changed(u => (u.pathname = u.pathname.replace(/\d+$/, '999'))))).toBe(
      'AuthenticationFailed'
    )
  })

  it('refuses an upload URL for reading and a download URL for writing', async () => {
    const created = await call(service, 'CacheService/CreateCacheEntry', { key: 'rights', version: 'v' })
    expect(await blobGet(created.signed_upload_url)).toBe('AuthorizationPermissionMismatch')
    const download = await cacheEntry(service, 'rights-read', Buffer.from('x'))
    const put = await fetch(download, { method: 'PUT', body: 'overwrite' })
    expect([put.status, put.headers.get('x-ms-error-code')]).toEqual([403, 'AuthorizationPermissionMismatch'])
  })

  it('refuses a URL once it has expired, and hands out fresh ones', async () => {
    const url = await cacheEntry(service, 'expiring', Buffer.from('short-lived'))
    now += lifetime - 2000
    expect(await blobGet(url)).toBe(200)
    now += 2000
    const res = await fetch(url)
    expect(res.status).toBe(403)
    expect(await res.text()).toContain('the signed URL expired at ')
    const again = await call(service, 'CacheService/GetCacheEntryDownloadURL', {
      key: 'expiring',
      version: 'v'
    })
    expect(await (await fetch(again.signed_download_url)).text()).toBe('short-lived')
  })
})
