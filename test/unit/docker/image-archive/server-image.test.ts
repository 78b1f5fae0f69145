// Server image archives (src/docker/image-archive/server-image.ts) from base images exported as
// different engines and image stores export them: the same base gives the same archive bytes.
import { randomBytes } from 'node:crypto'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { TarMember } from '../../../../src/archive/tar.js'
import { BaseImageCache } from '../../../../src/docker/image-archive/base-images.js'
import { writeServerImage } from '../../../../src/docker/image-archive/server-image.js'
import { pythonTarList } from '../../archive/readers.js'
import { StandInEngine, sha256, silent, type ExportFormat } from './stand-in-engine.js'

const CREATED = new Date('2024-08-13T10:20:30Z')

/** A small Debian-like base: a merged /usr and a file big enough to span many zlib chunks. */
const BASE_LAYERS: TarMember[][] = [
  [
    { kind: 'dir', path: 'usr/', mode: 0o755 },
    { kind: 'dir', path: 'usr/bin/', mode: 0o755 },
    { kind: 'symlink', path: 'bin', target: 'usr/bin' },
    { kind: 'data', path: 'etc/os-release', data: 'ID=stand-in\n', mode: 0o644 }
  ],
  [{ kind: 'data', path: 'usr/lib/libbig.so', data: randomBytes(300_000), mode: 0o755 }]
]

let tmp: string
let binary: string
const caches: BaseImageCache[] = []
beforeEach(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'kube-server-image-'))
  binary = join(tmp, 'kubectl')
  await writeFile(binary, randomBytes(70_000))
})
afterEach(async () => {
  await Promise.all(caches.splice(0).map(cache => cache.dispose()))
  await rm(tmp, { recursive: true, force: true })
})

/** The server image archive of kubectl on the base, as an engine exporting in `format` gives it. */
async function serverImage(format: ExportFormat): Promise<Buffer> {
  const engine = new StandInEngine()
  engine.tags.set('base:1', await engine.publish('base:1', 'arm64', BASE_LAYERS, format))
  const bases = new BaseImageCache(engine, silent, tmp)
  caches.push(bases)
  const output = join(tmp, `kubectl-${format}.tar`)
  await writeServerImage({
    bases,
    log: silent,
    baseRef: 'base:1',
    platform: 'linux/arm64',
    binaryPath: binary,
    imagePath: '/bin/kubectl',
    entrypoint: ['/bin/kubectl'],
    tags: ['registry.k8s.io/kubectl-arm64:v1.31.0'],
    created: CREATED,
    output
  })
  return readFile(output)
}

describe('writeServerImage', () => {
  it.each(['oci-gzip', 'oci-zstd'] as const)(
    'the same archive bytes from an %s export as from a legacy export with plain layers',
    async format => {
      const [legacy, oci] = await Promise.all([serverImage('legacy'), serverImage(format)])
      expect(sha256(oci)).toBe(sha256(legacy))
    }
  )

  it('holds every layer as the plain tar its config names, under its diff ID', async () => {
    const archive = join(tmp, 'from-gzip.tar')
    await writeFile(archive, await serverImage('oci-gzip'))
    const members = new Map(
      pythonTarList(archive, 'r:').map(m => [m.name, Buffer.from(m.contentHex!, 'hex')])
    )
    const [{ Config, Layers }] = JSON.parse(members.get('manifest.json')!.toString()) as {
      Config: string
      Layers: string[]
    }[]
    const config = JSON.parse(members.get(Config)!.toString()) as { rootfs: { diff_ids: string[] } }
    expect(config.rootfs.diff_ids).toHaveLength(BASE_LAYERS.length + 1)
    expect(Layers).toEqual(config.rootfs.diff_ids.map(id => `${id.replace('sha256:', '')}/layer.tar`))
    expect(Layers.map(name => `sha256:${sha256(members.get(name)!)}`)).toEqual(config.rootfs.diff_ids)
  })
})
