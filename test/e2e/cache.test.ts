// Caches between runs on the real engine: the Go build cache (both workspaces, local directory and
// the GitHub cache service through the real @actions/cache), the kube-cross image (docker save/load),
// and every cache fault ending in a warning and a successful, cold build.
import { execFile } from 'node:child_process'
import { mkdir, mkdtemp, readFile, readdir, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ImageCache } from '../../src/cache/image-cache.js'
import { LocalCacheStore } from '../../src/cache/local.js'
import { connectEngine } from '../../src/docker/engine.js'
import { DEFAULT_CACHE_MAX_BYTES, DEFAULT_STALL_TIMEOUT_MS } from '../../src/config.js'
import { ConsoleLogger } from '../../src/logger.js'
import { startResultsService, type ResultsService } from '../helpers/results-service.js'
import { runAction, type ActionRun } from './action-runner.js'
import {
  REPO_ROOT,
  WORKSPACES,
  dependsOn,
  cleanTree,
  fixtureTree,
  runCli,
  standInKubeCross
} from './helpers.js'

const run = promisify(execFile)
const trees: string[] = []
afterAll(async () => {
  for (const tree of trees) await cleanTree(tree)
})
async function tree(): Promise<string> {
  const dir = await fixtureTree()
  trees.push(dir)
  return dir
}

/** The build cache line: entries at the start, reused and added by the build. */
function cacheStats(output: string): { start: number; reused: number; added: number } {
  const m = /build cache: (\d+) entries at the start, (\d+) reused and (\d+) added by the build/.exec(output)
  if (!m) throw new Error(`no build cache statistics in:\n${output.slice(-3000)}`)
  return { start: Number(m[1]), reused: Number(m[2]), added: Number(m[3]) }
}

const quick = (dir: string, cacheDir: string, extra: string[] = []) =>
  runCli([
    '--source',
    dir,
    '--mode',
    'quick-release',
    '--server-images',
    'false',
    '--cache-dir',
    cacheDir,
    ...extra
  ])

describe('build cache in a directory (CLI)', () => {
  it.each(WORKSPACES)('a fresh %s workspace compiles incrementally from the cache', async workspace => {
    const cacheDir = await mkdtemp(join(tmpdir(), 'kube-release-cache-'))
    const cold = await quick(await tree(), cacheDir, ['--workspace', workspace])
    expect(cold.code, cold.stderr).toBe(0)
    const first = cacheStats(cold.stdout)
    expect(first.start).toBe(0)
    expect(first.added).toBeGreaterThan(0)
    // Another checkout: a new volume (or an empty _output), so only the cache can make it incremental.
    const warm = await quick(await tree(), cacheDir, ['--workspace', workspace])
    expect(warm.code, warm.stderr).toBe(0)
    expect(warm.stdout).toMatch(/build cache\s+hit \(kube-release-build-v1-/)
    const second = cacheStats(warm.stdout)
    expect(second.start).toBeGreaterThan(0)
    expect(second.reused).toBeGreaterThan(0)
    expect(second.added).toBe(0)
    // Nothing new: nothing exported or stored.
    expect(warm.stdout).toMatch(
      /build cache: 0 B added since restore; below the threshold of 32 MiB: not saved/
    )
    expect((await readdir(join(cacheDir, 'entries'))).filter(n => n.endsWith('.json'))).toHaveLength(1)
  })

  it('keeps the cache within its size limit, oldest entries first', async () => {
    const cacheDir = await mkdtemp(join(tmpdir(), 'kube-release-cache-'))
    // Runs with keys of their own (another platform, another workspace) start cold, so each saves.
    for (const extra of [[], ['--platforms', 'linux/arm64']]) {
      expect((await quick(await tree(), cacheDir, extra)).code).toBe(0)
    }
    const entries = async () => (await readdir(join(cacheDir, 'entries'))).filter(n => n.endsWith('.json'))
    expect(await entries()).toHaveLength(2)
    const sizes = await Promise.all(
      (await entries()).map(
        async n =>
          (JSON.parse(await readFile(join(cacheDir, 'entries', n), 'utf8')) as { bytes: number }).bytes
      )
    )
    // Room for one entry only: the next save evicts both older ones but keeps itself.
    const limit = Math.ceil(Math.max(...sizes) * 1.5)
    const result = await quick(await tree(), cacheDir, [
      '--workspace',
      'bind',
      '--cache-size-limit',
      String(limit)
    ])
    expect(result.code, result.stderr).toBe(0)
    expect(await entries()).toHaveLength(1)
    // Its entry takes about two thirds of that room: the log warns, and the summary gives the share.
    expect(result.stderr).toMatch(
      /warning: caches: this run's entries take about [\d.]+ [KMG]iB \(build cache/
    )
    const share = /cache room\s+[\d.]+ [KMG]iB of [\d.]+ [KMG]iB \((\d+) %\)/.exec(result.stdout)
    expect(Number(share?.[1])).toBeGreaterThanOrEqual(50)
  })

  it('saves nothing with cache-save never, and nothing after a failed build with on-success', async () => {
    const cacheDir = await mkdtemp(join(tmpdir(), 'kube-release-cache-'))
    const never = await quick(await tree(), cacheDir, ['--cache-save', 'never'])
    expect(never.code).toBe(0)
    expect(never.stdout).toContain('caches not saved: cache-save is never (read-only)')
    const broken = await tree()
    await writeFile(join(broken, 'cmd/kubectl/kubectl.go'), 'package main\nfunc main() { undefinedName() }\n')
    const failed = await quick(broken, cacheDir)
    expect(failed.code).toBe(1)
    expect(failed.stdout).toContain('caches not saved: the run failed (cache-save: on-success)')
    expect(await readdir(join(cacheDir, 'entries')).catch(() => [])).toEqual([])
  })
})

const ENGINE_OPTIONS = { cancel: new AbortController().signal, stallTimeoutMs: DEFAULT_STALL_TIMEOUT_MS }

const SAVES = 'saves an image with docker save and brings it back with docker load'

describe('kube-cross image cache', () => {
  const ref = `kube-release-test/kube-cross:cached-${process.pid}`
  const log = new ConsoleLogger(false)
  afterAll(async () => {
    await run('docker', ['rmi', '-f', ref]).catch(() => undefined)
    // The kube-build image made from this test's kube-cross: clean keeps kube-build images, which
    // trees share, but no other tree uses this one.
    const { stdout } = await run('docker', [
      'images',
      '-q',
      '--filter',
      `reference=kube-build:*-cached-${process.pid}`
    ])
    const ids = [...new Set(stdout.split('\n').filter(Boolean))]
    if (ids.length > 0) await run('docker', ['rmi', '-f', ...ids])
  })

  it(SAVES, async () => {
    await run('docker', ['tag', standInKubeCross(), ref])
    const { images } = await connectEngine(log, ENGINE_OPTIONS)
    const work = await mkdtemp(join(tmpdir(), 'kube-release-image-cache-'))
    const store = new LocalCacheStore(join(work, 'store'), { maxBytes: DEFAULT_CACHE_MAX_BYTES, log })
    const cache = new ImageCache(store, images, log, join(work, 'files', 'kube-cross.tar'))
    const saved = await cache.save(ref, 'image-key')
    expect(saved?.bytes).toBeGreaterThan(0)
    await run('docker', ['rmi', ref])
    expect(await images.exists(ref)).toBe(false)
    const restored = await cache.restore(ref, 'image-key')
    expect(restored).toMatchObject({ key: 'image-key', bytes: saved?.bytes })
    expect(await images.exists(ref)).toBe(true)
    // The archive is streamed through a file that does not outlive the operation.
    expect(await readdir(join(work, 'files'))).toEqual([])
  })

  it('a run whose kube-cross is only in the cache loads it and builds', async () => {
    const cacheDir = await mkdtemp(join(tmpdir(), 'kube-release-cache-'))
    const { images, info } = await connectEngine(log, ENGINE_OPTIONS)
    const files = await mkdtemp(join(tmpdir(), 'kube-release-image-files-'))
    const key = `kube-release-image-v1-${info.os}-${info.arch}-${ref}`
    dependsOn((await images.exists(ref)) ? ref : undefined, SAVES, `did not leave ${ref} on the engine`)
    const store = new LocalCacheStore(cacheDir, { maxBytes: DEFAULT_CACHE_MAX_BYTES, log })
    await new ImageCache(store, images, log, join(files, 'x.tar')).save(ref, key)
    await run('docker', ['rmi', ref])
    // kubectl alone: what is proven is the image's way back, not the build.
    const result = await quick(await tree(), cacheDir, ['--kube-cross-image', ref, '--targets', 'kubectl'])
    expect(result.code, result.stderr + result.stdout.slice(-2000)).toBe(0)
    expect(result.stdout).toContain(`image cache: loaded ${ref}`)
    expect(result.stdout).toMatch(/image cache\s+hit/)
  })
})

describe('GitHub cache service (bundled action, real @actions/cache)', () => {
  let service: ResultsService
  beforeAll(async () => {
    service = await startResultsService()
  })
  afterAll(async () => {
    await service?.close()
  })

  /** A client-only quick-release in a bind workspace, caching through `on`, uploading nothing. */
  async function action(dir: string, on = service, env: NodeJS.ProcessEnv = {}): Promise<ActionRun> {
    const run = await runAction(dir, {
      service: on,
      env,
      inputs: {
        mode: 'quick-release',
        workspace: 'bind',
        targets: 'client',
        upload: 'false',
        'server-images': 'false'
      }
    })
    return run
  }

  /** Runs `fn`; the requests the service answered meanwhile. */
  async function served<T>(fn: () => Promise<T>): Promise<{ value: T; requests: string[] }> {
    const before = service.requests.length
    const value = await fn()
    return { value, requests: service.requests.slice(before) }
  }
  const warnings = (stdout: string): string[] => stdout.split('\n').filter(l => l.startsWith('::warning::'))

  /** What the action warns when the service refused the build cache's entry. */
  const REFUSED_SAVE =
    /^::warning::build cache: could not save: cannot save the cache entry kube-release-build-v1-\S+ in the GitHub Actions cache: the service refused or failed to store it/
  /** What @actions/cache warns when a restore failed; the run goes on without the cache. */
  const FAILED_RESTORE = /^::warning::Failed to restore: /

  it('saves after one run and restores by prefix in the next; outputs say so', async () => {
    const first = await action(await tree())
    expect(first.code, first.stdout.slice(-3000)).toBe(0)
    expect(first.outputs['build-cache-hit']).toBe('false')
    expect(
      service.caches.filter(c => c.finalized && c.key.startsWith('kube-release-build-v1-'))
    ).toHaveLength(1)
    const second = await action(await tree())
    expect(second.code, second.stdout.slice(-3000)).toBe(0)
    expect(second.outputs['build-cache-hit']).toBe('true')
    expect(second.outputs['build-cache-key']).toMatch(/^kube-release-build-v1-/)
    expect(cacheStats(second.stdout).added).toBe(0)
    // A warm run with nothing new uploads nothing.
    expect(second.stdout).toContain('not saved')
    expect(
      service.caches.filter(c => c.finalized && c.key.startsWith('kube-release-build-v1-'))
    ).toHaveLength(1)
  })

  it('restores through the Azure SDK download path on a *.blob.core.windows.net host', async () => {
    const azure = await startResultsService({ blobHost: 'azure' })
    // The host resolves to loopback in the action's process only.
    const dns = {
      NODE_OPTIONS: `--import=${pathToFileURL(join(REPO_ROOT, 'test/helpers/azure-dns.mjs')).href}`
    }
    try {
      expect((await action(await tree(), azure, dns)).code).toBe(0)
      const second = await action(await tree(), azure, dns)
      expect(second.code, second.stdout.slice(-3000)).toBe(0)
      expect(second.outputs['build-cache-hit']).toBe('true')
      expect(azure.requests.some(r => r.startsWith('HEAD '))).toBe(true)
      expect(cacheStats(second.stdout).added).toBe(0)
    } finally {
      await azure.close()
    }
  })

  /**
   * What the service holds when the faulty run starts: `shared`, this describe's service (an entry to
   * restore, once an earlier test saved one); `empty`, a service of the test's own, so that the run
   * builds cold and has a cache to save (a warm run with nothing new saves nothing).
   */
  type Holding = 'shared' | 'empty'
  it.each<[string, (s: ResultsService) => void | Promise<void>, RegExp, RegExp, Holding]>([
    [
      'a 500 on every download URL request',
      s => s.failNext('GetCacheEntryDownloadURL', 500, 10),
      /^POST GetCacheEntryDownloadURL 500$/,
      /^::warning::Failed to restore: .*\(500\)/,
      'shared'
    ],
    [
      'a 429 on create',
      s => s.failNext('CreateCacheEntry', 429, 10),
      /^POST CreateCacheEntry 429$/,
      REFUSED_SAVE,
      'empty'
    ],
    [
      'a 409 on create with no entry under the key (another job is still uploading it)',
      s => s.failNext('CreateCacheEntry', 409, 10),
      /^POST CreateCacheEntry 409$/,
      REFUSED_SAVE,
      'empty'
    ],
    [
      'truncated downloads',
      async s => {
        // Something to download: an entry from an earlier run (a run of its own when this test runs alone).
        if (!s.caches.some(c => c.finalized && c.key.startsWith('kube-release-build-v1-'))) {
          expect((await action(await tree())).code).toBe(0)
        }
        s.truncateBlobs(true)
      },
      /^GET actions-cache\/\d+ 200 truncated$/,
      FAILED_RESTORE,
      'shared'
    ]
  ])('%s is no failed build, and a warning', async (_, fault, request, warning, holding) => {
    const on = holding === 'empty' ? await startResultsService() : service
    await fault(on)
    try {
      const before = on.requests.length
      const result = await action(await tree(), on)
      expect(result.code, result.stdout.slice(-3000)).toBe(0)
      expect(result.stdout).not.toContain('::error')
      expect(on.requests.slice(before)).toContainEqual(expect.stringMatching(request))
      expect(warnings(result.stdout)).toContainEqual(expect.stringMatching(warning))
    } finally {
      if (on === service) {
        service.truncateBlobs(false)
        service.failNext('CreateCacheEntry', 200, 0)
        service.failNext('GetCacheEntryDownloadURL', 200, 0)
      } else await on.close()
    }
  })

  it('a full disk while saving is a warning and the build succeeds', async () => {
    // Where the action writes its cache archives (a fixed path, the cache service hashes it).
    const small = join(tmpdir(), 'kube-release-cache')
    await mkdir(small, { recursive: true })
    await run('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', small])
    try {
      const { value: result, requests } = await served(async () => action(await tree()))
      expect(result.code, result.stdout.slice(-3000)).toBe(0)
      // The archive could not be written, so nothing reached the service.
      expect(requests.filter(r => r.startsWith('POST CreateCacheEntry'))).toEqual([])
      // The archive is copied out of its container over the API into the full directory.
      expect(warnings(result.stdout)).toContainEqual(
        expect.stringMatching(
          /^::warning::build cache: could not save: copying .* out of container .*no space left on device/
        )
      )
      expect(warnings(result.stdout).filter(w => /did not answer/.test(w))).toEqual([])
    } finally {
      await run('umount', [small])
    }
  })
})
