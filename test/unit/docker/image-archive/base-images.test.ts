// Base images for a platform (src/docker/image-archive/base-images.ts) from a stand-in engine: which
// image is used or pulled, the export unpacked safely and merged, once per (reference, platform),
// one reference at a time.
import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { tarBuffer, type TarMember } from '../../../../src/archive/tar.js'
import { BaseImageCache } from '../../../../src/docker/image-archive/base-images.js'
import { ReleaseError } from '../../../../src/errors.js'
import { startRegistry } from '../../../helpers/registry.js'
import { StandInEngine, imageExport, layerTar, sha256, silent, type ExportFormat } from './stand-in-engine.js'

const MTIME = { mtime: new Date(0) }
const FORMATS: ExportFormat[] = ['legacy', 'oci-gzip', 'oci-zstd']

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
      'oci-gzip'
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

  it.each(FORMATS)(
    'a %s export: each layer`s compression, and the size and digest of its uncompressed tar',
    async format => {
      const members: TarMember[][] = [
        [{ kind: 'data', path: 'etc/os-release', data: 'ID=stand-in\n', mode: 0o644 }],
        [{ kind: 'data', path: 'etc/big', data: Buffer.alloc(100_000, 0x61), mode: 0o644 }]
      ]
      engine.tags.set('base:1', await engine.publish('base:1', 'amd64', members, format))
      const tars = await Promise.all(members.map(layerTar))
      const base = await cache.get('base:1', 'linux/amd64')
      const stored = { legacy: 'none', 'oci-gzip': 'gzip', 'oci-zstd': 'zstd' }[format]
      expect(base.layers.map(({ compression, diffId, size }) => ({ compression, diffId, size }))).toEqual(
        tars.map(tar => ({ compression: stored, diffId: `sha256:${sha256(tar)}`, size: tar.length }))
      )
    }
  )

  it.each(FORMATS)(
    'a %s export whose layer is not what its config says is an error naming the image and the layer',
    async format => {
      const image = await engine.publish('base:1', 'amd64', [], format)
      engine.tags.set('base:1', image)
      const tar = await layerTar([{ kind: 'data', path: 'etc/os-release', data: 'ID=debian\n', mode: 0o644 }])
      const corrupt = Buffer.from(tar)
      // The first byte of the member's content: the tar still reads, its digest is another.
      corrupt[512] ^= 1
      const diffId = `sha256:${sha256(tar)}`
      engine.exports.set(image.id, await imageExport('amd64', [corrupt], format, [diffId]))
      const exported = (await cache.get('base:1', 'linux/amd64').catch((err: unknown) => err)) as Error
      expect(exported).toBeInstanceOf(ReleaseError)
      const name =
        format === 'legacy' ? String.raw`[0-9a-f]{64}/layer\.tar` : String.raw`blobs/sha256/[0-9a-f]{64}`
      expect(exported.message).toMatch(
        new RegExp(
          `^base image base:1: layer ${name} is not the layer its config names: its tar's digest is ` +
            `sha256:${sha256(corrupt)}, the config's diff_id ${diffId}\\. Remove the image and pull or load it again$`
        )
      )
    }
  )

  it('a compressed layer that does not decompress is an error naming the image and the layer', async () => {
    const image = await engine.publish('base:1', 'amd64')
    engine.tags.set('base:1', image)
    const tar = await layerTar([{ kind: 'data', path: 'etc/os-release', data: 'ID=debian\n', mode: 0o644 }])
    const blob = gzipSync(tar)
    const exported = await imageExport('amd64', [tar], 'oci-gzip')
    // A byte of the gzip trailer's CRC-32 changed in place: the export reads, the blob does not.
    exported[exported.indexOf(blob) + blob.length - 8] ^= 1
    engine.exports.set(image.id, exported)
    await expect(cache.get('base:1', 'linux/amd64')).rejects.toThrow(
      new ReleaseError(
        `base image base:1: reading its layer blobs/sha256/${sha256(blob)} failed: incorrect data check`
      )
    )
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
    engine.registry.set('base:1 linux/arm64', await engine.publish('base:1', 'amd64'))
    await expect(cache.get('base:1', 'linux/arm64')).rejects.toThrow(
      'base image base:1 is not available for linux/arm64: the pull gave linux/amd64.'
    )
  })

  it('on the containerd store, each platform comes out of the export by its index, whatever inspect shows', async () => {
    const image = await engine.publishMultiPlatform('base:1', ['amd64', 'arm64'])
    engine.tags.set('base:1', image)
    const arm = await cache.get('base:1', 'linux/arm64')
    const amd = await cache.get('base:1', 'linux/amd64')
    expect(engine.calls).toEqual([
      'inspect base:1',
      'pull base:1 linux/arm64',
      'inspect base:1',
      `export ${image.id}`,
      'inspect base:1',
      `export ${image.id}`
    ])
    expect([arm.config.architecture, amd.config.architecture]).toEqual(['arm64', 'amd64'])
    expect(arm.layers.map(l => l.diffId)).toEqual(arm.config.rootfs?.diff_ids)
    expect(arm.layers.map(l => l.diffId)).not.toEqual(amd.layers.map(l => l.diffId))
  })

  it('on the containerd store, a platform the export does not hold is an error naming what it gave', async () => {
    engine.tags.set('base:1', await engine.publishMultiPlatform('base:1', ['amd64', 'arm64'], ['amd64']))
    await expect(cache.get('base:1', 'linux/arm64')).rejects.toThrow(
      'base image base:1 is not available for linux/arm64: the pull gave linux/amd64.'
    )
  })

  it('a Windows base comes from its registry, its os.version entry chosen, never through the engine', async () => {
    const registry = await startRegistry()
    try {
      await registry.push('hpc', 'v1', [
        { os: 'linux', arch: 'amd64', files: [{ path: 'etc/os', content: 'linux\n' }] },
        {
          os: 'windows',
          arch: 'amd64',
          osVersion: '10.0.17763.1',
          files: [
            { path: 'Files/License.txt', content: 'cc0\n' },
            { path: 'Hives/DefaultUser_Delta', content: '' }
          ]
        }
      ])
      const base = await cache.get(`${registry.host}/hpc:v1`, 'windows/amd64')
      expect(base.config).toMatchObject({
        os: 'windows',
        architecture: 'amd64',
        'os.version': '10.0.17763.1'
      })
      expect(base.rootfs.get('Files/License.txt')?.type).toBe('other')
      expect(base.layers).toHaveLength(1)
      expect(base.layers[0]).toMatchObject({ compression: 'gzip', diffId: base.config.rootfs?.diff_ids?.[0] })
      expect(engine.calls).toEqual([])
      expect(registry.requests.filter(r => r.includes('/blobs/'))).toHaveLength(2)
    } finally {
      await registry.close()
    }
  })

  it('a registry without an image for the platform names the platforms it has', async () => {
    const registry = await startRegistry()
    try {
      await registry.push('hpc', 'v1', [
        { os: 'linux', arch: 'amd64', files: [] },
        { os: 'linux', arch: 'arm64', files: [] }
      ])
      await expect(cache.get(`${registry.host}/hpc:v1`, 'windows/amd64')).rejects.toThrow(
        `base image ${registry.host}/hpc:v1 has no image for windows/amd64 (it has linux/amd64, linux/arm64)`
      )
    } finally {
      await registry.close()
    }
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
