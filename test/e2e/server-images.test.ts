// Server image archives (src/docker/image-archive/) against the real engine: stand-in base images
// made here and loaded with `docker load`, a static hello binary built in the stand-in kube-cross
// image, outputs loaded back and inspected, exported and run.
import { execFile } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { buffer } from 'node:stream/consumers'
import { promisify } from 'node:util'
import tar from 'tar-stream'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { connectEngine, type Engine } from '../../src/docker/engine.js'
import { BaseImageCache } from '../../src/docker/image-archive/base-images.js'
import { writeServerImage, type ServerImageRequest } from '../../src/docker/image-archive/server-image.js'
import { serverImageSpecs, serverImageTags, type ServerImageBinary } from '../../src/kube/server-images.js'
import type { Logger } from '../../src/logger.js'
import { startRegistry, type Registry } from '../helpers/registry.js'
import { pythonTarList } from '../unit/archive/readers.js'
import { readVfsCapData } from '../unit/docker/image-archive/vfs-cap-data.js'
import { standInKubeCross } from './helpers.js'

// Never execFileSync: the test registry answers from this process's event loop.
const run = promisify(execFile)
const MAX_BUFFER = 256 << 20
const docker = async (...args: string[]): Promise<string> =>
  (await run('docker', args, { maxBuffer: MAX_BUFFER })).stdout.trim()
const dockerBytes = async (...args: string[]): Promise<Buffer> =>
  (await run('docker', args, { encoding: 'buffer', maxBuffer: MAX_BUFFER })).stdout

const RUN_ID = randomBytes(4).toString('hex')
/** A registry no one listens on: a pull from it fails at once. */
const STAND_IN_REPO = `127.0.0.1:9/kube-release-e2e-${RUN_ID}/go-runner`
const VERSION = `v1.31.0+e2e${RUN_ID}`
const CREATED = new Date('2024-08-13T10:20:30Z')
/** vfs_cap_data v2 of cap_net_bind_service=+ep: magic_etc 0x02000001, permitted[0] = 1 << 10. */
const NET_BIND_SERVICE_EP = Buffer.from([1, 0, 0, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])
/** linux/capability.h; each makes a byte of 0x80 in the permitted word of vfs_cap_data. */
const CAP_SETUID = 7
const CAP_SETFCAP = 31

const specs = new Map(serverImageSpecs({}).map(spec => [spec.binary, spec]))
const sha256 = (data: Buffer | string): string => createHash('sha256').update(data).digest('hex')

class RecordingLogger implements Logger {
  readonly lines: string[] = []
  info(message: string): void {
    this.lines.push(message)
  }
  warning(message: string): void {
    this.lines.push(`warning: ${message}`)
  }
  debug(message: string): void {
    this.lines.push(`debug: ${message}`)
  }
  group<T>(_title: string, fn: () => Promise<T>): Promise<T> {
    return fn()
  }
  annotate(): void {}
  mask(): void {}
}

interface Member {
  readonly name: string
  readonly type?: 'file' | 'directory' | 'symlink'
  readonly data?: string | Buffer
  readonly linkname?: string
  readonly mode?: number
}

async function tarBytes(members: readonly Member[]): Promise<Buffer> {
  const pack = tar.pack()
  const bytes = buffer(pack)
  for (const { data, ...member } of members) {
    const header = {
      uid: 0,
      gid: 0,
      mtime: new Date(0),
      mode: member.type === 'file' ? 0o644 : 0o755,
      ...member
    }
    await new Promise<void>((ok, fail) => {
      const done = (err?: Error | null): void => (err ? fail(err) : ok())
      if (data === undefined) pack.entry(header, done)
      else pack.entry(header, data, done)
    })
  }
  pack.finalize()
  return bytes
}

interface Unpacked {
  readonly header: tar.Header
  readonly data: Buffer
}

async function untar(data: Buffer): Promise<Map<string, Unpacked>> {
  const members = new Map<string, Unpacked>()
  const extract = tar.extract()
  Readable.from([data]).pipe(extract)
  for await (const entry of extract) {
    members.set(entry.header.name.replace(/\/$/, ''), { header: entry.header, data: await buffer(entry) })
  }
  return members
}

/** The raw bytes of a member's security.capability xattr, from its PAX header. */
function capabilityXattr(header: tar.Header): Buffer | undefined {
  const value = (header.pax as Record<string, string> | null)?.['SCHILY.xattr.security.capability']
  return value === undefined ? undefined : Buffer.from(value, 'latin1')
}

/**
 * A docker-archive of a two-layer linux/<arch> image shaped like go-runner, whose second layer
 * turns the first's /bin directory into the merged-/usr `bin -> usr/bin` (a whiteout, then the
 * symlink); an entrypoint and a Cmd; /etc/base-arch naming the arch.
 */
async function standInBase(arch: string, ref: string): Promise<Buffer> {
  const layers = [
    await tarBytes([
      { name: 'bin', type: 'directory' },
      { name: 'bin/old-tool', type: 'file', data: 'old\n' },
      { name: 'etc', type: 'directory' },
      { name: 'etc/base-arch', type: 'file', data: `${arch}\n` },
      { name: 'usr', type: 'directory' },
      { name: 'usr/bin', type: 'directory' },
      { name: 'usr/local', type: 'directory' },
      { name: 'usr/local/bin', type: 'directory' }
    ]),
    await tarBytes([
      { name: '.wh.bin', type: 'file', data: '' },
      { name: 'bin', type: 'symlink', linkname: 'usr/bin' },
      { name: 'etc', type: 'directory' },
      { name: 'etc/base-layer', type: 'file', data: 'second\n' }
    ])
  ]
  const config = JSON.stringify({
    architecture: arch,
    os: 'linux',
    created: '1970-01-01T00:00:00Z',
    config: { Env: ['PATH=/usr/local/bin:/usr/bin:/bin'], Entrypoint: ['/go-runner'], Cmd: ['--help'] },
    rootfs: { type: 'layers', diff_ids: layers.map(l => `sha256:${sha256(l)}`) },
    history: layers.map((_, i) => ({ created: '1970-01-01T00:00:00Z', created_by: `stand-in layer ${i}` }))
  })
  const layerNames = layers.map((_, i) => `layer${i}/layer.tar`)
  const manifest = [{ Config: `${sha256(config)}.json`, RepoTags: [ref], Layers: layerNames }]
  return tarBytes([
    ...layers.map((data, i) => ({ name: layerNames[i], type: 'file' as const, data })),
    { name: `${sha256(config)}.json`, type: 'file', data: config },
    { name: 'manifest.json', type: 'file', data: JSON.stringify(manifest) }
  ])
}

/** Loads a docker-archive; returns the references it reported. */
async function load(path: string): Promise<string[]> {
  const out = await docker('load', '-i', path)
  // Podman 4.3 names all of an archive's tags on one line, comma-separated.
  return [...out.matchAll(/^Loaded image(?: ID)?: (.+)$/gm)].flatMap(m => m[1].split(','))
}

interface Inspected {
  Id: string
  Os: string
  Architecture: string
  RepoTags: string[]
  Config: { Entrypoint: string[] | null; Cmd: string[] | null }
}

const inspect = async (ref: string): Promise<Inspected> =>
  (JSON.parse(await docker('image', 'inspect', ref)) as Inspected[])[0]

describe('server image archives', () => {
  let engine: Engine
  let work: string
  let registry: Registry | undefined
  const log = new RecordingLogger()
  const caches: BaseImageCache[] = []
  const imagesToRemove = new Set<string>()
  const containersToRemove = new Set<string>()

  const standIn = (arch: string): string => `${STAND_IN_REPO}:${arch}`
  const hello = (arch: string): string => join(work, 'bin', `hello-${arch}`)

  function newCache(): BaseImageCache {
    const cache = new BaseImageCache(engine.images, log, work)
    caches.push(cache)
    return cache
  }

  /** Loads an archive this test wrote, remembering the tags and the ID for removal. */
  async function loadOutput(path: string, tags: readonly string[]): Promise<Inspected> {
    tags.forEach(tag => imagesToRemove.add(tag))
    const loaded = await load(path)
    const image = await inspect(tags[0])
    imagesToRemove.add(image.Id)
    expect(loaded.sort()).toEqual([...tags].sort())
    return image
  }

  /** The merged file system of an image as a tar, as `docker export` of a created container gives it. */
  async function exportedTar(image: string): Promise<Buffer> {
    const name = `kube-release-e2e-${RUN_ID}-${containersToRemove.size}`
    containersToRemove.add(name)
    // Some images have neither entrypoint nor command; the container is never started.
    await docker('create', '--name', name, image, 'never-run')
    try {
      return await dockerBytes('export', name)
    } finally {
      await docker('rm', '-f', name)
    }
  }

  const exportedFiles = async (image: string): Promise<Map<string, Unpacked>> =>
    untar(await exportedTar(image))

  function request(
    binary: ServerImageBinary,
    arch: string,
    output: string,
    bases = caches[0]
  ): ServerImageRequest {
    const spec = specs.get(binary)!
    return {
      bases,
      log,
      baseRef: standIn(arch),
      platform: `linux/${arch}`,
      binaryPath: hello(arch),
      imagePath: spec.imagePath,
      capabilities: spec.capabilities,
      entrypoint: spec.entrypoint,
      tags: serverImageTags(binary, arch, VERSION, { KUBE_DOCKER_REGISTRY: `localhost:5000/e2e-${RUN_ID}` }),
      created: CREATED,
      output
    }
  }

  beforeAll(async () => {
    engine = await connectEngine(log, { cancel: new AbortController().signal, stallTimeoutMs: 300_000 })
    work = await mkdtemp(join(tmpdir(), 'kube-release-images-e2e-'))
    const program = 'package main\nimport "fmt"\nfunc main() { fmt.Println("hello") }\n'
    // Copied out over the API, not through a bind mount: the engine may not see this machine's files.
    const builder = `kube-release-e2e-${RUN_ID}-hello`
    containersToRemove.add(builder)
    await docker(
      'create',
      '--name',
      builder,
      '-e',
      'CGO_ENABLED=0',
      standInKubeCross(),
      'sh',
      '-c',
      `mkdir -p /out && cd /tmp && printf '%s' '${program}' > m.go && go mod init x >/dev/null 2>&1 && ` +
        'GOARCH=amd64 go build -o /out/hello-amd64 m.go && GOARCH=arm64 go build -o /out/hello-arm64 m.go'
    )
    await docker('start', '-a', builder)
    // Into a directory that exists: Podman copies `/out/.` into the parent of one that does not.
    await mkdir(join(work, 'bin'))
    await docker('cp', `${builder}:/out/.`, join(work, 'bin'))
    await docker('rm', '-f', builder)
    for (const arch of ['amd64', 'arm64']) {
      const path = join(work, `base-${arch}.tar`)
      await writeFile(path, await standInBase(arch, standIn(arch)))
      imagesToRemove.add(standIn(arch))
      await load(path)
      imagesToRemove.add((await inspect(standIn(arch))).Id)
    }
    newCache()
  })

  afterAll(async () => {
    await Promise.all(caches.map(cache => cache.dispose()))
    await registry?.close()
    for (const name of containersToRemove) await run('docker', ['rm', '-f', name]).catch(() => undefined)
    for (const ref of imagesToRemove) await run('docker', ['rmi', '-f', ref]).catch(() => undefined)
    if (work) await rm(work, { recursive: true, force: true })
  })

  it('writes kube-apiserver for linux/amd64 with its capability, both tags, and it runs', async () => {
    const req = request('kube-apiserver', 'amd64', join(work, 'kube-apiserver-amd64.tar'))
    await writeServerImage(req)
    expect(req.tags).toEqual([
      `registry.k8s.io/kube-apiserver-amd64:${VERSION.replace('+', '_')}`,
      `localhost:5000/e2e-${RUN_ID}/kube-apiserver-amd64:${VERSION.replace('+', '_')}`
    ])
    expect((await readdir(work)).filter(name => name.endsWith('.partial'))).toEqual([])

    const image = await loadOutput(req.output, req.tags)
    expect(image).toMatchObject({ Os: 'linux', Architecture: 'amd64' })
    expect((await inspect(req.tags[1])).Id).toBe(image.Id)
    // The base's entrypoint and Cmd stay: the generic Dockerfile only adds the binary.
    expect(image.Config).toMatchObject({ Entrypoint: ['/go-runner'], Cmd: ['--help'] })

    const files = await exportedFiles(image.Id)
    expect(files.get('etc/base-arch')?.data.toString()).toBe('amd64\n')
    expect(files.get('etc/base-layer')?.data.toString()).toBe('second\n')
    const binary = files.get('usr/local/bin/kube-apiserver')!
    expect(binary.header).toMatchObject({ type: 'file', uid: 0, gid: 0 })
    expect(binary.header.mode & 0o7777).toBe(0o755)
    expect(binary.data.equals(await readFile(hello('amd64')))).toBe(true)
    const pax = binary.header.pax as Record<string, string> | null
    expect(Buffer.from(pax?.['SCHILY.xattr.security.capability'] ?? '', 'latin1')).toEqual(
      NET_BIND_SERVICE_EP
    )

    // A file capability outside the bounding set would fail the exec: this runs it with the +ep file.
    expect(await docker('run', '--rm', '--entrypoint', '/usr/local/bin/kube-apiserver', image.Id)).toBe(
      'hello'
    )
  })

  it('writes the new layer with capability xattr, 0755 and the archive creation time', async () => {
    const req = request('kube-apiserver', 'amd64', join(work, 'layer-check.tar'))
    await writeServerImage(req)
    const archive = await untar(await readFile(req.output))
    const manifest = JSON.parse(archive.get('manifest.json')!.data.toString()) as {
      Config: string
      Layers: string[]
      RepoTags: string[]
    }[]
    expect(manifest).toHaveLength(1)
    const [{ Config, Layers, RepoTags }] = manifest
    expect(RepoTags).toEqual(req.tags)
    const configBytes = archive.get(Config)!.data
    expect(Config).toBe(`${sha256(configBytes)}.json`)
    const config = JSON.parse(configBytes.toString())
    expect(config).toMatchObject({ architecture: 'amd64', os: 'linux', created: CREATED.toISOString() })
    expect(config.rootfs.diff_ids).toHaveLength(3)
    expect(config.history.at(-1)).toEqual({
      created: CREATED.toISOString(),
      created_by: 'COPY kube-apiserver /usr/local/bin/kube-apiserver # kube-release-action'
    })

    const layerBytes = archive.get(Layers[2])!.data
    expect(config.rootfs.diff_ids[2]).toBe(`sha256:${sha256(layerBytes)}`)
    const layer = await untar(layerBytes)
    expect([...layer.keys()]).toEqual(['usr', 'usr/local', 'usr/local/bin', 'usr/local/bin/kube-apiserver'])
    for (const { header } of layer.values()) {
      expect(header).toMatchObject({ uid: 0, gid: 0, mode: 0o755, mtime: CREATED })
    }
    expect(capabilityXattr(layer.get('usr/local/bin/kube-apiserver')!.header)).toEqual(NET_BIND_SERVICE_EP)
    for (const { header } of archive.values())
      expect(header).toMatchObject({ uid: 0, gid: 0, mtime: CREATED })
  })

  it('writes kubectl for linux/arm64 through the base`s bin -> usr/bin symlink, with its entrypoint', async () => {
    const req = request('kubectl', 'arm64', join(work, 'kubectl-arm64.tar'))
    await writeServerImage(req)
    const image = await loadOutput(req.output, req.tags)
    expect(image).toMatchObject({ Os: 'linux', Architecture: 'arm64' })
    // As a Dockerfile ENTRYPOINT does, the base's Cmd is dropped.
    expect(image.Config).toMatchObject({ Entrypoint: ['/bin/kubectl'], Cmd: null })

    const files = await exportedFiles(image.Id)
    expect(files.get('etc/base-arch')?.data.toString()).toBe('arm64\n')
    expect(files.get('bin')?.header).toMatchObject({ type: 'symlink', linkname: 'usr/bin' })
    expect(files.has('bin/old-tool')).toBe(false)
    const binary = files.get('usr/bin/kubectl')!
    expect(binary.header).toMatchObject({ type: 'file', uid: 0, gid: 0 })
    expect(binary.header.mode & 0o7777).toBe(0o755)
    expect(capabilityXattr(binary.header)).toBeUndefined()
    expect(binary.data.equals(await readFile(hello('arm64')))).toBe(true)
  })

  it('writes kubectl for linux/amd64 whose entrypoint runs', async () => {
    const req = request('kubectl', 'amd64', join(work, 'kubectl-amd64.tar'))
    await writeServerImage(req)
    const image = await loadOutput(req.output, req.tags)
    expect(await docker('run', '--rm', image.Id)).toBe('hello')
  })

  it('keeps capability bytes of 0x80 and up through docker load (setuid, setfcap), and the binary runs', async () => {
    const req = request('kube-apiserver', 'amd64', join(work, 'setuid-setfcap.tar'))
    // Tags of its own, so that the kube-apiserver image loaded above keeps its tags.
    const tags = req.tags.map(tag => `${tag}-caps`)
    await writeServerImage({ ...req, capabilities: [CAP_SETUID, CAP_SETFCAP], tags })
    const image = await loadOutput(req.output, tags)

    // python's tarfile keeps the pax bytes (tar-stream reads them as UTF-8).
    const exported = join(work, 'setuid-setfcap-export.tar')
    await writeFile(exported, await exportedTar(image.Id))
    const binary = pythonTarList(exported, 'r:', { content: false }).find(
      m => m.name === 'usr/local/bin/kube-apiserver'
    )!
    const capability = Buffer.from(binary.pax['SCHILY.xattr.security.capability'], 'hex')
    expect(capability.some(byte => byte >= 0x80)).toBe(true)
    expect(readVfsCapData(capability)).toEqual({
      revision: 2,
      effective: true,
      permitted: [CAP_SETUID, CAP_SETFCAP],
      inheritable: []
    })
    // Both are in the default bounding set; the kernel refuses to exec a +ep file it cannot honour.
    expect(await docker('run', '--rm', '--entrypoint', '/usr/local/bin/kube-apiserver', image.Id)).toBe(
      'hello'
    )
  })

  it('exports each base once per platform for all the images that share it', async () => {
    const exported = log.lines.filter(line => line.startsWith('debug: exported '))
    expect(exported.filter(line => line.includes(`${standIn('amd64')} `))).toHaveLength(1)
    expect(exported.filter(line => line.includes(`${standIn('arm64')} `))).toHaveLength(1)
  })

  it('gives byte-identical archives for the same inputs, from fresh exports', async () => {
    const first = request('kube-apiserver', 'amd64', join(work, 'again-1.tar'), newCache())
    const second = request('kube-apiserver', 'amd64', join(work, 'again-2.tar'), newCache())
    await writeServerImage(first)
    await writeServerImage(second)
    expect(sha256(await readFile(first.output))).toBe(sha256(await readFile(second.output)))
  })

  it('names the base, the platform and the remedies when the base is not there for the platform', async () => {
    const req = request('kube-scheduler', 'amd64', join(work, 'wrong-arch.tar'), newCache())
    await expect(writeServerImage({ ...req, platform: 'linux/s390x' })).rejects.toThrow(
      new RegExp(
        `base image ${standIn('amd64')} is not available for linux/s390x: pulling .+ failed: .+docker load`
      )
    )
    await expect(readdir(work)).resolves.not.toContain('wrong-arch.tar')
    // The failed pull left the engine's image under that tag alone.
    expect(await inspect(standIn('amd64'))).toMatchObject({ Architecture: 'amd64' })
  })

  it('pulls each platform of a multi-arch base, one platform at a time', async () => {
    registry = await startRegistry()
    const ref = `${registry.host}/build-image/distroless-iptables:e2e`
    await registry.push('build-image/distroless-iptables', 'e2e', [
      { os: 'linux', arch: 'amd64', files: [{ path: '/etc/base-arch', content: 'amd64\n' }] },
      { os: 'linux', arch: 'arm64', files: [{ path: '/etc/base-arch', content: 'arm64\n' }] }
    ])
    imagesToRemove.add(ref)
    const bases = newCache()
    const requests = ['amd64', 'arm64'].map(arch => ({
      ...request('kube-proxy', arch, join(work, `kube-proxy-${arch}.tar`), bases),
      baseRef: ref
    }))
    try {
      await Promise.all(requests.map(req => writeServerImage(req)))
    } finally {
      // Pulling the second platform untags the first: both go by ID.
      for (const arch of ['amd64', 'arm64']) {
        await bases.get(ref, `linux/${arch}`).then(
          base => imagesToRemove.add(base.id),
          () => undefined
        )
      }
    }

    // Serialised per reference: each platform is pulled and exported before the next is pulled.
    const steps = log.lines
      .filter(line => line.startsWith(`pulling ${ref} `) || line.startsWith(`debug: exported ${ref} `))
      .map(line => `${line.startsWith('pulling') ? 'pull' : 'export'} ${line.match(/linux\/\w+/)?.[0]}`)
    const [first, second] =
      steps[0] === 'pull linux/amd64' ? ['linux/amd64', 'linux/arm64'] : ['linux/arm64', 'linux/amd64']
    expect(steps).toEqual([`pull ${first}`, `export ${first}`, `pull ${second}`, `export ${second}`])

    for (const [i, arch] of ['amd64', 'arm64'].entries()) {
      const image = await loadOutput(requests[i].output, requests[i].tags)
      expect(image).toMatchObject({ Architecture: arch })
      const files = await exportedFiles(image.Id)
      expect(files.get('etc/base-arch')?.data.toString()).toBe(`${arch}\n`)
      expect(files.has('usr/local/bin/kube-proxy')).toBe(true)
    }
  })

  it('leaves no unpacked exports or layers behind once the caches are disposed', async () => {
    await Promise.all(caches.map(cache => cache.dispose()))
    expect((await readdir(work)).filter(name => name.startsWith('kube-release-'))).toEqual([])
  })
})
