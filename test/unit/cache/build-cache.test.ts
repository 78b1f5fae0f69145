// The build cache's save rule: a new entry only when the build added max(32 MiB, 5 % of what it
// started with), measured by the scripts' manifest of GOPATH (run here on this host's sh and GNU find).
import { execFile } from 'node:child_process'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { promisify } from 'node:util'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { saveBuildCache, saveThreshold, type BuildCacheUse } from '../../../src/cache/build-cache.js'
import type { CacheStore } from '../../../src/cache/store.js'
import type { WorkspaceShell } from '../../../src/docker/workspace-shell.js'
import { BACKDATE_SCRIPT, EXPORT_SCRIPT, MEASURE_SCRIPT, goCacheCount } from '../../../src/kube/go-cache.js'
import { recordingLog } from '../../helpers/fake-engine.js'

const MiB = 1024 ** 2
const sh = async (script: string, args: readonly string[]): Promise<string[]> =>
  (await promisify(execFile)('sh', ['-c', script, 'sh', ...args])).stdout.split('\n')

describe('saveThreshold', () => {
  it('is 32 MiB on a small cache and 5 % of a large one', () => {
    expect(saveThreshold(100 * MiB)).toBe(32 * MiB)
    expect(saveThreshold(10 * 1024 * MiB)).toBe(512 * MiB)
  })

  it('saves any bytes at all when the build started with nothing', () => {
    expect(saveThreshold(0)).toBe(1)
  })
})

describe('the manifest scripts', () => {
  let dir: string
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kube-go-cache-'))
  })
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  it('count the bytes of files new or changed in size since the start, and only those', async () => {
    await mkdir(join(dir, 'cache/build/ab'), { recursive: true })
    await mkdir(join(dir, 'pkg/mod'), { recursive: true })
    await writeFile(join(dir, 'cache/build/ab/kept-d'), Buffer.alloc(700))
    await writeFile(join(dir, 'cache/build/ab/grown-d'), Buffer.alloc(100))
    await writeFile(join(dir, 'pkg/mod/module.zip'), Buffer.alloc(300))
    const owner = `${process.getuid!()}:${process.getgid!()}`
    const start = await sh(BACKDATE_SCRIPT, [dir, owner, String(Math.floor(Date.now() / 1000) - 7200)])
    expect(goCacheCount(start, 'entries')).toBe(2)
    expect(goCacheCount(start, 'bytes')).toBe(1100)
    expect(goCacheCount(await sh(MEASURE_SCRIPT, [dir, '0']), 'added')).toBe(0)

    await writeFile(join(dir, 'cache/build/ab/grown-d'), Buffer.alloc(150))
    await writeFile(join(dir, 'cache/build/ab/new-a'), Buffer.alloc(40))
    await writeFile(join(dir, 'pkg/mod/other.zip'), Buffer.alloc(9))
    const after = await sh(MEASURE_SCRIPT, [dir, String(Math.floor(Date.now() / 1000) - 3600)])
    expect(goCacheCount(after, 'added')).toBe(150 + 40 + 9)
    // Written since the start: the grown entry and the new one, not the one kept unused.
    expect(goCacheCount(after, 'entries')).toBe(3)
    expect(goCacheCount(after, 'fresh')).toBe(2)
  })

  it('leave the manifest out of the archive', async () => {
    await mkdir(join(dir, 'cache/build'), { recursive: true })
    await mkdir(join(dir, 'pkg'))
    await writeFile(join(dir, 'cache/build/x-d'), 'x')
    await writeFile(join(dir, 'pkg/y'), 'y')
    // Entries dated 1 s after the epoch, the build's start at the epoch: every entry counts as used.
    await sh(BACKDATE_SCRIPT, [dir, `${process.getuid!()}:${process.getgid!()}`, '1'])
    const archive = join(dir, '..', `${dir.split('/').pop()}.tar`)
    try {
      await sh(EXPORT_SCRIPT, [dir, '0', archive])
      const { stdout } = await promisify(execFile)('tar', ['-tf', archive])
      expect(stdout.split('\n').filter(Boolean).sort()).toEqual(['./pkg/y', 'cache/build/x-d'])
    } finally {
      await rm(archive, { force: true })
    }
  })
})

describe('saveBuildCache', () => {
  const use = (startBytes: number): BuildCacheUse => ({
    key: 'kube-release-build-v1-x-linux-amd64-volume-2',
    restoredKey: startBytes > 0 ? 'kube-release-build-v1-x-linux-amd64-volume-1' : null,
    restoredBytes: startBytes / 2,
    restoreSeconds: startBytes > 0 ? 4 : 0,
    entries: 10,
    startBytes,
    since: 0
  })
  let archive: string
  beforeEach(async () => {
    archive = join(await mkdtemp(join(tmpdir(), 'kube-build-cache-')), 'go-build-cache.tar')
  })
  afterEach(async () => {
    vi.restoreAllMocks()
    await rm(dirname(archive), { recursive: true, force: true })
  })
  /** A shell whose measure reports `added` bytes and whose export writes an archive of 5000 bytes. */
  const target = (added: number) => {
    const { log, at } = recordingLog()
    const run = vi.fn(async (script: string) => {
      if (script === MEASURE_SCRIPT) return [`kube-release-cache entries=12 fresh=8 added=${added}`]
      await writeFile(archive, Buffer.alloc(5000))
      return []
    })
    const save = vi.fn(async () => true)
    const store: CacheStore = {
      description: 'a test store',
      quotaBytes: 10 * 1024 ** 3,
      restore: async () => undefined,
      save
    }
    const shell = { run } as unknown as WorkspaceShell
    return {
      target: { shell, store, log, owner: '0:0', archive },
      run,
      save,
      at
    }
  }

  it('saves nothing, and says why, when the build added less than the threshold', async () => {
    const { target: t, run, save, at } = target(3 * MiB)
    expect(await saveBuildCache(t, use(200 * MiB))).toBeNull()
    expect(at('info')).toEqual([
      'build cache: 10 entries at the start, 6 reused and 2 added by the build, 4 unused left out',
      'build cache: 3 MiB added since restore; below the threshold of 32 MiB: not saved'
    ])
    expect(run).toHaveBeenCalledTimes(1)
    expect(save).not.toHaveBeenCalled()
  })

  it('exports and saves once the build added the threshold', async () => {
    const { target: t, run, save } = target(32 * MiB)
    // The save starts at 100 ms and has stored the entry at 3100 ms.
    vi.spyOn(performance, 'now').mockReturnValueOnce(100).mockReturnValueOnce(3100)
    expect(await saveBuildCache(t, use(200 * MiB))).toEqual({ bytes: 5000, seconds: 3 })
    expect(run.mock.calls.map(([script]) => script)).toEqual([MEASURE_SCRIPT, EXPORT_SCRIPT])
    expect(save).toHaveBeenCalledWith(t.archive, use(0).key)
  })
})
