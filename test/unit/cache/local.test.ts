// LocalCacheStore: the --cache-dir backend. Key semantics as GitHub's cache, atomic entries, eviction.
import { createHash } from 'node:crypto'
import { mkdir, mkdtemp, readdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises'
import { createWriteStream } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { DEFAULT_CACHE_MAX_BYTES } from '../../../src/config.js'
import { defaultCacheDir, LocalCacheStore } from '../../../src/cache/local.js'
import { CacheError } from '../../../src/cache/store.js'
import { recordingLog } from '../../helpers/fake-engine.js'

let tmp: string
let dir: string
beforeEach(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'kube-local-cache-'))
  dir = join(tmp, 'cache')
})
afterEach(async () => {
  await rm(tmp, { recursive: true, force: true })
})

/** A source file of `bytes` bytes whose content names `tag`. */
async function source(tag: string, bytes = 100): Promise<string> {
  const file = join(tmp, `src-${tag}`)
  await writeFile(file, Buffer.alloc(bytes, `${tag}:`))
  return file
}

async function saved(store: LocalCacheStore, key: string, bytes = 100): Promise<boolean> {
  return store.save(await source(key, bytes), key)
}

const out = (): string => join(tmp, 'out', 'restored.file')
const content = (file: string): Promise<string> => readFile(file, 'latin1')
const expected = (tag: string, bytes = 100): string => Buffer.alloc(bytes, `${tag}:`).toString('latin1')
const hash = (key: string): string => createHash('sha256').update(key).digest('hex')

/** The stored entries, checked for consistency: every .json has its .data of the recorded size, and back. */
async function entries(): Promise<Record<string, number>> {
  const names = await readdir(join(dir, 'entries')).catch(() => [])
  const result: Record<string, number> = {}
  for (const name of names.filter(n => n.endsWith('.json'))) {
    const meta = JSON.parse(await readFile(join(dir, 'entries', name), 'utf8'))
    expect(name).toBe(`${hash(meta.key)}.json`)
    expect((await stat(join(dir, 'entries', `${hash(meta.key)}.data`))).size).toBe(meta.bytes)
    expect(meta.created).toEqual(expect.any(Number))
    result[meta.key] = meta.bytes
  }
  expect(names.filter(n => n.endsWith('.data')).sort()).toEqual(
    names
      .filter(n => n.endsWith('.json'))
      .map(n => n.replace(/json$/, 'data'))
      .sort()
  )
  expect(await readdir(join(dir, 'tmp')).catch(() => [])).toEqual([])
  return result
}

describe('LocalCacheStore', () => {
  it('restores an exact key, creating the parent directory', async () => {
    const store = new LocalCacheStore(dir, { maxBytes: DEFAULT_CACHE_MAX_BYTES, log: recordingLog().log })
    expect(store.description).toBe(`the cache directory ${dir}`)
    expect(await saved(store, 'image-v1')).toBe(true)
    expect(await store.restore(out(), 'image-v1', ['image-'])).toBe('image-v1')
    expect(await content(out())).toBe(expected('image-v1'))
    expect(await entries()).toEqual({ 'image-v1': 100 })
  })

  it('falls back to the newest entry whose key starts with a restore key', async () => {
    const store = new LocalCacheStore(dir, { maxBytes: DEFAULT_CACHE_MAX_BYTES, log: recordingLog().log })
    for (const key of ['go-b', 'go-a', 'other-c']) expect(await saved(store, key)).toBe(true)
    expect(await store.restore(out(), 'go-z', ['go-'])).toBe('go-a') // newest, not the last by name
    expect(await content(out())).toBe(expected('go-a'))
    expect(await store.restore(out(), 'go-z', ['go-b'])).toBe('go-b')
  })

  it('tries the restore keys in order, after the exact key', async () => {
    const store = new LocalCacheStore(dir, { maxBytes: DEFAULT_CACHE_MAX_BYTES, log: recordingLog().log })
    await saved(store, 'a-1')
    await saved(store, 'b-1')
    expect(await store.restore(out(), 'x', ['a-', 'b-'])).toBe('a-1')
    expect(await store.restore(out(), 'x', ['b-', 'a-'])).toBe('b-1')
    expect(await store.restore(out(), 'a-1', ['b-'])).toBe('a-1')
    expect(await store.restore(out(), 'x', ['c-', 'a-'])).toBe('a-1')
  })

  it('misses, removing what was at the path, in an empty or absent directory', async () => {
    const store = new LocalCacheStore(dir, { maxBytes: DEFAULT_CACHE_MAX_BYTES, log: recordingLog().log })
    expect(await store.restore(out(), 'k', ['k-'])).toBeUndefined()
    await saved(store, 'k-1')
    await mkdir(join(tmp, 'out'))
    await writeFile(out(), 'stale')
    expect(await store.restore(out(), 'k', ['j-', 'k-2'])).toBeUndefined()
    await expect(stat(out())).rejects.toThrow(/ENOENT/)
  })

  it('keeps the first entry when a key is saved again', async () => {
    const store = new LocalCacheStore(dir, { maxBytes: DEFAULT_CACHE_MAX_BYTES, log: recordingLog().log })
    expect(await saved(store, 'k')).toBe(true)
    await writeFile(join(tmp, 'other'), 'other content')
    expect(await store.save(join(tmp, 'other'), 'k')).toBe(false)
    expect(await store.restore(out(), 'k')).toBe('k')
    expect(await content(out())).toBe(expected('k'))
    expect(await entries()).toEqual({ k: 100 })
  })

  it('evicts the least recently used entries beyond the size limit', async () => {
    const store = new LocalCacheStore(dir, { maxBytes: 3000, log: recordingLog().log })
    for (const key of ['a', 'b', 'c']) await saved(store, key, 1000)
    expect(await entries()).toEqual({ a: 1000, b: 1000, c: 1000 })
    await saved(store, 'd', 1000)
    expect(await entries()).toEqual({ b: 1000, c: 1000, d: 1000 })
    expect(await store.restore(out(), 'a')).toBeUndefined()
    // A restore counts as a use: c goes before b now.
    expect(await store.restore(out(), 'b')).toBe('b')
    await saved(store, 'e', 1500)
    expect(await entries()).toEqual({ b: 1000, e: 1500 })
  })

  it('refuses an entry bigger than the limit and keeps nothing of it', async () => {
    const store = new LocalCacheStore(dir, { maxBytes: 3000, log: recordingLog().log })
    await saved(store, 'small', 1000)
    const error = await store.save(await source('big', 3001), 'big').catch((e: unknown) => e)
    expect(error).toBeInstanceOf(CacheError)
    expect((error as Error).message).toBe(
      `cannot save the cache entry big in the cache directory ${dir}: ` +
        'the entry of 3001 bytes exceeds the cache limit of 3000 bytes'
    )
    expect(await entries()).toEqual({ small: 1000 })
  })

  it('reports a missing source as a CacheError naming the key', async () => {
    const store = new LocalCacheStore(dir, { maxBytes: DEFAULT_CACHE_MAX_BYTES, log: recordingLog().log })
    await expect(store.save(join(tmp, 'nothing'), 'k')).rejects.toThrow(
      /^cannot save the cache entry k in the cache directory .*: ENOENT/
    )
  })

  it('stays consistent under concurrent saves of different keys, with and without eviction', async () => {
    const roomy = new LocalCacheStore(dir, { maxBytes: DEFAULT_CACHE_MAX_BYTES, log: recordingLog().log })
    const keys = Array.from({ length: 10 }, (_, i) => `key-${i}`)
    const sources = await Promise.all(keys.map((key, i) => source(key, 1000 + i)))
    expect(await Promise.all(keys.map((key, i) => roomy.save(sources[i], key)))).toEqual(keys.map(() => true))
    expect(Object.keys(await entries()).sort()).toEqual(keys)
    for (const [i, key] of keys.entries()) {
      expect(await roomy.restore(out(), key)).toBe(key)
      expect(await content(out())).toBe(expected(key, 1000 + i))
    }

    await rm(dir, { recursive: true })
    const tight = new LocalCacheStore(dir, { maxBytes: 4000, log: recordingLog().log })
    await Promise.all(keys.map((key, i) => tight.save(sources[i], key)))
    const kept = await entries()
    expect(Object.keys(kept).length).toBeGreaterThan(0)
    expect(Object.values(kept).reduce((a, b) => a + b)).toBeLessThanOrEqual(4000)
  })

  it('saves a key once when several runs save it at the same time', async () => {
    const store = new LocalCacheStore(dir, { maxBytes: DEFAULT_CACHE_MAX_BYTES, log: recordingLog().log })
    const sizes = Array.from({ length: 10 }, (_, i) => 1000 + i)
    const sources = await Promise.all(sizes.map(bytes => source(`same-${bytes}`, bytes)))
    const results = await Promise.all(sources.map(file => store.save(file, 'same')))
    expect(results.filter(Boolean)).toHaveLength(1)
    const winner = sizes[results.indexOf(true)]
    expect(await entries()).toEqual({ same: winner })
    expect(await store.restore(out(), 'same')).toBe('same')
    expect(await content(out())).toBe(expected(`same-${winner}`, winner))
  })

  it('misses when an eviction removed the data after the metadata was read', async () => {
    const store = new LocalCacheStore(dir, { maxBytes: DEFAULT_CACHE_MAX_BYTES, log: recordingLog().log })
    await saved(store, 'k-1')
    await saved(store, 'k-2')
    await rm(join(dir, 'entries', `${hash('k-2')}.data`))
    expect(await store.restore(out(), 'k-2')).toBeUndefined()
    // The next candidate still counts.
    expect(await store.restore(out(), 'k-2', ['k-1'])).toBe('k-1')
    await rm(join(dir, 'entries', `${hash('k-1')}.data`))
    expect(await store.restore(out(), 'k-3', ['k-'])).toBeUndefined()
    await expect(stat(out())).rejects.toThrow(/ENOENT/)
  })

  it('misses when the data no longer has the recorded size', async () => {
    const store = new LocalCacheStore(dir, { maxBytes: DEFAULT_CACHE_MAX_BYTES, log: recordingLog().log })
    await saved(store, 'k')
    await writeFile(join(dir, 'entries', `${hash('k')}.data`), 'replaced')
    expect(await store.restore(out(), 'k')).toBeUndefined()
  })

  it('clears what crashed saves left behind, once it is old', async () => {
    const store = new LocalCacheStore(dir, { maxBytes: DEFAULT_CACHE_MAX_BYTES, log: recordingLog().log })
    await saved(store, 'a')
    const orphan = join(dir, 'entries', `${hash('crashed')}.data`)
    const part = join(dir, 'tmp', 'half-copied.data')
    const fresh = join(dir, 'tmp', 'in-progress.data')
    for (const file of [orphan, part, fresh]) await writeFile(file, 'x')
    const hoursAgo = Date.now() / 1000 - 2 * 3600
    await utimes(orphan, hoursAgo, hoursAgo)
    await utimes(part, hoursAgo, hoursAgo)
    await saved(store, 'b')
    expect((await readdir(join(dir, 'entries'))).sort()).toEqual(
      [`${hash('a')}.data`, `${hash('a')}.json`, `${hash('b')}.data`, `${hash('b')}.json`].sort()
    )
    expect(await readdir(join(dir, 'tmp'))).toEqual(['in-progress.data'])
  })
})

describe('LocalCacheStore at size', () => {
  const MiB = 1024 ** 2
  const SIZE = 256 * MiB

  it('saves and restores a 256 MiB entry with flat memory, and reports progress as it goes', async () => {
    const source = join(tmp, 'big.tar')
    const chunk = Buffer.alloc(MiB, 7)
    await pipeline(
      Readable.from(
        (function* () {
          for (let i = 0; i < SIZE / MiB; i++) yield chunk
        })()
      ),
      createWriteStream(source)
    )
    const { log, at } = recordingLog()
    const store = new LocalCacheStore(dir, { maxBytes: DEFAULT_CACHE_MAX_BYTES, log })
    global.gc?.()
    const before = process.memoryUsage().rss
    let peak = before
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 5)
    try {
      expect(await store.save(source, 'big')).toBe(true)
      expect(await store.restore(out(), 'big')).toBe('big')
    } finally {
      clearInterval(sampler)
    }
    expect((await stat(out())).size).toBe(SIZE)
    // A copy held in memory would add the whole entry (twice: save and restore). Streamed, the growth
    // is the buffers the garbage collector has not reclaimed yet (V8 collects them at about 64 MiB).
    expect(peak - before).toBeLessThan(SIZE / 2)
    // A copy this quick logs nothing; the lines it would log name the entry.
    expect(at('info').every(line => /^cache: (saving|restoring) big: /.test(line))).toBe(true)
  }, 60_000)
})

describe('defaultCacheDir', () => {
  it('follows XDG_CACHE_HOME, ignoring a relative one, else ~/.cache', () => {
    expect(defaultCacheDir({ XDG_CACHE_HOME: '/x/cache', HOME: '/home/u' })).toBe('/x/cache/kube-release')
    expect(defaultCacheDir({ XDG_CACHE_HOME: 'rel', HOME: '/home/u' })).toBe('/home/u/.cache/kube-release')
    expect(defaultCacheDir({ HOME: '/home/u' })).toBe('/home/u/.cache/kube-release')
  })
})
