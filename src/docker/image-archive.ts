// Server images without buildx: the base image's layers for the target platform plus one layer
// holding the binary, written as a docker-archive that `docker load` accepts. Nothing runs for the
// target architecture, so no emulation and no BuildKit are needed; the same inputs give the same
// bytes, so the archives are reproducible.
import { createHash } from 'node:crypto'
import { createReadStream, createWriteStream } from 'node:fs'
import { mkdir, mkdtemp, open, readFile, realpath, rename, rm, stat, symlink } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join, posix, resolve, sep } from 'node:path'
import { Transform, type Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { createGunzip } from 'node:zlib'
import tar from 'tar-stream'
import type { Logger } from '../logger.js'
import type { ImageClient, ImageFacts } from './images.js'

export class ImageArchiveError extends Error {}

/** What the engine's export says about one image: the parts of the image config used here. */
interface ImageConfig {
  architecture?: string
  os?: string
  config?: Record<string, unknown>
  rootfs?: { type?: string; diff_ids?: string[] }
  history?: Record<string, unknown>[]
  [key: string]: unknown
}

/** What a path is in the base image's merged file system; enough to place a file in it. */
export interface RootfsEntry {
  readonly type: 'directory' | 'symlink' | 'other'
  readonly mode: number
  readonly uid: number
  readonly gid: number
  readonly linkname: string
}

export interface BaseLayer {
  /** The extracted layer file, as the engine exported it (a tar, possibly compressed). */
  readonly path: string
  /** `sha256:<hex>` of the uncompressed layer, from the config's rootfs.diff_ids. */
  readonly diffId: string
}

export interface BaseImage {
  readonly ref: string
  /** The engine's image ID of the platform's image that was exported. */
  readonly id: string
  readonly platform: string
  readonly config: ImageConfig
  readonly layers: readonly BaseLayer[]
  /** Directories, symlinks and other paths of the merged layers, without leading slash. */
  readonly rootfs: ReadonlyMap<string, RootfsEntry>
}

// ---------------------------------------------------------------------------------------------
// The base image for a platform: present locally, or pulled for that platform, then exported.

const shortId = (id: string): string => id.replace(/^sha256:/, '').slice(0, 12)

/** `linux/<arch>` → arch; server images exist for linux only. */
function linuxArch(platform: string): string {
  const [os, arch, ...rest] = platform.split('/')
  if (os !== 'linux' || !arch || rest.length > 0) {
    throw new ImageArchiveError(
      `unsupported platform '${platform}' for a server image: expected linux/<arch>`
    )
  }
  return arch
}

function baseUnavailable(ref: string, platform: string, reason: string): ImageArchiveError {
  return new ImageArchiveError(
    `base image ${ref} is not available for ${platform}: ${reason}. Make its registry reachable, ` +
      `or load an image for ${platform} under that reference (docker load), or choose another base image`
  )
}

/**
 * The ID of an image for the platform under `ref`: the engine's own when it is for that platform,
 * else pulled for it. Pulling re-points the tag on the engine, as `docker pull --platform` does.
 */
async function imageForPlatform(
  images: ImageClient,
  log: Logger,
  ref: string,
  platform: string
): Promise<string> {
  const arch = linuxArch(platform)
  const forPlatform = (info: ImageFacts | null): boolean => info?.os === 'linux' && info.architecture === arch
  const local = await images.inspect(ref)
  if (local && forPlatform(local)) {
    log.debug(`using ${ref} (${shortId(local.id)}) from the engine for ${platform}`)
    return local.id
  }
  log.info(`pulling ${ref} for ${platform}`)
  try {
    await images.pull(ref, platform)
  } catch (err) {
    throw baseUnavailable(ref, platform, (err as Error).message)
  }
  const pulled = await images.inspect(ref)
  if (!pulled || !forPlatform(pulled)) {
    const got = pulled ? `${pulled.os}/${pulled.architecture}` : 'nothing'
    throw baseUnavailable(ref, platform, `the pull gave ${got}`)
  }
  return pulled.id
}

/** The path of an archive member inside `dir`; members that would land outside are refused. */
function memberPath(dir: string, name: string): string {
  const path = resolve(dir, name)
  if (!path.startsWith(dir + sep)) throw new ImageArchiveError(`unsafe member '${name}' in an image export`)
  return path
}

type TarEntry = tar.ExtractEvents['entry'][1]

/** Reads a tar stream member by member; whatever `onEntry` leaves unread is skipped. */
async function readTar(
  source: NodeJS.ReadableStream,
  onEntry: (entry: TarEntry) => Promise<void>
): Promise<void> {
  const extract = tar.extract()
  source.on('error', err => extract.destroy(err))
  source.pipe(extract)
  try {
    for await (const entry of extract) {
      await onEntry(entry)
      entry.resume()
    }
  } finally {
    // Ended already unless the read failed; then the engine's response or the file is let go.
    ;(source as Readable).destroy()
  }
}

/** Extracts an image export: files and symlinks (legacy exports link repeated layers). */
function extractExport(stream: NodeJS.ReadableStream, dir: string): Promise<void> {
  return readTar(stream, async entry => {
    const { name, type, linkname } = entry.header
    if (type !== 'file' && type !== 'symlink') return
    const path = memberPath(dir, name)
    await mkdir(dirname(path), { recursive: true })
    if (type === 'file') await pipeline(entry, createWriteStream(path))
    else await symlink(linkname, path)
  })
}

/** GET /images/{id}/get, streamed into `dir`. */
async function exportImage(images: ImageClient, id: string, dir: string): Promise<void> {
  await extractExport(await images.export(id), dir)
}

/** A file the export's manifest names, resolved through symlinks and kept inside `dir`. */
async function exportedFile(dir: string, name: string): Promise<string> {
  const path = await realpath(memberPath(dir, name))
  if (!path.startsWith(dir + sep)) throw new ImageArchiveError(`unsafe path '${name}' in an image export`)
  return path
}

/**
 * Reads an extracted export: manifest.json names the config and the layers, in the legacy
 * `<id>/layer.tar` layout as in the OCI `blobs/sha256/<hex>` one of newer engines.
 */
async function readExport(dir: string, ref: string): Promise<{ config: ImageConfig; layers: BaseLayer[] }> {
  const manifest = JSON.parse(await readFile(await exportedFile(dir, 'manifest.json'), 'utf8')) as {
    Config: string
    Layers: string[]
  }[]
  if (manifest.length !== 1) {
    throw new ImageArchiveError(`the export of ${ref} holds ${manifest.length} images, expected one`)
  }
  const [{ Config, Layers }] = manifest
  const config = JSON.parse(await readFile(await exportedFile(dir, Config), 'utf8')) as ImageConfig
  const diffIds = config.rootfs?.diff_ids ?? []
  if (diffIds.length !== Layers.length) {
    throw new ImageArchiveError(
      `the export of ${ref} lists ${Layers.length} layers but its config ${diffIds.length} diff_ids`
    )
  }
  const paths = await Promise.all(Layers.map(layer => exportedFile(dir, layer)))
  return { config, layers: paths.map((path, i) => ({ path, diffId: diffIds[i] })) }
}

// ---------------------------------------------------------------------------------------------
// The base's merged file system, so that the binary lands where a Dockerfile COPY would put it:
// through directory symlinks such as a merged-/usr `bin -> usr/bin`, never replacing them.

const WHITEOUT = '.wh.'
const OPAQUE_WHITEOUT = '.wh..wh..opq'
const MAX_SYMLINK_HOPS = 40

/** A layer member's name as a rootfs path: no leading `./` or `/`, no trailing `/`. */
function rootfsPath(name: string): string {
  return posix.normalize(`/${name}`).slice(1).replace(/\/$/, '')
}

async function isGzip(path: string): Promise<boolean> {
  const file = await open(path, 'r')
  try {
    const head = Buffer.alloc(2)
    await file.read(head, 0, 2, 0)
    return head[0] === 0x1f && head[1] === 0x8b
  } finally {
    await file.close()
  }
}

/** The headers of a layer tar, in order; compressed layers (containerd-store engines) are gunzipped. */
async function layerHeaders(path: string): Promise<tar.Header[]> {
  const file = createReadStream(path)
  const source: Readable = (await isGzip(path)) ? file.pipe(createGunzip()) : file
  if (source !== file) file.on('error', err => source.destroy(err))
  const headers: tar.Header[] = []
  await readTar(source, async entry => {
    headers.push(entry.header)
  })
  return headers
}

function removeBelow(rootfs: Map<string, RootfsEntry>, dir: string): void {
  const prefix = dir === '' ? '' : `${dir}/`
  for (const path of rootfs.keys()) if (path.startsWith(prefix) && path !== dir) rootfs.delete(path)
}

/** Applies one layer over the lower ones: its whiteouts first (they hide lower paths only), then its paths. */
function applyLayer(rootfs: Map<string, RootfsEntry>, headers: readonly tar.Header[]): void {
  const added: [string, RootfsEntry][] = []
  for (const header of headers) {
    const path = rootfsPath(header.name)
    if (path === '') continue
    const name = posix.basename(path)
    const parent = posix.dirname(path) === '.' ? '' : posix.dirname(path)
    if (name === OPAQUE_WHITEOUT) removeBelow(rootfs, parent)
    else if (name.startsWith(WHITEOUT)) {
      const hidden = posix.join(parent, name.slice(WHITEOUT.length))
      rootfs.delete(hidden)
      removeBelow(rootfs, hidden)
    } else {
      const type = header.type === 'directory' || header.type === 'symlink' ? header.type : 'other'
      added.push([
        path,
        { type, mode: header.mode, uid: header.uid, gid: header.gid, linkname: header.linkname }
      ])
    }
  }
  for (const [path, entry] of added) {
    if (rootfs.get(path)?.type === 'directory' && entry.type !== 'directory') removeBelow(rootfs, path)
    rootfs.set(path, entry)
  }
}

async function mergedRootfs(layers: readonly BaseLayer[]): Promise<Map<string, RootfsEntry>> {
  const rootfs = new Map<string, RootfsEntry>()
  for (const layer of layers) applyLayer(rootfs, await layerHeaders(layer.path))
  return rootfs
}

/** Path components after following `link` (a symlink at `at`), kept inside the root like a chroot. */
function followLink(at: readonly string[], link: string): string[] {
  const parts = link.startsWith('/') ? [] : at.slice(0, -1)
  for (const part of link.split('/')) {
    if (part === '..') parts.pop()
    else if (part !== '' && part !== '.') parts.push(part)
  }
  return parts
}

interface Placement {
  /** Where the file goes, without leading slash, directory symlinks of the base followed. */
  readonly path: string
  /** Its parent directories, outermost first, with the base's metadata where the base has them. */
  readonly parents: readonly {
    readonly path: string
    readonly mode: number
    readonly uid: number
    readonly gid: number
  }[]
}

/** Where a Dockerfile COPY to `imagePath` would put the file in this base. */
function placeInRootfs(rootfs: ReadonlyMap<string, RootfsEntry>, imagePath: string): Placement {
  let parts = rootfsPath(imagePath).split('/')
  for (let hops = 0; hops <= MAX_SYMLINK_HOPS; hops++) {
    const linkAt = parts
      .slice(0, -1)
      .findIndex((_, i) => rootfs.get(parts.slice(0, i + 1).join('/'))?.type === 'symlink')
    if (linkAt < 0) return { path: parts.join('/'), parents: parentDirectories(rootfs, parts, imagePath) }
    const link = parts.slice(0, linkAt + 1)
    parts = [...followLink(link, rootfs.get(link.join('/'))!.linkname), ...parts.slice(linkAt + 1)]
  }
  throw new ImageArchiveError(
    `cannot place ${imagePath} in the base image: too many levels of symbolic links`
  )
}

function parentDirectories(
  rootfs: ReadonlyMap<string, RootfsEntry>,
  parts: readonly string[],
  imagePath: string
): Placement['parents'] {
  return parts.slice(0, -1).map((_, i) => {
    const path = parts.slice(0, i + 1).join('/')
    const entry = rootfs.get(path)
    if (entry && entry.type !== 'directory') {
      throw new ImageArchiveError(
        `cannot place ${imagePath} in the base image: /${path} is not a directory there`
      )
    }
    return { path, mode: entry?.mode ?? 0o755, uid: entry?.uid ?? 0, gid: entry?.gid ?? 0 }
  })
}

// ---------------------------------------------------------------------------------------------
// Base images exported once per (reference, platform) for all the binaries that share them.

export class BaseImageCache {
  private readonly images = new Map<string, Promise<BaseImage>>()
  /** Per reference: the engine holds one platform under a tag at a time, so pull and export must not interleave. */
  private readonly queues = new Map<string, Promise<unknown>>()
  private readonly dirs: string[] = []

  constructor(
    private readonly imageClient: ImageClient,
    private readonly log: Logger,
    /** Where exports and new layers are unpacked: base images can be large, /tmp may be small. */
    readonly tempRoot: string = tmpdir()
  ) {}

  get(ref: string, platform: string): Promise<BaseImage> {
    const key = `${ref} ${platform}`
    let image = this.images.get(key)
    if (!image) {
      image = this.oneAtATime(ref, () => this.fetch(ref, platform))
      this.images.set(key, image)
    }
    return image
  }

  /** Removes the extracted exports, once every fetch under way has settled. */
  async dispose(): Promise<void> {
    await Promise.allSettled(this.images.values())
    this.images.clear()
    await Promise.all(this.dirs.splice(0).map(dir => rm(dir, { recursive: true, force: true })))
  }

  private oneAtATime<T>(ref: string, task: () => Promise<T>): Promise<T> {
    const run = (this.queues.get(ref) ?? Promise.resolve()).then(task)
    this.queues.set(
      ref,
      run.catch(() => undefined)
    )
    return run
  }

  private async fetch(ref: string, platform: string): Promise<BaseImage> {
    const id = await imageForPlatform(this.imageClient, this.log, ref, platform)
    // Real, so that the members' real paths can be checked against it.
    const dir = await realpath(await mkdtemp(join(this.tempRoot, 'kube-release-base-')))
    this.dirs.push(dir)
    await exportImage(this.imageClient, id, dir)
    const { config, layers } = await readExport(dir, ref)
    this.log.debug(`exported ${ref} (${shortId(id)}) for ${platform}: ${layers.length} layers`)
    return { ref, id, platform, config, layers, rootfs: await mergedRootfs(layers) }
  }
}

// ---------------------------------------------------------------------------------------------
// The new layer and the docker-archive.

// linux/capability.h: struct vfs_cap_data, revision 2 (two 32-bit words per set).
const VFS_CAP_REVISION_2 = 0x02000000
const VFS_CAP_FLAGS_EFFECTIVE = 0x000001
const VFS_CAP_DATA_SIZE = 20

/**
 * The `security.capability` value that `setcap <caps>=+ep` writes: permitted and effective,
 * nothing inheritable. tar-stream writes PAX values as UTF-8, so only bytes below 0x80 survive.
 */
function vfsCapData(capabilities: readonly number[]): Buffer {
  const data = Buffer.alloc(VFS_CAP_DATA_SIZE)
  data.writeUInt32LE(VFS_CAP_REVISION_2 | VFS_CAP_FLAGS_EFFECTIVE, 0)
  for (const cap of capabilities) {
    if (!Number.isInteger(cap) || cap < 0 || cap >= 64) {
      throw new ImageArchiveError(`invalid capability ${cap}`)
    }
    const permitted = 4 + Math.floor(cap / 32) * 8
    data.writeUInt32LE((data.readUInt32LE(permitted) | (1 << (cap % 32))) >>> 0, permitted)
  }
  if (data.some(byte => byte >= 0x80)) {
    throw new ImageArchiveError(
      `capabilities ${capabilities.join(', ')} cannot be written into a PAX header here`
    )
  }
  return data
}

type EntryHeader = Parameters<tar.Pack['entry']>[0]

const sha256 = (data: Buffer | string): string => createHash('sha256').update(data).digest('hex')

function addEntry(pack: tar.Pack, header: EntryHeader, data?: Buffer): Promise<void> {
  return new Promise((resolveEntry, reject) => {
    const done = (err?: Error | null): void => (err ? reject(err) : resolveEntry())
    if (data === undefined) pack.entry(header, done)
    else pack.entry(header, data, done)
  })
}

/** Streams a file into the pack as one member. */
async function addFile(pack: tar.Pack, header: EntryHeader, source: string): Promise<void> {
  const size = (await stat(source)).size
  let finish: (err?: Error | null) => void = () => undefined
  const written = new Promise<void>((resolveEntry, reject) => {
    finish = err => (err ? reject(err) : resolveEntry())
  })
  await pipeline(createReadStream(source), pack.entry({ ...header, size }, finish))
  await written
}

/** Writes the members to `dest` as one tar; returns the sha256 hex of the bytes written. */
async function writeTar(dest: string, addMembers: (pack: tar.Pack) => Promise<void>): Promise<string> {
  const pack = tar.pack()
  const hash = createHash('sha256')
  const hashing = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      hash.update(chunk)
      callback(null, chunk)
    }
  })
  const written = pipeline(pack, hashing, createWriteStream(dest))
  addMembers(pack).then(
    () => pack.finalize(),
    (err: Error) => pack.destroy(err)
  )
  await written
  return hash.digest('hex')
}

interface NewLayer {
  readonly placement: Placement
  readonly binaryPath: string
  readonly capabilities: readonly number[]
  readonly created: Date
}

/** The binary's layer: its parent directories, then the binary (0755, 0/0, capabilities as xattr). */
function addLayerMembers(layer: NewLayer): (pack: tar.Pack) => Promise<void> {
  const { placement, created } = layer
  return async pack => {
    for (const dir of placement.parents) {
      await addEntry(pack, {
        name: `${dir.path}/`,
        type: 'directory',
        mode: dir.mode,
        uid: dir.uid,
        gid: dir.gid,
        mtime: created
      })
    }
    const pax =
      layer.capabilities.length > 0
        ? { 'SCHILY.xattr.security.capability': vfsCapData(layer.capabilities).toString('latin1') }
        : undefined
    await addFile(
      pack,
      { name: placement.path, type: 'file', mode: 0o755, uid: 0, gid: 0, mtime: created, pax },
      layer.binaryPath
    )
  }
}

interface ImageChange {
  readonly arch: string
  readonly created: Date
  readonly diffId: string
  readonly imagePath: string
  readonly entrypoint?: readonly string[]
}

/** The base config with the new layer, its history and (for an ENTRYPOINT) the new entrypoint. */
function imageConfig(base: ImageConfig, change: ImageChange): ImageConfig {
  const created = change.created.toISOString()
  const binary = posix.basename(change.imagePath)
  const history = [
    ...(base.history ?? []),
    { created, created_by: `COPY ${binary} ${change.imagePath} # kube-release-action` },
    ...(change.entrypoint
      ? [{ created, created_by: `ENTRYPOINT ${JSON.stringify(change.entrypoint)}`, empty_layer: true }]
      : [])
  ]
  // As a Dockerfile ENTRYPOINT does, a new entrypoint drops the Cmd inherited from the base.
  const config = change.entrypoint
    ? { ...base.config, Entrypoint: [...change.entrypoint], Cmd: undefined }
    : base.config
  return {
    ...base,
    created,
    architecture: change.arch,
    os: 'linux',
    config,
    rootfs: { type: 'layers', diff_ids: [...(base.rootfs?.diff_ids ?? []), change.diffId] },
    history
  }
}

interface ArchiveLayer {
  /** The member name in the docker-archive. */
  readonly name: string
  readonly path: string
}

/** The layers as archive members named by diff ID; a layer the image repeats is stored once. */
function archiveLayers(layers: readonly BaseLayer[]): ArchiveLayer[] {
  return layers.map(layer => ({
    name: `${layer.diffId.replace(/^sha256:/, '')}/layer.tar`,
    path: layer.path
  }))
}

/** docker-archive members in a fixed order (layers, config, manifest), all 0/0 with one mtime. */
function addArchiveMembers(
  layers: readonly ArchiveLayer[],
  config: Buffer,
  tags: readonly string[],
  created: Date
): (pack: tar.Pack) => Promise<void> {
  const member = { type: 'file' as const, mode: 0o644, uid: 0, gid: 0, mtime: created }
  const configName = `${sha256(config)}.json`
  const manifest = [{ Config: configName, RepoTags: [...tags], Layers: layers.map(l => l.name) }]
  return async pack => {
    const stored = new Set<string>()
    for (const layer of layers) {
      if (stored.has(layer.name)) continue
      stored.add(layer.name)
      await addFile(pack, { ...member, name: layer.name }, layer.path)
    }
    await addEntry(pack, { ...member, name: configName }, config)
    await addEntry(pack, { ...member, name: 'manifest.json' }, Buffer.from(JSON.stringify(manifest)))
  }
}

export interface ServerImageRequest {
  readonly bases: BaseImageCache
  readonly log: Logger
  readonly baseRef: string
  /** `linux/<arch>`. */
  readonly platform: string
  readonly binaryPath: string
  /** Absolute path of the binary inside the image. */
  readonly imagePath: string
  /** File capabilities set permitted and effective, as `setcap <caps>=+ep` does. */
  readonly capabilities?: readonly number[]
  readonly entrypoint?: readonly string[]
  readonly tags: readonly string[]
  /** The image's creation time and every mtime in the archives. */
  readonly created: Date
  /** Where the docker-archive goes; it appears under this name only when complete. */
  readonly output: string
}

/** Writes one server image as a docker-archive: the base's layers for the platform plus the binary's layer. */
export async function writeServerImage(request: ServerImageRequest): Promise<void> {
  const { log, output, created } = request
  const arch = linuxArch(request.platform)
  const base = await request.bases.get(request.baseRef, request.platform)
  const placement = placeInRootfs(base.rootfs, request.imagePath)
  log.info(`writing ${output}: ${request.baseRef} (${request.platform}) + /${placement.path}`)
  const work = await mkdtemp(join(request.bases.tempRoot, 'kube-release-layer-'))
  const partial = `${output}.partial`
  try {
    const layerPath = join(work, 'layer.tar')
    const diffId = `sha256:${await writeTar(
      layerPath,
      addLayerMembers({
        placement,
        binaryPath: request.binaryPath,
        capabilities: request.capabilities ?? [],
        created
      })
    )}`
    const config = imageConfig(base.config, {
      arch,
      created,
      diffId,
      imagePath: request.imagePath,
      entrypoint: request.entrypoint
    })
    const layers = archiveLayers([...base.layers, { path: layerPath, diffId }])
    await writeTar(
      partial,
      addArchiveMembers(layers, Buffer.from(JSON.stringify(config)), request.tags, created)
    )
    await rename(partial, output)
    log.debug(`${output}: layer ${diffId}, tags ${request.tags.join(', ')}`)
  } finally {
    await rm(partial, { force: true })
    await rm(work, { recursive: true, force: true })
  }
}
