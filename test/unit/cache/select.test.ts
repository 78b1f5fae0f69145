// Which cache backend a run uses (src/cache/select.ts): in a workflow, a cache-dir if given (self-hosted
// runners), else the GitHub cache service (ACTIONS_RUNTIME_TOKEN with ACTIONS_RESULTS_URL, or the older
// ACTIONS_CACHE_URL); without either, no cache and a warning. On the CLI, cache-dir, else the user's cache
// directory ${XDG_CACHE_HOME:-~/.cache}/kube-release. Archives are written to a fixed path under the
// system temp dir, never RUNNER_TEMP: the GitHub cache's version hashes the path.
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { isAbsolute, join, relative, sep } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { GitHubCacheStore } from '../../../src/cache/github.js'
import { LocalCacheStore } from '../../../src/cache/local.js'
import { chooseCache } from '../../../src/cache/select.js'
import type { CacheStore } from '../../../src/cache/store.js'
import type { CacheConfig } from '../../../src/config.js'
import type { Logger } from '../../../src/logger.js'

let tmp: string
beforeEach(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'kube-cache-select-'))
})
afterEach(async () => {
  await rm(tmp, { recursive: true, force: true })
})

interface RecordingLogger extends Logger {
  readonly calls: { level: 'info' | 'warning' | 'debug'; message: string }[]
  readonly warnings: string[]
}

function recordingLogger(): RecordingLogger {
  const calls: RecordingLogger['calls'] = []
  return {
    calls,
    get warnings() {
      return calls.filter(c => c.level === 'warning').map(c => c.message)
    },
    info: message => void calls.push({ level: 'info', message }),
    warning: message => void calls.push({ level: 'warning', message }),
    debug: message => void calls.push({ level: 'debug', message }),
    annotate: () => {},
    mask: () => {},
    group: (_title, fn) => fn()
  }
}

const GIB = 1024 ** 3
const config = (over: Partial<CacheConfig> = {}): CacheConfig => ({
  enabled: true,
  save: 'on-success',
  dir: null,
  maxBytes: 10 * GIB,
  ...over
})

/** The env a hosted runner gives a JavaScript action step (cache v2, the results service). */
const SERVICE_V2 = {
  ACTIONS_RUNTIME_TOKEN: 'token',
  ACTIONS_RESULTS_URL: 'https://results-receiver.actions.githubusercontent.com/'
}
/** GHES: the older cache service. */
const SERVICE_V1 = {
  ACTIONS_RUNTIME_TOKEN: 'token',
  ACTIONS_CACHE_URL: 'https://ghes.example.com/_apis/cache/'
}

/** Saves a small entry through `store` and returns the files under `dir` it created. */
async function savedUnder(store: CacheStore | null, dir: string): Promise<string[]> {
  expect(store).toBeInstanceOf(LocalCacheStore)
  const file = join(tmp, `entry-${Math.random().toString(36).slice(2)}`)
  await writeFile(file, 'entry')
  expect(await (store as CacheStore).save(file, 'kube-release-test-key')).toBe(true)
  return readdir(join(dir, 'entries'))
}

describe('chooseCache: cache disabled', () => {
  it.each([
    ['on the CLI', {}, false, null],
    ['on the CLI with cache-dir', {}, false, 'DIR'],
    ['in a workflow with the cache service', SERVICE_V2, true, null],
    ['in a workflow with cache-dir', SERVICE_V2, true, 'DIR'],
    ['in a workflow without the cache service', {}, true, null]
  ] as const)('%s: no store', (_where, env, inWorkflow, dir) => {
    const log = recordingLogger()
    const choice = chooseCache(
      config({ enabled: false, dir: dir && join(tmp, 'c') }),
      { ...env, XDG_CACHE_HOME: join(tmp, 'xdg') },
      log,
      inWorkflow
    )
    expect(choice.store).toBeNull()
    // Turning caching off is the user's choice: nothing to warn about.
    expect(log.warnings).toEqual([])
  })
})

describe('chooseCache: on the CLI', () => {
  it('without cache-dir: a directory store at $XDG_CACHE_HOME/kube-release', async () => {
    const xdg = join(tmp, 'xdg')
    const log = recordingLogger()
    const { store } = chooseCache(config(), { XDG_CACHE_HOME: xdg, HOME: join(tmp, 'home') }, log, false)
    expect(store).toBeInstanceOf(LocalCacheStore)
    expect(await savedUnder(store, join(xdg, 'kube-release'))).toHaveLength(2)
    expect(log.warnings).toEqual([])
  })

  it('without cache-dir or XDG_CACHE_HOME: a directory store at ~/.cache/kube-release of the env’s HOME', async () => {
    const home = join(tmp, 'home')
    const { store } = chooseCache(config(), { HOME: home }, recordingLogger(), false)
    expect(await savedUnder(store, join(home, '.cache', 'kube-release'))).toHaveLength(2)
  })

  it('with cache-dir: a directory store there, not in the user’s cache directory', async () => {
    const dir = join(tmp, 'given')
    const xdg = join(tmp, 'xdg')
    const { store } = chooseCache(config({ dir }), { XDG_CACHE_HOME: xdg }, recordingLogger(), false)
    expect(await savedUnder(store, dir)).toHaveLength(2)
    expect(await readdir(xdg).catch(() => [])).toEqual([])
  })

  it('uses a directory even when the env has a cache service (the CLI never uses it)', () => {
    const log = recordingLogger()
    const { store } = chooseCache(config(), { ...SERVICE_V2, XDG_CACHE_HOME: join(tmp, 'xdg') }, log, false)
    expect(store).toBeInstanceOf(LocalCacheStore)
    expect(log.warnings).toEqual([])
  })

  it('the store keeps to cache-size-limit', async () => {
    const dir = join(tmp, 'small')
    const { store } = chooseCache(config({ dir, maxBytes: 10 }), {}, recordingLogger(), false)
    const file = join(tmp, 'big')
    await writeFile(file, Buffer.alloc(100))
    await expect((store as CacheStore).save(file, 'kube-release-too-big')).rejects.toThrow(/limit/)
  })
})

describe('chooseCache: in a workflow', () => {
  it('with cache-dir: a directory store there, even with the cache service', async () => {
    const dir = join(tmp, 'runner-cache')
    const log = recordingLogger()
    const { store } = chooseCache(config({ dir }), SERVICE_V2, log, true)
    expect(await savedUnder(store, dir)).toHaveLength(2)
    expect(log.warnings).toEqual([])
  })

  it('with cache-dir and no cache service: a directory store, no warning', () => {
    const log = recordingLogger()
    const { store } = chooseCache(config({ dir: join(tmp, 'runner-cache') }), {}, log, true)
    expect(store).toBeInstanceOf(LocalCacheStore)
    expect(log.warnings).toEqual([])
  })

  it.each([
    ['the results service (v2)', SERVICE_V2],
    ['the older cache service (v1, GHES)', SERVICE_V1]
  ])('with %s: the GitHub cache', (_what, env) => {
    const log = recordingLogger()
    const { store } = chooseCache(config(), { ...env, XDG_CACHE_HOME: join(tmp, 'xdg') }, log, true)
    expect(store).toBeInstanceOf(GitHubCacheStore)
    expect(log.warnings).toEqual([])
  })

  it.each([
    ['no cache service at all', {}],
    ['a token but no service URL', { ACTIONS_RUNTIME_TOKEN: 'token' }],
    ['a service URL but no token', { ACTIONS_RESULTS_URL: SERVICE_V2.ACTIONS_RESULTS_URL }],
    ['an empty token', { ...SERVICE_V2, ACTIONS_RUNTIME_TOKEN: '' }]
  ])('with %s: no cache (not the user’s directory), and one warning', (_what, env) => {
    const log = recordingLogger()
    const choice = chooseCache(config(), { ...env, XDG_CACHE_HOME: join(tmp, 'xdg'), HOME: tmp }, log, true)
    expect(choice.store).toBeNull()
    expect(log.warnings).toHaveLength(1)
    expect(log.warnings[0]).toMatch(/cach/i)
  })
})

describe('chooseCache: files', () => {
  const cases: [string, CacheConfig, NodeJS.ProcessEnv, boolean][] = [
    ['CLI', config(), {}, false],
    ['CLI, cache-dir', config({ dir: '/somewhere' }), {}, false],
    ['workflow, service', config(), SERVICE_V2, true],
    ['workflow, no service', config(), {}, true],
    ['disabled', config({ enabled: false }), {}, true]
  ]

  it.each(cases)('%s: an absolute path under the system temp dir', (_what, c, env, inWorkflow) => {
    const { archiveDir: files } = chooseCache(c, env, recordingLogger(), inWorkflow)
    expect(isAbsolute(files)).toBe(true)
    const rel = relative(tmpdir(), files)
    expect(rel === '' || rel.startsWith('..') || isAbsolute(rel), `${files} under ${tmpdir()}`).toBe(false)
  })

  it('is one fixed path, whatever the config, env or host', () => {
    const runner = { RUNNER_TEMP: join(tmp, 'runner', '_temp'), GITHUB_RUN_ID: '1', RUNNER_NAME: 'a' }
    const other = { RUNNER_TEMP: join(tmp, 'elsewhere', '_temp'), GITHUB_RUN_ID: '2', RUNNER_NAME: 'b' }
    const paths = new Set([
      ...cases.map(([, c, env, w]) => chooseCache(c, env, recordingLogger(), w).archiveDir),
      chooseCache(config(), { ...SERVICE_V2, ...runner }, recordingLogger(), true).archiveDir,
      chooseCache(config(), { ...SERVICE_V2, ...other }, recordingLogger(), true).archiveDir
    ])
    expect(paths.size).toBe(1)
  })

  it('is not under RUNNER_TEMP (its path differs from runner to runner)', () => {
    const runnerTemp = join(tmp, 'runner', '_temp')
    const { archiveDir: files } = chooseCache(
      config(),
      { ...SERVICE_V2, RUNNER_TEMP: runnerTemp },
      recordingLogger(),
      true
    )
    expect(files.startsWith(runnerTemp + sep)).toBe(false)
  })
})
