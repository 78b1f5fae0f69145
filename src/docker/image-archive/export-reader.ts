// Reading what `docker save` (GET /images/{id}/get) gives: the export unpacked with every member kept
// inside its directory, its manifest and config, and each layer's members, its uncompressed tar
// (plain from Docker 20.10, a gzip or zstd registry blob from the containerd store) checked against
// its diff ID.
import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { mkdir, open, readFile, realpath, symlink, writeFile } from 'node:fs/promises'
import { dirname, posix, resolve, sep } from 'node:path'
import { buffer } from 'node:stream/consumers'
import { Readable, pipeline } from 'node:stream'
import { createGunzip, createZstdDecompress } from 'node:zlib'
import { readTar } from '../../archive/tar-read.js'
import { ReleaseError, errorMessage } from '../../errors.js'
import type { ImageConfig } from './image-config.js'
import type { LayerMember } from './overlay.js'

/** A layer the export's manifest names: its name there, the extracted file, and its config diff_id. */
export interface ExportedLayer {
  readonly name: string
  readonly path: string
  /** `sha256:<hex>` of the uncompressed layer, from the config's rootfs.diff_ids. */
  readonly diffId: string
}

/** How a layer file is stored: plain by Docker 20.10, as its registry blob by the containerd store. */
export type LayerCompression = 'gzip' | 'zstd' | 'none'

/** A layer tar file, possibly compressed, whose uncompressed content was checked against its diff ID. */
export interface LayerFile {
  readonly path: string
  readonly compression: LayerCompression
  /** `sha256:<hex>` of the uncompressed tar. */
  readonly diffId: string
  /** Bytes of the uncompressed tar. */
  readonly size: number
}

/** The path of an archive member inside `dir`; members that would land outside are refused. */
function memberPath(dir: string, name: string): string {
  const path = resolve(dir, name)
  if (!path.startsWith(dir + sep)) throw new ReleaseError(`unsafe member '${name}' in an image export`)
  return path
}

/**
 * Unpacks an image export into `dir` (a real path): files and symlinks (legacy exports link
 * repeated layers); a member that would land outside `dir` fails it.
 */
export function extractExport(stream: NodeJS.ReadableStream, dir: string): Promise<void> {
  return readTar(stream, async entry => {
    const { name, type, linkname } = entry.header
    if (type !== 'file' && type !== 'symlink') return
    const path = memberPath(dir, name)
    await mkdir(dirname(path), { recursive: true })
    // writeFile reads the entry as an async iterable, which fails when the export breaks off
    // mid-member; stream.pipeline waits forever on tar-stream's entry then.
    if (type === 'file') await writeFile(path, entry as AsyncIterable<Buffer>)
    else await symlink(linkname, path)
  })
}

/** A file the export's manifest names, resolved through symlinks and kept inside `dir`. */
async function exportedFile(dir: string, name: string): Promise<string> {
  const path = await realpath(memberPath(dir, name))
  if (!path.startsWith(dir + sep)) throw new ReleaseError(`unsafe path '${name}' in an image export`)
  return path
}

/** An image of an export: its config file and its layer files, as manifest.json names them. */
interface ExportedImage {
  readonly Config: string
  readonly Layers: string[]
}

interface OciDescriptor {
  readonly digest: string
  readonly platform?: { readonly os?: string; readonly architecture?: string }
}

/** The name of a blob in an OCI layout. */
function blobName(digest: string): string {
  const [algorithm, hex] = digest.split(':')
  if (!/^[a-z0-9]+$/.test(algorithm) || !/^[a-f0-9]+$/.test(hex ?? '')) {
    throw new ReleaseError(`bad digest '${digest}' in an image export`)
  }
  return `blobs/${algorithm}/${hex}`
}

/** A file of the export, or null when the export does not hold it. */
async function exportedOrNull(dir: string, name: string): Promise<Buffer | null> {
  try {
    return await readFile(await exportedFile(dir, name))
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null
    throw err
  }
}

/**
 * The image for `os/arch` that an export's OCI index (index.json) leads to, through nested indexes,
 * or null. The containerd image store keeps every platform it pulled under one name: its export's
 * index names each one (platforms it did not pull are absent), and manifest.json only one of them.
 */
async function platformImage(dir: string, os: string, arch: string): Promise<ExportedImage | null> {
  const index = await exportedOrNull(dir, 'index.json')
  if (index === null) return null
  const pending = [
    ...((JSON.parse(index.toString('utf8')) as { manifests?: OciDescriptor[] }).manifests ?? [])
  ]
  for (let descriptor = pending.shift(); descriptor; descriptor = pending.shift()) {
    const { platform } = descriptor
    if (platform && (platform.os !== os || platform.architecture !== arch)) continue
    const blob = await exportedOrNull(dir, blobName(descriptor.digest))
    if (!blob) continue
    const manifest = JSON.parse(blob.toString('utf8')) as {
      manifests?: OciDescriptor[]
      config?: OciDescriptor
      layers?: OciDescriptor[]
    }
    if (manifest.manifests) {
      pending.push(...manifest.manifests)
      continue
    }
    if (!manifest.config) continue
    const configName = blobName(manifest.config.digest)
    const config = await exportedOrNull(dir, configName)
    if (!config) continue
    if (!platform) {
      // A descriptor without a platform (an engine's single-image export): the config says.
      const { os: configOs, architecture } = JSON.parse(config.toString('utf8')) as ImageConfig
      if (configOs !== os || architecture !== arch) continue
    }
    return { Config: configName, Layers: (manifest.layers ?? []).map(layer => blobName(layer.digest)) }
  }
  return null
}

/**
 * Reads an unpacked export of `ref`: manifest.json names the config and the layers, in the legacy
 * `<id>/layer.tar` layout as in the OCI `blobs/sha256/<hex>` one of newer engines. With `platform`
 * (`os/arch`), the image for it that the export's OCI index leads to, when there is one.
 */
export async function readExport(
  dir: string,
  ref: string,
  platform?: string
): Promise<{ config: ImageConfig; layers: ExportedLayer[] }> {
  const [os, arch] = platform?.split('/') ?? []
  const forPlatform = os && arch ? await platformImage(dir, os, arch) : null
  const manifest: ExportedImage[] = forPlatform
    ? [forPlatform]
    : (JSON.parse(await readFile(await exportedFile(dir, 'manifest.json'), 'utf8')) as ExportedImage[])
  if (manifest.length !== 1) {
    throw new ReleaseError(`the export of ${ref} holds ${manifest.length} images, expected one`)
  }
  const [{ Config, Layers }] = manifest
  const config = JSON.parse(await readFile(await exportedFile(dir, Config), 'utf8')) as ImageConfig
  const diffIds = config.rootfs?.diff_ids ?? []
  if (diffIds.length !== Layers.length) {
    throw new ReleaseError(
      `the export of ${ref} lists ${Layers.length} layers but its config ${diffIds.length} diff_ids`
    )
  }
  const paths = await Promise.all(Layers.map(layer => exportedFile(dir, layer)))
  return { config, layers: paths.map((path, i) => ({ name: Layers[i], path, diffId: diffIds[i] })) }
}

const MAGIC: readonly [LayerCompression, Buffer][] = [
  ['gzip', Buffer.from([0x1f, 0x8b])],
  ['zstd', Buffer.from([0x28, 0xb5, 0x2f, 0xfd])]
]

async function compressionOf(path: string): Promise<LayerCompression> {
  const file = await open(path, 'r')
  try {
    const head = Buffer.alloc(4)
    await file.read(head, 0, head.length, 0)
    return MAGIC.find(([, magic]) => head.subarray(0, magic.length).equals(magic))?.[0] ?? 'none'
  } finally {
    await file.close()
  }
}

const DECOMPRESSORS = { gzip: createGunzip, zstd: createZstdDecompress } as const

/** The layer's uncompressed tar, streamed from its file. */
export function layerTar(layer: Pick<LayerFile, 'path' | 'compression'>): Readable {
  const file = createReadStream(layer.path)
  if (layer.compression === 'none') return file
  // pipeline passes a failure of either stream to the other, and lets the file go when the reader
  // stops early; the reader sees every failure on the stream it reads.
  return pipeline(file, DECOMPRESSORS[layer.compression](), () => undefined)
}

/**
 * Reads an exported layer of `ref` once: its members (for the merged file system), and the size and
 * sha256 of its uncompressed tar, which must be its diff ID: the image archive holds that tar.
 */
export async function readLayer(
  exported: ExportedLayer,
  ref: string
): Promise<{ layer: LayerFile; members: LayerMember[] }> {
  const compression = await compressionOf(exported.path)
  const hash = createHash('sha256')
  let size = 0
  const tar = layerTar({ path: exported.path, compression })
  async function* measured(): AsyncGenerator<Buffer> {
    for await (const chunk of tar as AsyncIterable<Buffer>) {
      hash.update(chunk)
      size += chunk.length
      yield chunk
    }
  }
  const members: LayerMember[] = []
  try {
    await readTar(Readable.from(measured()), async ({ header }) => {
      members.push({
        name: header.name,
        type: header.type === 'directory' || header.type === 'symlink' ? header.type : 'other',
        mode: header.mode,
        uid: header.uid,
        gid: header.gid,
        linkname: header.linkname ?? ''
      })
    })
  } catch (err) {
    const message = `base image ${ref}: reading its layer ${exported.name} failed: ${errorMessage(err)}`
    throw new ReleaseError(message, { cause: err })
  }
  const digest = `sha256:${hash.digest('hex')}`
  if (digest !== exported.diffId) {
    throw new ReleaseError(
      `base image ${ref}: layer ${exported.name} is not the layer its config names: its tar's digest is ` +
        `${digest}, the config's diff_id ${exported.diffId}. Remove the image and pull or load it again`
    )
  }
  return { layer: { path: exported.path, compression, diffId: digest, size }, members }
}

/**
 * The members a docker-archive's manifest names (configs and layers) that the archive does not hold,
 * directly or through a symlink: an engine's `docker save` can leave out layers it keeps only
 * compressed elsewhere (the containerd store), and such an archive must never pass for the image.
 */
export async function missingArchiveMembers(archive: NodeJS.ReadableStream): Promise<string[]> {
  const files = new Set<string>()
  const links = new Map<string, string>()
  let manifest: Buffer | undefined
  await readTar(archive, async entry => {
    const name = posix.normalize(entry.header.name)
    if (entry.header.type === 'file') files.add(name)
    if (entry.header.type === 'symlink')
      links.set(name, posix.join(posix.dirname(name), entry.header.linkname ?? ''))
    if (name === 'manifest.json') manifest = await buffer(entry)
  })
  if (!manifest) return ['manifest.json']
  const images = JSON.parse(manifest.toString('utf8')) as { Config: string; Layers: string[] }[]
  const held = (name: string): boolean => files.has(name) || files.has(links.get(name) ?? '')
  const named = images.flatMap(image => [image.Config, ...image.Layers]).map(n => posix.normalize(n))
  return [...new Set(named)].filter(name => !held(name))
}
