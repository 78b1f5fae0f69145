// The cache inputs → Config.cache: `cache` (true/false, default true), `cache-save` (on-success, always,
// never, default-branch; default on-success), `cache-dir` (a directory, relative to the working
// directory; default none) and `cache-size-limit` (512M, 10G, 1T or a number of bytes; default 10G).
import { mkdir, mkdtemp, realpath, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { loadConfig } from '../../src/config.js'
import type { RawInputs } from '../../src/inputs.js'
import { InputError } from '../../src/errors.js'

const CROSS_TAG = 'v1.36.0-go1.26.2-bullseye.0'
const KIB = 1024
const MIB = 1024 ** 2
const GIB = 1024 ** 3
const TIB = 1024 ** 4

let tmp: string
let source: string
let cwd: string
beforeEach(async () => {
  tmp = await realpath(await mkdtemp(join(tmpdir(), 'kube-config-cache-')))
  source = join(tmp, 'kubernetes')
  await mkdir(join(source, 'build/build-image/cross'), { recursive: true })
  await writeFile(join(source, 'build/build-image/cross/VERSION'), `${CROSS_TAG}\n`)
  await writeFile(join(source, 'Makefile'), 'all:\n')
  // The working directory is not the tree: cache-dir is relative to the former.
  cwd = join(tmp, 'work')
  await mkdir(cwd)
})
afterEach(async () => {
  await rm(tmp, { recursive: true, force: true })
})

const cacheConfig = async (raw: RawInputs) => (await loadConfig({ source, ...raw }, {}, cwd)).cache

/** loadConfig's InputError, failing if it resolves or throws anything else. */
async function configError(raw: RawInputs): Promise<InputError> {
  const result = await loadConfig({ source, ...raw }, {}, cwd).then(
    () => new Error('loadConfig resolved'),
    (err: unknown) => err
  )
  expect(result).toBeInstanceOf(InputError)
  return result as InputError
}

describe('loadConfig: cache defaults', () => {
  it('no cache input: caching on, saved on success, the default store, a 10 GiB limit', async () => {
    expect(await cacheConfig({})).toEqual({
      enabled: true,
      save: 'on-success',
      dir: null,
      maxBytes: 10 * GIB
    })
  })

  it('empty inputs (as the action gets them) are the defaults', async () => {
    expect(
      await cacheConfig({ cache: '', 'cache-save': '', 'cache-dir': '', 'cache-size-limit': '' })
    ).toEqual({ enabled: true, save: 'on-success', dir: null, maxBytes: 10 * GIB })
  })

  it('blank inputs are the defaults too', async () => {
    expect(
      await cacheConfig({ cache: ' ', 'cache-save': '\n', 'cache-dir': '  ', 'cache-size-limit': '\t' })
    ).toEqual({ enabled: true, save: 'on-success', dir: null, maxBytes: 10 * GIB })
  })
})

describe('loadConfig: cache', () => {
  it.each([
    ['true', true],
    ['false', false],
    ['TRUE', true],
    ['False', false],
    [' false ', false]
  ])('%j → %s', async (value, enabled) => {
    expect((await cacheConfig({ cache: value })).enabled).toBe(enabled)
  })

  it.each(['yes', 'no', 'off', '1', '0', 'disabled'])('%j is not a boolean: InputError', async value => {
    const err = await configError({ cache: value })
    expect(err.message).toMatch(/^input 'cache': /)
    expect(err.message).toContain(`'${value}'`)
    expect(err.message).toContain('true')
    expect(err.message).toContain('false')
  })

  it('off: the other cache inputs are still checked', async () => {
    const err = await configError({ cache: 'false', 'cache-save': 'sometimes' })
    expect(err.message).toMatch(/^input 'cache-save': /)
  })
})

describe('loadConfig: cache-save', () => {
  it.each(['on-success', 'always', 'never', 'default-branch'])('%s', async value => {
    expect((await cacheConfig({ 'cache-save': value })).save).toBe(value)
  })

  it.each(['sometimes', 'on_success', 'success', 'main', 'true', 'always,never'])(
    '%j: InputError naming the input and listing the policies',
    async value => {
      const err = await configError({ 'cache-save': value })
      expect(err.message).toMatch(/^input 'cache-save': /)
      expect(err.message).toContain(`'${value}'`)
      for (const policy of ['on-success', 'always', 'never', 'default-branch'])
        expect(err.message).toContain(policy)
    }
  )
})

describe('loadConfig: cache-dir', () => {
  it('relative: resolved against the working directory, not the tree', async () => {
    expect((await cacheConfig({ 'cache-dir': 'caches/kube' })).dir).toBe(join(cwd, 'caches/kube'))
  })

  it('relative, upwards', async () => {
    expect((await cacheConfig({ 'cache-dir': '../shared-cache' })).dir).toBe(join(tmp, 'shared-cache'))
  })

  it('.: the working directory itself', async () => {
    expect((await cacheConfig({ 'cache-dir': '.' })).dir).toBe(cwd)
  })

  it('absolute: as given', async () => {
    expect((await cacheConfig({ 'cache-dir': '/var/cache/kube-release' })).dir).toBe(
      '/var/cache/kube-release'
    )
  })

  it('surrounding blanks are not part of the path', async () => {
    expect((await cacheConfig({ 'cache-dir': '  /var/cache/kube-release\n' })).dir).toBe(
      '/var/cache/kube-release'
    )
  })

  it('the directory need not exist yet', async () => {
    expect((await cacheConfig({ 'cache-dir': 'not/yet' })).dir).toBe(join(cwd, 'not/yet'))
  })
})

describe('loadConfig: cache-size-limit', () => {
  it.each([
    ['512M', 512 * MIB],
    ['10G', 10 * GIB],
    ['1T', TIB],
    ['2048', 2048],
    ['10GiB', 10 * GIB],
    ['512MiB', 512 * MIB],
    ['64K', 64 * KIB],
    ['1', 1]
  ])('%s → %d bytes', async (value, bytes) => {
    expect((await cacheConfig({ 'cache-size-limit': value })).maxBytes).toBe(bytes)
  })

  it('10G is the default', async () => {
    expect((await cacheConfig({ 'cache-size-limit': '10G' })).maxBytes).toBe((await cacheConfig({})).maxBytes)
  })

  it.each(['0', '0G', '-1', '-1G', '10X', 'ten', 'G', '10 G', '1.5G', '10GG', '0x10'])(
    '%j: InputError naming the input and the value',
    async value => {
      const err = await configError({ 'cache-size-limit': value })
      expect(err.message).toMatch(/^input 'cache-size-limit': /)
      expect(err.message).toContain(`'${value}'`)
    }
  )
})
