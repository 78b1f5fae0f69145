// The closing cache stage's quota estimate: the kube-cross entry is measured by what this run already
// moved (the archive it loaded or saved); the engine is asked only for a pulled image it did not save.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { CacheStore } from '../../../src/cache/store.js'
import type { ImageFacts } from '../../../src/docker/images.js'
import type { RunContext } from '../../../src/run/context.js'
import type { KubeCrossSource, RunState } from '../../../src/run/state.js'
import { saveCaches } from '../../../src/stages/cache-save.js'
import { recordingLog } from '../../helpers/fake-engine.js'

const KUBE_CROSS = 'registry.k8s.io/build-image/kube-cross:v1.31.0-go1.22.5-bullseye.0'
const IMAGE_BYTES = 700 * 1024 ** 2
let archiveDir: string

/** A store in which every key exists already, so nothing is written. */
const storeWithEveryKey: CacheStore = {
  description: 'a test store',
  quotaBytes: 10 * 1024 ** 3,
  restore: () => Promise.resolve(undefined),
  save: () => Promise.resolve(false)
}

/** Runs the stage for a run whose kube-cross came from `source`; the room it reports and the inspections. */
async function roomAfter(source: KubeCrossSource): Promise<{ bytes: number; inspected: string[] }> {
  const inspected: string[] = []
  const images = {
    inspect: (ref: string): Promise<ImageFacts> => {
      inspected.push(ref)
      return Promise.resolve({ id: 'sha256:1', os: 'linux', architecture: 'amd64', bytes: IMAGE_BYTES })
    },
    save: () => Promise.reject(new Error('no archive in this test'))
  }
  const ctx = {
    cache: storeWithEveryKey,
    cacheArchiveDir: archiveDir,
    log: recordingLog().log
  } as unknown as RunContext
  const state = {
    engine: { info: { os: 'linux', arch: 'amd64' }, images },
    buildImage: { ref: KUBE_CROSS, kubeCross: KUBE_CROSS, kubeCrossSource: source, version: 'v1' },
    workspace: null
  } as unknown as RunState
  const added = await saveCaches.run(ctx, state, { succeeded: true })
  return { bytes: added.cacheRoom?.bytes ?? -1, inspected }
}

describe('saveCaches quota estimate', () => {
  beforeAll(async () => {
    archiveDir = await mkdtemp(join(tmpdir(), 'kre-cache-save-'))
  })
  afterAll(() => rm(archiveDir, { recursive: true, force: true }))

  it('takes a restored image’s entry size from the archive it loaded, without asking the engine', async () => {
    const restored = { from: 'cache', key: 'kube-cross-key', bytes: 123_456_789, seconds: 4 } as const
    expect(await roomAfter(restored)).toEqual({ bytes: restored.bytes, inspected: [] })
  })

  it('counts nothing for an image the engine already had', async () => {
    expect(await roomAfter({ from: 'engine' })).toEqual({ bytes: 0, inspected: [] })
  })

  it('measures a pulled image it could not save in the engine', async () => {
    const { bytes, inspected } = await roomAfter({ from: 'pull' })
    expect(bytes).toBe(IMAGE_BYTES)
    expect(inspected.at(-1)).toBe(KUBE_CROSS)
  })
})
