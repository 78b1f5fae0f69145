// Reading what `docker save` (GET /images/{id}/get) gives: the export unpacked with every member kept
// inside its directory, its manifest and config, and the members of each layer.
import { createReadStream } from 'node:fs'
import { mkdir, open, readFile, realpath, symlink, writeFile } from 'node:fs/promises'
import { dirname, posix, resolve, sep } from 'node:path'
import { buffer } from 'node:stream/consumers'
import type { Readable } from 'node:stream'
import { createGunzip } from 'node:zlib'
import { readTar } from '../../archive/tar-read.js'
import { ReleaseError } from '../../errors.js'
import type { ImageConfig } from './image-config.js'
import type { LayerMember } from './overlay.js'

export interface BaseLayer {
  /** The extracted layer file, as the engine exported it (a tar, possibly compressed). */
  readonly path: string
  /** `sha256:<hex>` of the uncompressed layer, from the config's rootfs.diff_ids. */
  readonly diffId: string
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

/**
 * Reads an unpacked export of `ref`: manifest.json names the config and the layers, in the legacy
 * `<id>/layer.tar` layout as in the OCI `blobs/sha256/<hex>` one of newer engines.
 */
export async function readExport(
  dir: string,
  ref: string
): Promise<{ config: ImageConfig; layers: BaseLayer[] }> {
  const manifest = JSON.parse(await readFile(await exportedFile(dir, 'manifest.json'), 'utf8')) as {
    Config: string
    Layers: string[]
  }[]
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
  return { config, layers: paths.map((path, i) => ({ path, diffId: diffIds[i] })) }
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

/** The members of a layer tar, in order; compressed layers (containerd-store engines) are gunzipped. */
export async function layerMembers(path: string): Promise<LayerMember[]> {
  const file = createReadStream(path)
  const source: Readable = (await isGzip(path)) ? file.pipe(createGunzip()) : file
  if (source !== file) file.on('error', err => source.destroy(err))
  const members: LayerMember[] = []
  await readTar(source, async ({ header }) => {
    members.push({
      name: header.name,
      type: header.type === 'directory' || header.type === 'symlink' ? header.type : 'other',
      mode: header.mode,
      uid: header.uid,
      gid: header.gid,
      linkname: header.linkname ?? ''
    })
  })
  return members
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
