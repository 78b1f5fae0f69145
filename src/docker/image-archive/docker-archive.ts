// The tar files of an image, written with the project's tar writer (so binary xattr values such as
// security.capability keep every byte) and file content streamed: a new layer, and the
// docker-archive (`docker load` input) of the whole image. Every member is owned
// by 0/0 and has one mtime, and every layer is held uncompressed under its diff ID, however the
// engine stored it, so the same inputs give the same bytes on every engine and image store.
import { createHash } from 'node:crypto'
import { createWriteStream } from 'node:fs'
import { pipeline } from 'node:stream/promises'
import { tarBlocks, type StreamedTarMember, type TarMember } from '../../archive/tar.js'
import { layerTar, type LayerFile } from './export-reader.js'

/** Writes the members to `dest` as one tar, every mtime `mtime`; returns the sha256 hex and size of its bytes. */
async function writeTar(
  dest: string,
  members: readonly (TarMember | StreamedTarMember)[],
  mtime: Date
): Promise<{ sha256: string; size: number }> {
  const hash = createHash('sha256')
  let size = 0
  await pipeline(
    tarBlocks(members, { mtime }),
    async function* (blocks: AsyncIterable<Buffer>) {
      for await (const block of blocks) {
        hash.update(block)
        size += block.length
        yield block
      }
    },
    createWriteStream(dest)
  )
  return { sha256: hash.digest('hex'), size }
}

/** Writes a layer tar of these members (owned 0/0, every mtime `created`); its diff ID is its digest. */
export async function writeLayer(
  dest: string,
  members: readonly TarMember[],
  created: Date
): Promise<LayerFile> {
  const { sha256, size } = await writeTar(dest, members, created)
  return { path: dest, compression: 'none', diffId: `sha256:${sha256}`, size }
}

export interface DockerArchive {
  /** Lowest first; a layer the image repeats is stored once. */
  readonly layers: readonly LayerFile[]
  readonly config: Buffer
  readonly tags: readonly string[]
}

/**
 * Writes a docker-archive: the layers uncompressed (streamed from their files, never written out
 * twice) and named by diff ID, then the config, then manifest.json.
 */
export async function writeDockerArchive(dest: string, image: DockerArchive, created: Date): Promise<void> {
  const owner = { mode: 0o644, uid: 0, gid: 0 }
  const layerNames = image.layers.map(layer => `${layer.diffId.replace(/^sha256:/, '')}/layer.tar`)
  const configName = `${createHash('sha256').update(image.config).digest('hex')}.json`
  const manifest = [{ Config: configName, RepoTags: [...image.tags], Layers: layerNames }]
  const layers = new Map(image.layers.map((layer, i) => [layerNames[i], layer]))
  const members: (TarMember | StreamedTarMember)[] = [
    ...[...layers].map(([path, layer]): StreamedTarMember => ({
      ...owner,
      kind: 'stream',
      path,
      size: layer.size,
      content: () => layerTar(layer)
    })),
    { ...owner, kind: 'data', path: configName, data: image.config },
    { ...owner, kind: 'data', path: 'manifest.json', data: Buffer.from(JSON.stringify(manifest)) }
  ]
  await writeTar(dest, members, created)
}
