// The image tar files (src/docker/image-archive/docker-archive.ts), read back by GNU tar, python's
// tarfile and, for capabilities, by the kernel and getcap after GNU tar extracts the layer as root.
import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gzipSync, zstdCompressSync } from 'node:zlib'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { TarMember } from '../../../../src/archive/tar.js'
import { CAPABILITY_XATTR, vfsCapData } from '../../../../src/docker/image-archive/capabilities.js'
import { writeDockerArchive, writeLayer } from '../../../../src/docker/image-archive/docker-archive.js'
import type { LayerCompression, LayerFile } from '../../../../src/docker/image-archive/export-reader.js'
import type { Placement } from '../../../../src/docker/image-archive/overlay.js'
import { gnuTar, gnuTarList, pythonTarList, pythonTarLists, xattrsOf } from '../../archive/readers.js'
import { readVfsCapData } from './vfs-cap-data.js'

const CREATED = new Date('2024-08-13T10:20:30Z')
const CREATED_TEXT = '2024-08-13 10:20:30'
const EVERY_CAPABILITY = Array.from({ length: 41 }, (_, cap) => cap)
const XATTR = 'SCHILY.xattr.security.capability'

const PLACEMENT: Placement = {
  path: 'usr/local/bin/kube-apiserver',
  parents: [
    { path: 'usr', mode: 0o755, uid: 0, gid: 0 },
    { path: 'usr/local', mode: 0o750, uid: 0, gid: 50 },
    { path: 'usr/local/bin', mode: 0o711, uid: 3, gid: 0 }
  ]
}

const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex')

let tmp: string
let binary: string
let binaryBytes: Buffer
beforeEach(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'kube-image-archive-'))
  binary = join(tmp, 'kube-apiserver')
  binaryBytes = Buffer.from(Array.from({ length: 70_000 }, (_, i) => (i * 7 + 3) % 251))
  await writeFile(binary, binaryBytes, { mode: 0o600 })
})
afterEach(async () => {
  await rm(tmp, { recursive: true, force: true })
})

/** The members a server image's layer has: the placement's parents, then the binary 0755 0/0. */
function binaryLayer(binaryPath: string, capabilities: readonly number[]): TarMember[] {
  return [
    ...PLACEMENT.parents.map((dir): TarMember => ({ ...dir, kind: 'dir', path: `${dir.path}/` })),
    {
      kind: 'file',
      path: PLACEMENT.path,
      source: binaryPath,
      mode: 0o755,
      uid: 0,
      gid: 0,
      xattrs: capabilities.length > 0 ? { [CAPABILITY_XATTR]: vfsCapData(capabilities) } : undefined
    }
  ]
}

const layerWith = (capabilities: readonly number[], name = `layer-${capabilities.join('-')}.tar`) => {
  const dest = join(tmp, name)
  return writeLayer(dest, binaryLayer(binary, capabilities), CREATED).then(layer => ({ ...layer, dest }))
}

describe('writeLayer', () => {
  it('the parents as the base has them, then the binary 0755 0/0; diff ID and size are those of the bytes', async () => {
    const { dest, diffId, size, compression } = await layerWith([])
    const written = await readFile(dest)
    expect({ diffId, size, compression }).toEqual({
      diffId: `sha256:${sha256(written)}`,
      size: written.length,
      compression: 'none'
    })
    expect(gnuTarList(dest, { numeric: true })).toEqual([
      { mode: 'drwxr-xr-x', owner: '0/0', size: 0, mtime: CREATED_TEXT, path: 'usr/' },
      { mode: 'drwxr-x---', owner: '0/50', size: 0, mtime: CREATED_TEXT, path: 'usr/local/' },
      { mode: 'drwx--x--x', owner: '3/0', size: 0, mtime: CREATED_TEXT, path: 'usr/local/bin/' },
      {
        mode: '-rwxr-xr-x',
        owner: '0/0',
        size: binaryBytes.length,
        mtime: CREATED_TEXT,
        path: 'usr/local/bin/kube-apiserver'
      }
    ])
    const member = pythonTarList(dest, 'r:').at(-1)!
    expect(member.contentHex).toBe(binaryBytes.toString('hex'))
    expect(member.pax).toEqual({})
  })

  it('the same inputs give the same bytes', async () => {
    const first = await layerWith([10], 'first.tar')
    const second = await layerWith([10], 'second.tar')
    expect(second.diffId).toBe(first.diffId)
    expect((await readFile(second.dest)).equals(await readFile(first.dest))).toBe(true)
  })

  it('a missing binary is an error naming it', async () => {
    const dest = join(tmp, 'no-binary.tar')
    await expect(writeLayer(dest, binaryLayer(join(tmp, 'missing'), []), CREATED)).rejects.toThrow('missing')
  })

  it('every capability 0–40: the pax record reads back as that one, permitted and effective', async () => {
    const layers = await Promise.all(EVERY_CAPABILITY.map(cap => layerWith([cap])))
    const archives = pythonTarLists(
      layers.map(l => l.dest),
      'r:',
      { content: false }
    )
    const read = archives.map(members => {
      const { name, pax } = members.at(-1)!
      return { name, ...readVfsCapData(Buffer.from(pax[XATTR], 'hex')) }
    })
    expect(read).toEqual(
      EVERY_CAPABILITY.map(cap => ({
        name: PLACEMENT.path,
        revision: 2,
        effective: true,
        permitted: [cap],
        inheritable: []
      }))
    )
  })
})

// Setting security.capability on extraction needs CAP_SETFCAP: root, as CI runs the tests.
describe.runIf(process.getuid?.() === 0)('a layer extracted by GNU tar as root', () => {
  /** `getcap` output with the paths taken off: one capability text per file. */
  const getcap = (files: readonly string[]): string[] =>
    execFileSync('getcap', files, { encoding: 'utf8' })
      .trim()
      .split('\n')
      .map(line => line.slice(line.indexOf(' ') + 1))

  it('getcap reads each capability 0–40 as `setcap <cap>=ep` sets it, byte for byte', async () => {
    const extracted: string[] = []
    const references: string[] = []
    for (const cap of EVERY_CAPABILITY) {
      const { dest } = await layerWith([cap])
      const dir = join(tmp, `x-${cap}`)
      await mkdir(dir)
      gnuTar(['--xattrs', '--xattrs-include=*', '-xpf', dest, '-C', dir])
      extracted.push(join(dir, PLACEMENT.path))
      const reference = join(tmp, `setcap-${cap}`)
      await copyFile(binary, reference)
      execFileSync('setcap', [`${cap}=ep`, reference])
      references.push(reference)
    }
    const shown = getcap(extracted)
    expect(shown).toEqual(getcap(references))
    // Names from libcap, independent of the code under test.
    expect([7, 15, 31, 40].map(cap => shown[cap])).toEqual([
      'cap_setuid=ep',
      'cap_ipc_owner=ep',
      'cap_setfcap=ep',
      'cap_checkpoint_restore=ep'
    ])
    const attributes = xattrsOf([...extracted, ...references])
    expect(extracted.map(path => attributes[path])).toEqual(references.map(path => attributes[path]))
  }, 60_000)
})

describe('writeDockerArchive', () => {
  /** A layer file holding `content` stored as `compression`; the diff ID is made up, as the writer takes it as given. */
  async function layerFile(name: string, content: Buffer, compression: LayerCompression): Promise<LayerFile> {
    const path = join(tmp, name)
    const compress = { none: (data: Buffer) => data, gzip: gzipSync, zstd: zstdCompressSync }[compression]
    await writeFile(path, compress(content))
    return { path, compression, diffId: `sha256:${name[0].repeat(64)}`, size: content.length }
  }

  it('layers uncompressed, named by diff ID (a repeated one stored once), the config by its sha256, then manifest.json', async () => {
    const a = await layerFile('a', Buffer.from('layer a'), 'none')
    const b = await layerFile('b', Buffer.alloc(1000, 0xff), 'gzip')
    const c = await layerFile('c', Buffer.alloc(3000, 0x01), 'zstd')
    const layers = [a, b, c, a]
    const config = Buffer.from('{"architecture":"arm64"}')
    const tags = ['registry.k8s.io/kube-apiserver-arm64:v1', 'localhost:5000/kube-apiserver-arm64:v1']
    const dest = join(tmp, 'image.tar')
    await writeDockerArchive(dest, { layers, config, tags }, CREATED)

    const configName = `${sha256(config)}.json`
    const layerNames = ['a', 'b', 'c'].map(name => `${name.repeat(64)}/layer.tar`)
    expect(gnuTarList(dest, { numeric: true }).map(e => [e.path, e.mode, e.owner, e.mtime])).toEqual(
      [...layerNames, configName, 'manifest.json'].map(path => [path, '-rw-r--r--', '0/0', CREATED_TEXT])
    )
    const contents = new Map(pythonTarList(dest, 'r:').map(m => [m.name, Buffer.from(m.contentHex!, 'hex')]))
    expect(contents.get(layerNames[0])?.toString()).toBe('layer a')
    expect(contents.get(layerNames[1])).toEqual(Buffer.alloc(1000, 0xff))
    expect(contents.get(layerNames[2])).toEqual(Buffer.alloc(3000, 0x01))
    expect(contents.get(configName)).toEqual(config)
    expect(JSON.parse(contents.get('manifest.json')!.toString())).toEqual([
      { Config: configName, RepoTags: tags, Layers: [...layerNames, layerNames[0]] }
    ])
  })

  it('a layer whose file gives another size than it announced fails the archive', async () => {
    const layer = await layerFile('a', Buffer.alloc(600, 0x02), 'gzip')
    const dest = join(tmp, 'image.tar')
    const image = { layers: [{ ...layer, size: 500 }], config: Buffer.from('{}'), tags: [] }
    await expect(writeDockerArchive(dest, image, CREATED)).rejects.toThrow(
      `${'a'.repeat(64)}/layer.tar: 500 bytes announced, 600 given`
    )
  })
})
