// Images from build steps (src/docker/image-archive/image-writer.ts, build-context.ts): a directory
// copied with its contents, files placed through the base's directory symlinks, one layer per COPY,
// config changes as docker build makes them; Windows images with their layer format and os.version.
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { BaseImageCache } from '../../../../src/docker/image-archive/base-images.js'
import { copyEntries, type BuildContext } from '../../../../src/docker/image-archive/build-context.js'
import { writeImage, type WriteStep } from '../../../../src/docker/image-archive/image-writer.js'
import { startRegistry } from '../../../helpers/registry.js'
import { pythonTarList, type PyMember } from '../../archive/readers.js'
import { StandInEngine, silent } from './stand-in-engine.js'

const CREATED = new Date('2024-08-13T10:20:30Z')

let tmp: string
let context: BuildContext
const caches: BaseImageCache[] = []
beforeEach(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'kube-image-writer-'))
  await mkdir(join(tmp, 'cluster/addons'), { recursive: true })
  await writeFile(join(tmp, 'cluster/addons/dns.yaml'), 'kind: x\n', { mode: 0o644 })
  await writeFile(join(tmp, 'cluster/get.sh'), '#!/bin/sh\n', { mode: 0o700 })
  await symlink('get.sh', join(tmp, 'cluster/latest.sh'))
  await writeFile(join(tmp, 'go-runner'), 'binary', { mode: 0o600 })
  await writeFile(join(tmp, 'archive.tgz'), Buffer.from([0x1f, 0x8b, 8, 0]))
  context = new Map([
    ['cluster', { path: join(tmp, 'cluster') }],
    ['gorunner', { path: join(tmp, 'go-runner'), mode: 0o755 }],
    ['archive.tgz', { path: join(tmp, 'archive.tgz') }]
  ])
})
afterEach(async () => {
  await Promise.all(caches.splice(0).map(cache => cache.dispose()))
  await rm(tmp, { recursive: true, force: true })
})

const copy = (sources: string[], dest: string, refuseArchives = false) =>
  copyEntries(context, { instruction: `COPY ${sources.join(' ')} ${dest}`, sources, dest, refuseArchives })

/** The archive's manifest, config and each layer's members. */
interface WrittenConfig {
  readonly os: string
  readonly config: Record<string, unknown>
  readonly rootfs: { diff_ids: string[] }
  readonly history: { created_by: string; empty_layer?: boolean }[]
}

async function readArchive(
  path: string
): Promise<{ config: WrittenConfig; layers: PyMember[][]; tags: string[] }> {
  const members = new Map(
    pythonTarList(path, 'r:').map(m => [m.name, Buffer.from(m.contentHex ?? '', 'hex')])
  )
  const [{ Config, Layers, RepoTags }] = JSON.parse(members.get('manifest.json')!.toString())
  const layers: PyMember[][] = []
  for (const [i, name] of (Layers as string[]).entries()) {
    const file = join(tmp, `read-layer-${i}.tar`)
    await writeFile(file, members.get(name)!)
    layers.push(pythonTarList(file, 'r:', { content: false }))
  }
  return { config: JSON.parse(members.get(Config)!.toString()), layers, tags: RepoTags }
}

describe('copyEntries', () => {
  it('a directory: its contents into the destination, modes and symlinks kept, sorted', async () => {
    expect(await copy(['cluster'], '/kubernetes/cluster')).toEqual([
      { kind: 'dir', imagePath: '/kubernetes/cluster', mode: 0o755 },
      { kind: 'dir', imagePath: '/kubernetes/cluster/addons', mode: 0o755 },
      {
        kind: 'file',
        imagePath: '/kubernetes/cluster/addons/dns.yaml',
        source: join(tmp, 'cluster/addons/dns.yaml'),
        mode: 0o644
      },
      {
        kind: 'file',
        imagePath: '/kubernetes/cluster/get.sh',
        source: join(tmp, 'cluster/get.sh'),
        mode: 0o700
      },
      { kind: 'symlink', imagePath: '/kubernetes/cluster/latest.sh', target: 'get.sh' }
    ])
  })

  it('a file: to the destination, or into it with a trailing /; the context`s mode (chmod a+rx)', async () => {
    expect(await copy(['gorunner'], '/usr/local/bin/kubeconformance')).toEqual([
      {
        kind: 'file',
        imagePath: '/usr/local/bin/kubeconformance',
        source: join(tmp, 'go-runner'),
        mode: 0o755
      }
    ])
    expect((await copy(['gorunner'], '/usr/local/bin/'))[0]).toMatchObject({
      imagePath: '/usr/local/bin/gorunner'
    })
  })

  it('refuses what is not in the context, and an archive ADD would unpack', async () => {
    await expect(copy(['nope'], '/x')).rejects.toThrow(
      "'COPY nope /x': nope is not in the build context (cluster, gorunner, archive.tgz)"
    )
    await expect(copy(['../etc/passwd'], '/x')).rejects.toThrow(/is not in the build context/)
    await expect(copy(['archive.tgz'], '/x', true)).rejects.toThrow(
      /ADD would unpack the archive archive.tgz/
    )
    expect(await copy(['archive.tgz'], '/x')).toHaveLength(1)
  })
})

describe('writeImage', () => {
  it('linux: one layer per COPY, placed through bin -> usr/bin, config changes as docker build makes them', async () => {
    const engine = new StandInEngine()
    engine.tags.set(
      'base:1',
      await engine.publish('base:1', 'arm64', [
        [
          { kind: 'dir', path: 'usr/', mode: 0o755 },
          { kind: 'dir', path: 'usr/bin/', mode: 0o755 },
          { kind: 'symlink', path: 'bin', target: 'usr/bin' }
        ]
      ])
    )
    const bases = new BaseImageCache(engine, silent, tmp)
    caches.push(bases)
    const steps: WriteStep[] = [
      {
        createdBy: 'COPY cluster /kubernetes/cluster',
        entries: await copy(['cluster'], '/kubernetes/cluster')
      },
      { createdBy: 'COPY gorunner /bin/', entries: await copy(['gorunner'], '/bin/') },
      { createdBy: 'ENV A=1', patch: { Env: ['PATH=/bin', 'A=1'] } },
      { createdBy: 'ENTRYPOINT ["gorunner"]', patch: { Entrypoint: ['gorunner'] } }
    ]
    const output = join(tmp, 'image.tar')
    await writeImage({
      bases,
      log: silent,
      baseRef: 'base:1',
      platform: 'linux/arm64',
      steps,
      tags: ['x/conformance-arm64:v1'],
      created: CREATED,
      output
    })
    const { config, layers, tags } = await readArchive(output)
    expect(tags).toEqual(['x/conformance-arm64:v1'])
    expect(config).toMatchObject({ os: 'linux', architecture: 'arm64', created: CREATED.toISOString() })
    expect(config.config).toEqual({ Env: ['PATH=/bin', 'A=1'], Entrypoint: ['gorunner'] })
    expect(config.rootfs.diff_ids).toHaveLength(3)
    // The stand-in base has no history of its own.
    expect(config.history.map(h => [h.created_by, h.empty_layer ?? false])).toEqual([
      ['COPY cluster /kubernetes/cluster', false],
      ['COPY gorunner /bin/', false],
      ['ENV A=1', true],
      ['ENTRYPOINT ["gorunner"]', true]
    ])
    expect(layers[1].map(m => [m.name, m.mode, m.uid])).toEqual([
      ['kubernetes/', 0o755, 0],
      ['kubernetes/cluster/', 0o755, 0],
      ['kubernetes/cluster/addons/', 0o755, 0],
      ['kubernetes/cluster/addons/dns.yaml', 0o644, 0],
      ['kubernetes/cluster/get.sh', 0o700, 0],
      ['kubernetes/cluster/latest.sh', 0o777, 0]
    ])
    expect(layers[2].map(m => [m.name, m.mode])).toEqual([
      ['usr/', 0o755],
      ['usr/bin/', 0o755],
      ['usr/bin/gorunner', 0o755]
    ])
  })

  it('windows: the base from its registry, the layer under Files/ with Windows records, os.version kept', async () => {
    const registry = await startRegistry()
    try {
      await registry.push('hpc', 'v1', [
        {
          os: 'windows',
          arch: 'amd64',
          osVersion: '10.0.20348.1',
          files: [{ path: 'Files/License.txt', content: 'x' }]
        }
      ])
      const bases = new BaseImageCache(new StandInEngine(), silent, tmp)
      caches.push(bases)
      const output = join(tmp, 'windows.tar')
      await writeImage({
        bases,
        log: silent,
        baseRef: `${registry.host}/hpc:v1`,
        platform: 'windows/amd64',
        steps: [
          { createdBy: 'COPY gorunner /kube-proxy/', entries: await copy(['gorunner'], '/kube-proxy/') }
        ],
        tags: ['registry.k8s.io/kube-proxy-windows-amd64:v1'],
        created: CREATED,
        output
      })
      const { config, layers } = await readArchive(output)
      expect(config).toMatchObject({ os: 'windows', architecture: 'amd64', 'os.version': '10.0.20348.1' })
      expect(layers[0].some(m => m.name === 'Files/License.txt')).toBe(true)
      expect(layers[1].map(m => m.name)).toEqual([
        'Hives/',
        'Files/',
        'Files/kube-proxy/',
        'Files/kube-proxy/gorunner'
      ])
      const attribute = (m: PyMember) => Buffer.from(m.pax['MSWINDOWS.fileattr'], 'hex').toString()
      expect(layers[1].map(attribute)).toEqual(['16', '16', '16', '32'])
    } finally {
      await registry.close()
    }
  })
})
