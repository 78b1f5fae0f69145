// A tiny read-only Docker Registry HTTP API V2 in memory, so e2e tests can exercise the engine's real
// pull path (including `--platform` pulls of multi-arch images) with no registry on the internet.
// Docker treats 127.0.0.0/8 as an insecure registry by default, so plain HTTP on 127.0.0.1 is enough
// there. Podman trusts only the plain-HTTP registries its registries.conf names when its service
// starts: with KRA_TEST_REGISTRY_PORT set, the registry listens on the first free port of that port
// and the next REGISTRY_PORTS - 1, the ones scripts/engines.sh declares.
import { createHash } from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { buffer } from 'node:stream/consumers'
import { gzipSync } from 'node:zlib'
import tar from 'tar-stream'

export interface PlatformImage {
  os: string
  arch: string
  variant?: string
  /** Windows images: the build they were made for, in the config and the index entry. */
  osVersion?: string
  files: { path: string; content: string | Buffer; mode?: number }[]
  config?: { Entrypoint?: string[]; Cmd?: string[]; Env?: string[]; User?: string }
}

export interface Registry {
  /** "127.0.0.1:PORT", the registry part of image references. */
  readonly host: string
  /** "METHOD /path" of every request served, in order. */
  readonly requests: readonly string[]
  /** IDs the engine gives the images pushed so far, once pulled (their config digests). */
  readonly imageIds: readonly string[]
  /** Publishes `images` as repo:tag; several images make a manifest list. */
  push(repo: string, tag: string, images: PlatformImage[]): Promise<void>
  /** When on, blob GETs send their headers and then never finish (a stalled pull). */
  stallBlobs(on: boolean): void
  close(): Promise<void>
}

const MEDIA = {
  list: 'application/vnd.docker.distribution.manifest.list.v2+json',
  manifest: 'application/vnd.docker.distribution.manifest.v2+json',
  config: 'application/vnd.docker.container.image.v1+json',
  layer: 'application/vnd.docker.image.rootfs.diff.tar.gzip'
}
const EPOCH = '1970-01-01T00:00:00Z'
/** How many registries may listen at once (scripts/engines.sh declares as many ports). */
export const REGISTRY_PORTS = 8

const digest = (data: Buffer): string => `sha256:${createHash('sha256').update(data).digest('hex')}`
const json = (value: unknown): Buffer => Buffer.from(JSON.stringify(value))

/** An uncompressed layer tar owned by 0/0, with the parent directories the files need. */
async function layerTar(files: PlatformImage['files']): Promise<Buffer> {
  const pack = tar.pack()
  const packed = buffer(pack) // read while writing: the pack stalls once its buffer is full
  const owner = { uid: 0, gid: 0, uname: 'root', gname: 'root', mtime: new Date(0) }
  const dirs = new Set<string>()
  for (const file of files) {
    const parts = file.path.replace(/^\/+/, '').split('/')
    for (let i = 1; i < parts.length; i++) {
      const dir = parts.slice(0, i).join('/')
      if (dirs.has(dir)) continue
      dirs.add(dir)
      await new Promise<void>((ok, fail) =>
        pack.entry({ ...owner, name: `${dir}/`, type: 'directory', mode: 0o755 }, e => (e ? fail(e) : ok()))
      )
    }
    const header = { ...owner, name: parts.join('/'), type: 'file' as const, mode: file.mode ?? 0o644 }
    await new Promise<void>((ok, fail) => pack.entry(header, file.content, e => (e ? fail(e) : ok())))
  }
  pack.finalize()
  return packed
}

/** Listens on 127.0.0.1: the first free port of the KRA_TEST_REGISTRY_PORT range, or any port. */
async function listen(server: Server): Promise<void> {
  const first = Number(process.env.KRA_TEST_REGISTRY_PORT ?? 0)
  if (!Number.isInteger(first) || first < 0 || first + REGISTRY_PORTS > 65536) {
    throw new Error(`KRA_TEST_REGISTRY_PORT is '${process.env.KRA_TEST_REGISTRY_PORT}', not a port`)
  }
  const ports = first === 0 ? [0] : Array.from({ length: REGISTRY_PORTS }, (_, i) => first + i)
  for (const port of ports) {
    const listening = await new Promise<boolean>((ok, fail) => {
      const refused = (err: NodeJS.ErrnoException): void =>
        err.code === 'EADDRINUSE' ? ok(false) : fail(err)
      server.once('error', refused)
      server.listen(port, '127.0.0.1', () => {
        server.off('error', refused)
        ok(true)
      })
    })
    if (listening) return
  }
  throw new Error(
    `no free port for the test registry in ${first}-${first + REGISTRY_PORTS - 1} (KRA_TEST_REGISTRY_PORT): ` +
      `${REGISTRY_PORTS} registries listen already`
  )
}

export async function startRegistry(): Promise<Registry> {
  const blobs = new Map<string, Buffer>()
  const manifests = new Map<string, { type: string; data: Buffer }>() // by digest
  const tags = new Map<string, string>() // "repo:tag" -> manifest digest
  const requests: string[] = []
  const imageIds: string[] = []
  let stalled = false

  const addBlob = (data: Buffer) => {
    const d = digest(data)
    blobs.set(d, data)
    return { digest: d, size: data.length }
  }
  const addManifest = (type: string, value: object) => {
    const data = json({ schemaVersion: 2, mediaType: type, ...value })
    const d = digest(data)
    manifests.set(d, { type, data })
    return { mediaType: type, digest: d, size: data.length }
  }

  async function pushOne(image: PlatformImage) {
    const raw = await layerTar(image.files)
    const layer = addBlob(gzipSync(raw)) // gzip's header mtime is 0: same files, same digest
    const config = addBlob(
      json({
        architecture: image.arch,
        os: image.os,
        ...(image.variant ? { variant: image.variant } : {}),
        ...(image.osVersion ? { 'os.version': image.osVersion } : {}),
        config: image.config ?? {},
        rootfs: { type: 'layers', diff_ids: [digest(raw)] },
        history: [{ created: EPOCH, created_by: 'test/helpers/registry.ts' }],
        created: EPOCH
      })
    )
    // The config digest is the image ID the engine gives the pulled image.
    imageIds.push(config.digest)
    const ref = addManifest(MEDIA.manifest, {
      config: { mediaType: MEDIA.config, ...config },
      layers: [{ mediaType: MEDIA.layer, ...layer }]
    })
    const platform = {
      architecture: image.arch,
      os: image.os,
      ...(image.variant ? { variant: image.variant } : {}),
      ...(image.osVersion ? { 'os.version': image.osVersion } : {})
    }
    return { ...ref, platform }
  }

  function send(res: ServerResponse, head: boolean, status: number, type: string, body: Buffer, extra = {}) {
    res.writeHead(status, { 'Content-Type': type, 'Content-Length': body.length, ...extra })
    res.end(head ? undefined : body)
  }
  const fail = (res: ServerResponse, head: boolean, status: number, code: string, message: string) =>
    send(res, head, status, 'application/json', json({ errors: [{ code, message, detail: null }] }))

  function handle(req: IncomingMessage, res: ServerResponse) {
    requests.push(`${req.method} ${req.url}`)
    res.setHeader('Docker-Distribution-API-Version', 'registry/2.0')
    const head = req.method === 'HEAD'
    if (req.method !== 'GET' && !head) return fail(res, head, 405, 'UNSUPPORTED', 'read-only registry')
    const path = new URL(req.url ?? '/', 'http://registry').pathname
    if (path === '/v2/') return send(res, head, 200, 'application/json', json({}))
    // <name> may hold slashes (build-image/go-runner); the greedy (.+) keeps them.
    const match = /^\/v2\/(.+)\/(manifests|blobs)\/([^/]+)$/.exec(path)
    if (!match) return fail(res, head, 404, 'UNSUPPORTED', `no route for ${path}`)
    const [, name, kind, ref] = match
    if (kind === 'manifests') {
      const d = ref.startsWith('sha256:') ? ref : tags.get(`${name}:${ref}`)
      const manifest = d ? manifests.get(d) : undefined
      if (!d || !manifest) return fail(res, head, 404, 'MANIFEST_UNKNOWN', `manifest unknown: ${name}:${ref}`)
      return send(res, head, 200, manifest.type, manifest.data, { 'Docker-Content-Digest': d })
    }
    const blob = blobs.get(ref)
    if (!blob) return fail(res, head, 404, 'BLOB_UNKNOWN', `blob unknown: ${ref}`)
    if (stalled && !head) {
      // Headers promise the whole blob, then nothing: the client has to notice on its own.
      res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': blob.length })
      res.flushHeaders()
      return
    }
    send(res, head, 200, 'application/octet-stream', blob, { 'Docker-Content-Digest': ref })
  }

  const server = createServer(handle)
  await listen(server)
  const { port } = server.address() as AddressInfo

  return {
    host: `127.0.0.1:${port}`,
    requests,
    imageIds,
    async push(repo, tag, images) {
      if (images.length === 0) throw new Error('push needs at least one image')
      const refs = []
      for (const image of images) refs.push(await pushOne(image))
      // One platform: the tag names its manifest directly, as `docker push` of a plain image does.
      const top = refs.length === 1 ? refs[0] : addManifest(MEDIA.list, { manifests: refs })
      tags.set(`${repo}:${tag}`, top.digest)
    },
    stallBlobs(on) {
      stalled = on
    },
    close() {
      // Stalled responses and the engine's keep-alive connections would keep the server open.
      server.closeAllConnections()
      return new Promise<void>((ok, fail) => server.close(e => (e ? fail(e) : ok())))
    }
  }
}
