// Base images for a platform (src/docker/image-archive/base-images.ts) from a stand-in engine: which
// image is used or pulled, the export unpacked safely and merged, once per (reference, platform),
// one reference at a time.
import { createHash } from 'node:crypto'
import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { gzipSync } from 'node:zlib'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { tarBuffer, type TarMember } from '../../../../src/archive/tar.js'
import { BaseImageCache, type ImageSource } from '../../../../src/docker/image-archive/base-images.js'
import { ReleaseError } from '../../../../src/errors.js'
import type { Logger } from '../../../../src/logger.js'

const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex')
const MTIME = { mtime: new Date(0) }

interface Image {
  readonly id: string
  readonly os: string
  readonly architecture: string
}

const silent: Logger = {
  info: () => undefined,
  warning: () => undefined,
  debug: () => undefined,
  group: (_title, fn) => fn(),
  annotate: () => undefined,
  mask: () => undefined
}

/** A docker-archive of one image with these layers; `gzipped` layers are stored compressed. */
async function dockerArchive(
  arch: string,
  layers: readonly TarMember[][],
  gzipped: readonly number[] = []
): Promise<Buffer> {
  const tars = await Promise.all(layers.map(members => tarBuffer(members, MTIME)))
  const stored = tars.map((data, i) => (gzipped.includes(i) ? gzipSync(data) : data))
  // The legacy `<id>/layer.tar` layout for the first layer, the OCI blob layout for the rest.
  const names = stored.map((data, i) => (i === 0 ? 'l0/layer.tar' : `blobs/sha256/${sha256(data)}`))
  const config = JSON.stringify({
    architecture: arch,
    os: 'linux',
    rootfs: { type: 'layers', diff_ids: tars.map(data => `sha256:${sha256(data)}`) }
  })
  const manifest = JSON.stringify([{ Config: 'config.json', RepoTags: [], Layers: names }])
  return tarBuffer(
    [
      ...stored.map((data, i): TarMember => ({ kind: 'data', path: names[i], data, mode: 0o644 })),
      { kind: 'data', path: 'config.json', data: config, mode: 0o644 },
      { kind: 'data', path: 'manifest.json', data: manifest, mode: 0o644 }
    ],
    MTIME
  )
}

/** An engine with tags, a registry with per-platform images, and exports; it records each call. */
class StandInEngine implements ImageSource {
  readonly calls: string[] = []
  readonly tags = new Map<string, Image>()
  readonly registry = new Map<string, Image>()
  readonly exports = new Map<string, Buffer>()

  async inspect(ref: string): Promise<Image | null> {
    this.calls.push(`inspect ${ref}`)
    await new Promise(setImmediate)
    return this.tags.get(ref) ?? null
  }

  async pull(ref: string, platform: string): Promise<void> {
    this.calls.push(`pull ${ref} ${platform}`)
    await new Promise(setImmediate)
    const image = this.registry.get(`${ref} ${platform}`)
    if (!image) throw new Error(`no matching manifest for ${platform}`)
    this.tags.set(ref, image)
  }

  async export(id: string): Promise<NodeJS.ReadableStream> {
    this.calls.push(`export ${id}`)
    await new Promise(setImmediate)
    return Readable.from([this.exports.get(id)!])
  }

  /** An image for linux/<arch>, in the registry under `ref`, exportable. */
  async publish(ref: string, arch: string, layers: TarMember[][] = [[]], gzipped?: number[]): Promise<Image> {
    const image = { id: `sha256:${sha256(Buffer.from(`${ref} ${arch}`))}`, os: 'linux', architecture: arch }
    this.registry.set(`${ref} linux/${arch}`, image)
    this.exports.set(image.id, await dockerArchive(arch, layers, gzipped))
    return image
  }
}

let tmp: string
let engine: StandInEngine
let cache: BaseImageCache
beforeEach(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'kube-base-images-'))
  engine = new StandInEngine()
  cache = new BaseImageCache(engine, silent, tmp)
})
afterEach(async () => {
  await cache.dispose()
  await rm(tmp, { recursive: true, force: true })
})

describe('BaseImageCache', () => {
  it('uses the engine`s image when it is for the platform, and merges its layers (whiteouts, gzip)', async () => {
    const image = await engine.publish(
      'base:1',
      'amd64',
      [
        [
          { kind: 'dir', path: 'bin' },
          { kind: 'data', path: 'bin/old', data: 'x', mode: 0o755 },
          { kind: 'dir', path: 'usr/bin' }
        ],
        [
          { kind: 'data', path: '.wh.bin', data: '', mode: 0o644 },
          { kind: 'symlink', path: 'bin', target: 'usr/bin' }
        ]
      ],
      [1]
    )
    engine.tags.set('base:1', image)
    const base = await cache.get('base:1', 'linux/amd64')
    expect(engine.calls).toEqual(['inspect base:1', `export ${image.id}`])
    expect(base).toMatchObject({ ref: 'base:1', id: image.id, platform: 'linux/amd64' })
    expect(base.config.architecture).toBe('amd64')
    expect(base.layers.map(l => l.diffId)).toEqual(base.config.rootfs?.diff_ids)
    expect([...base.rootfs].map(([path, e]) => `${path} ${e.type} ${e.linkname}`.trim())).toEqual([
      'usr/bin directory',
      'bin symlink usr/bin'
    ])
  })

  it('pulls for the platform when the engine holds another one under the reference', async () => {
    engine.tags.set('base:1', await engine.publish('base:1', 'amd64'))
    const arm = await engine.publish('base:1', 'arm64')
    expect((await cache.get('base:1', 'linux/arm64')).id).toBe(arm.id)
    expect(engine.calls).toEqual([
      'inspect base:1',
      'pull base:1 linux/arm64',
      'inspect base:1',
      `export ${arm.id}`
    ])
  })

  it('a failed pull names the base, the platform and the remedies', async () => {
    await expect(cache.get('base:1', 'linux/s390x')).rejects.toThrow(
      new ReleaseError(
        'base image base:1 is not available for linux/s390x: no matching manifest for linux/s390x. ' +
          'Make its registry reachable, or load an image for linux/s390x under that reference ' +
          '(docker load), or choose another base image'
      )
    )
  })

  it('a pull that gives another platform is an error naming what it gave', async () => {
    engine.registry.set('base:1 linux/arm64', { id: 'sha256:x', os: 'linux', architecture: 'amd64' })
    await expect(cache.get('base:1', 'linux/arm64')).rejects.toThrow(
      'base image base:1 is not available for linux/arm64: the pull gave linux/amd64.'
    )
  })

  it('a platform other than linux/<arch> is refused before the engine is asked', async () => {
    await expect(cache.get('base:1', 'windows/amd64')).rejects.toThrow(
      "unsupported platform 'windows/amd64' for a server image: expected linux/<arch>"
    )
    expect(engine.calls).toEqual([])
  })

  it('exports each (reference, platform) once for all the requests', async () => {
    engine.tags.set('base:1', await engine.publish('base:1', 'amd64'))
    const bases = await Promise.all([1, 2, 3].map(() => cache.get('base:1', 'linux/amd64')))
    expect(new Set(bases).size).toBe(1)
    expect(engine.calls.filter(call => call.startsWith('export'))).toHaveLength(1)
  })

  it('one reference at a time: a platform is pulled and exported before the next is pulled', async () => {
    const [amd, arm] = [await engine.publish('base:1', 'amd64'), await engine.publish('base:1', 'arm64')]
    const bases = await Promise.all([cache.get('base:1', 'linux/amd64'), cache.get('base:1', 'linux/arm64')])
    expect(bases.map(b => b.id)).toEqual([amd.id, arm.id])
    expect(engine.calls).toEqual([
      'inspect base:1',
      'pull base:1 linux/amd64',
      'inspect base:1',
      `export ${amd.id}`,
      'inspect base:1',
      'pull base:1 linux/arm64',
      'inspect base:1',
      `export ${arm.id}`
    ])
  })

  it('different references are fetched side by side', async () => {
    engine.tags.set('a:1', await engine.publish('a:1', 'amd64'))
    engine.tags.set('bb:1', await engine.publish('bb:1', 'amd64'))
    await Promise.all([cache.get('a:1', 'linux/amd64'), cache.get('bb:1', 'linux/amd64')])
    expect(engine.calls.slice(0, 2)).toEqual(['inspect a:1', 'inspect bb:1'])
  })

  it('an export member that would land outside its directory is refused', async () => {
    const image = await engine.publish('base:1', 'amd64')
    engine.tags.set('base:1', image)
    engine.exports.set(
      image.id,
      await tarBuffer([{ kind: 'data', path: '../escaped', data: 'x', mode: 0o644 }], MTIME)
    )
    await expect(cache.get('base:1', 'linux/amd64')).rejects.toThrow(
      new ReleaseError("unsafe member '../escaped' in an image export")
    )
    await expect(readdir(join(tmp, '..'))).resolves.not.toContain('escaped')
  })

  it('a manifest naming a file outside the export through a symlink is refused', async () => {
    const image = await engine.publish('base:1', 'amd64')
    engine.tags.set('base:1', image)
    const manifest = JSON.stringify([{ Config: 'config.json', Layers: [] }])
    engine.exports.set(
      image.id,
      await tarBuffer(
        [
          { kind: 'symlink', path: 'config.json', target: '/etc/hostname' },
          { kind: 'data', path: 'manifest.json', data: manifest, mode: 0o644 }
        ],
        MTIME
      )
    )
    await expect(cache.get('base:1', 'linux/amd64')).rejects.toThrow("unsafe path 'config.json'")
  })

  it('an export that breaks off is an export error naming the image', async () => {
    const image = await engine.publish('base:1', 'amd64')
    engine.tags.set('base:1', image)
    const whole = engine.exports.get(image.id)!
    engine.exports.set(image.id, whole.subarray(0, 700))
    const failure = cache.get('base:1', 'linux/amd64')
    await expect(failure).rejects.toThrow(ReleaseError)
    // The short ID, as `docker images` shows it.
    const shortId = image.id.slice('sha256:'.length, 'sha256:'.length + 12)
    await expect(failure).rejects.toThrow(
      new RegExp(`^exporting image ${shortId} failed: Unexpected end of data$`)
    )
  })

  it('dispose removes the unpacked exports', async () => {
    engine.tags.set('base:1', await engine.publish('base:1', 'amd64'))
    await cache.get('base:1', 'linux/amd64')
    expect(await readdir(tmp)).toHaveLength(1)
    await cache.dispose()
    expect(await readdir(tmp)).toEqual([])
  })
})
