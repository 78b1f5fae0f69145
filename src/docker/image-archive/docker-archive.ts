// The tar files of a server image, written with the project's tar writer (so binary xattr values
// such as security.capability keep every byte) and file content streamed: the layer holding
// the binary, and the docker-archive (`docker load` input) of the whole image. Every member is owned
// by 0/0 and has one mtime, and every layer is held uncompressed under its diff ID, however the
// engine stored it, so the same inputs give the same bytes on every engine and image store.
import { createHash } from 'node:crypto'
import { createWriteStream } from 'node:fs'
import { pipeline } from 'node:stream/promises'
import { tarBlocks, type StreamedTarMember, type TarMember } from '../../archive/tar.js'
import { CAPABILITY_XATTR, vfsCapData } from './capabilities.js'
import { layerTar, type LayerFile } from './export-reader.js'
import type { Placement } from './overlay.js'

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

export interface NewLayer {
  readonly placement: Placement
  readonly binaryPath: string
  /** Set permitted and effective, as `setcap <caps>=+ep` does; none when empty. */
  readonly capabilities: readonly number[]
}

/**
 * Writes the binary's layer: its parent directories as the base has them, then the binary (0755,
 * 0/0, capabilities as the security.capability xattr).
 */
export async function writeLayer(dest: string, layer: NewLayer, created: Date): Promise<LayerFile> {
  const { placement, capabilities } = layer
  const parents = placement.parents.map((dir): TarMember => ({ ...dir, kind: 'dir', path: `${dir.path}/` }))
  const binary: TarMember = {
    kind: 'file',
    path: placement.path,
    source: layer.binaryPath,
    mode: 0o755,
    uid: 0,
    gid: 0,
    xattrs: capabilities.length > 0 ? { [CAPABILITY_XATTR]: vfsCapData(capabilities) } : undefined
  }
  const { sha256, size } = await writeTar(dest, [...parents, binary], created)
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
