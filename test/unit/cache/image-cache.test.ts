// The kube-cross image cache reports what it moved, for the summary: the archive's size restored or
// saved, and how long it took (on a clock the fakes move); a miss or a refused save moves nothing.
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { ImageCache } from '../../../src/cache/image-cache.js'
import type { CacheStore } from '../../../src/cache/store.js'
import type { ImageClient } from '../../../src/docker/images.js'
import { recordingLog } from '../../helpers/fake-engine.js'

const REF = 'registry.k8s.io/build-image/kube-cross:v1.36.0-go1.26.2-bullseye.0'
const ARCHIVE_BYTES = 4321

let dir: string
let now: number
const elapse = (ms: number): void => void (now += ms)
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kube-release-image-cache-'))
  now = 1000
  vi.spyOn(performance, 'now').mockImplementation(() => now)
})
afterEach(async () => {
  vi.restoreAllMocks()
  await rm(dir, { recursive: true, force: true })
})

/** A store holding one entry under `held` (an archive of ARCHIVE_BYTES), whose transfers take 2 s. */
function store(held: string | null, saves = true): CacheStore {
  return {
    description: 'a test store',
    quotaBytes: 10 * 1024 ** 3,
    restore: async (path, key) => {
      if (key !== held) return undefined
      elapse(2000)
      await writeFile(path, Buffer.alloc(ARCHIVE_BYTES))
      return key
    },
    save: async () => {
      elapse(2000)
      return saves
    }
  }
}

/** An engine whose load and save take 500 ms; the image is there once loaded. */
function images(): ImageClient {
  let loaded = false
  return {
    load: async () => {
      elapse(500)
      loaded = true
    },
    exists: async () => loaded,
    inspect: async () => ({ bytes: ARCHIVE_BYTES }),
    save: async (_ref: string, file: string) => {
      elapse(500)
      await writeFile(file, Buffer.alloc(ARCHIVE_BYTES))
    }
  } as unknown as ImageClient
}

describe('ImageCache', () => {
  it('a restore gives the key it matched, the size of the archive and the time until the image was loaded', async () => {
    const cache = new ImageCache(store('key'), images(), recordingLog().log, join(dir, 'kube-cross.tar'))
    expect(await cache.restore(REF, 'key')).toEqual({ key: 'key', bytes: ARCHIVE_BYTES, seconds: 2.5 })
  })

  it('a miss gives nothing', async () => {
    const cache = new ImageCache(store(null), images(), recordingLog().log, join(dir, 'kube-cross.tar'))
    expect(await cache.restore(REF, 'key')).toBeUndefined()
  })

  it('a save gives the size of the archive and the time until it was stored; an existing entry, nothing', async () => {
    const saved = new ImageCache(store(null), images(), recordingLog().log, join(dir, 'kube-cross.tar'))
    expect(await saved.save(REF, 'key')).toEqual({ bytes: ARCHIVE_BYTES, seconds: 2.5 })
    const existing = new ImageCache(store(null, false), images(), recordingLog().log, join(dir, 'x.tar'))
    expect(await existing.save(REF, 'key')).toBeNull()
  })
})
