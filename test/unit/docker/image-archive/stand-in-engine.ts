// A stand-in engine for the base image tests: tags, a registry with per-platform images, and image
// exports in the layouts engines write. Not a test file itself.
import { createHash } from 'node:crypto'
import { Readable } from 'node:stream'
import { gzipSync, zstdCompressSync } from 'node:zlib'
import { tarBuffer, type TarMember } from '../../../../src/archive/tar.js'
import type { ImageSource } from '../../../../src/docker/image-archive/base-images.js'
import type { Logger } from '../../../../src/logger.js'

export const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex')
const MTIME = { mtime: new Date(0) }

export const silent: Logger = {
  info: () => undefined,
  warning: () => undefined,
  debug: () => undefined,
  group: (_title, fn) => fn(),
  annotate: () => undefined,
  mask: () => undefined
}

/**
 * How an engine exports an image: Docker 20.10 in the legacy `<id>/layer.tar` layout with plain
 * layers; the containerd image store (Docker 26) in the OCI layout with the layers as their registry
 * blobs, gzip or zstd.
 */
export type ExportFormat = 'legacy' | 'oci-gzip' | 'oci-zstd'

/** A layer tar of these members, as an image build would write it. */
export const layerTar = (members: readonly TarMember[]): Promise<Buffer> => tarBuffer(members, MTIME)

const data = (path: string, content: string | Buffer): TarMember => ({
  kind: 'data',
  path,
  data: content,
  mode: 0o644
})

/**
 * `docker save` of one image for linux/<arch> with these layer tars; its config names `diffIds`
 * (by default the tars' own digests).
 */
export async function imageExport(
  arch: string,
  layers: readonly Buffer[],
  format: ExportFormat,
  diffIds: readonly string[] = layers.map(tar => `sha256:${sha256(tar)}`)
): Promise<Buffer> {
  const config = Buffer.from(
    JSON.stringify({ architecture: arch, os: 'linux', rootfs: { type: 'layers', diff_ids: diffIds } })
  )
  if (format === 'legacy') {
    const ids = diffIds.map((diffId, i) => sha256(Buffer.from(`${i} ${diffId}`)))
    const configName = `${sha256(config)}.json`
    const layerNames = ids.map(id => `${id}/layer.tar`)
    const manifest = [{ Config: configName, RepoTags: [], Layers: layerNames }]
    return tarBuffer(
      [
        ...layers.flatMap((tar, i) => [
          data(`${ids[i]}/VERSION`, '1.0'),
          data(`${ids[i]}/json`, JSON.stringify({ id: ids[i] })),
          data(layerNames[i], tar)
        ]),
        data(configName, config),
        data('manifest.json', JSON.stringify(manifest)),
        data('repositories', '{}')
      ],
      MTIME
    )
  }
  const compress = format === 'oci-gzip' ? gzipSync : zstdCompressSync
  const blobs = layers.map(tar => compress(tar))
  const blob = (content: Buffer): string => `blobs/sha256/${sha256(content)}`
  const mediaType = `application/vnd.oci.image.layer.v1.tar+${format === 'oci-gzip' ? 'gzip' : 'zstd'}`
  const imageManifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      config: { digest: `sha256:${sha256(config)}`, size: config.length },
      layers: blobs.map(b => ({ mediaType, digest: `sha256:${sha256(b)}`, size: b.length }))
    })
  )
  const index = { schemaVersion: 2, manifests: [{ digest: `sha256:${sha256(imageManifest)}` }] }
  const manifest = [{ Config: blob(config), RepoTags: [], Layers: blobs.map(blob) }]
  return tarBuffer(
    [
      ...[...blobs, config, imageManifest].map(content => data(blob(content), content)),
      data('index.json', JSON.stringify(index)),
      data('manifest.json', JSON.stringify(manifest)),
      data('oci-layout', '{"imageLayoutVersion":"1.0.0"}')
    ],
    MTIME
  )
}

/**
 * `docker save` of a multi-platform image on the containerd image store (Docker 26): an OCI layout
 * whose index leads to the manifest list, and from it to each platform's manifest; the blobs of the
 * platforms in `held` only (those the engine pulled); manifest.json names the first of them.
 */
export async function multiPlatformExport(
  arches: readonly string[],
  held: readonly string[] = arches
): Promise<{ listDigest: string; archive: Buffer }> {
  const blob = (content: Buffer): string => `blobs/sha256/${sha256(content)}`
  const members: TarMember[] = []
  const manifests = []
  const named: { Config: string; Layers: string[] }[] = []
  for (const arch of arches) {
    const tar = await layerTar([data('etc/arch', `${arch}\n`)])
    const layer = gzipSync(tar)
    const diffId = `sha256:${sha256(tar)}`
    const config = Buffer.from(
      JSON.stringify({ architecture: arch, os: 'linux', rootfs: { type: 'layers', diff_ids: [diffId] } })
    )
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        config: { digest: `sha256:${sha256(config)}`, size: config.length },
        layers: [{ digest: `sha256:${sha256(layer)}`, size: layer.length }]
      })
    )
    manifests.push({ digest: `sha256:${sha256(manifest)}`, platform: { os: 'linux', architecture: arch } })
    if (!held.includes(arch)) continue
    members.push(...[layer, config, manifest].map(content => data(blob(content), content)))
    named.push({ Config: blob(config), Layers: [blob(layer)] })
  }
  const list = Buffer.from(JSON.stringify({ schemaVersion: 2, manifests }))
  const index = { schemaVersion: 2, manifests: [{ digest: `sha256:${sha256(list)}` }] }
  const archive = await tarBuffer(
    [
      ...members,
      data(blob(list), list),
      data('index.json', JSON.stringify(index)),
      data('manifest.json', JSON.stringify(named.slice(0, 1))),
      data('oci-layout', '{"imageLayoutVersion":"1.0.0"}')
    ],
    MTIME
  )
  return { listDigest: `sha256:${sha256(list)}`, archive }
}

export interface Image {
  readonly id: string
  readonly os: string
  readonly architecture: string
}

/** An engine with tags, a registry with per-platform images, and exports; it records each call. */
export class StandInEngine implements ImageSource {
  readonly calls: string[] = []
  readonly tags = new Map<string, Image>()
  readonly registry = new Map<string, Image>()
  readonly exports = new Map<string, Buffer>()

  async inspect(ref: string): Promise<Image | null> {
    this.calls.push(`inspect ${ref}`)
    await new Promise(setImmediate)
    return this.tags.get(ref) ?? null
  }

  async pull(ref: string, platform: string): Promise<void> {
    this.calls.push(`pull ${ref} ${platform}`)
    await new Promise(setImmediate)
    const image = this.registry.get(`${ref} ${platform}`)
    if (!image) throw new Error(`no matching manifest for ${platform}`)
    this.tags.set(ref, image)
  }

  async export(id: string): Promise<NodeJS.ReadableStream> {
    this.calls.push(`export ${id}`)
    await new Promise(setImmediate)
    return Readable.from([this.exports.get(id)!])
  }

  /**
   * A multi-platform image under `ref` as the containerd store keeps it: a pull of any of its
   * platforms tags the one image (the manifest list), which inspect shows as the first platform.
   */
  async publishMultiPlatform(
    ref: string,
    arches: readonly string[],
    held?: readonly string[]
  ): Promise<Image> {
    const { listDigest, archive } = await multiPlatformExport(arches, held)
    const image = { id: listDigest, os: 'linux', architecture: arches[0] }
    for (const arch of arches) this.registry.set(`${ref} linux/${arch}`, image)
    this.exports.set(image.id, archive)
    return image
  }

  /** An image for linux/<arch> with layers of these members, in the registry under `ref`, exportable. */
  async publish(
    ref: string,
    arch: string,
    layers: readonly TarMember[][] = [[]],
    format: ExportFormat = 'legacy'
  ): Promise<Image> {
    const image = { id: `sha256:${sha256(Buffer.from(`${ref} ${arch}`))}`, os: 'linux', architecture: arch }
    this.registry.set(`${ref} linux/${arch}`, image)
    const tars = await Promise.all(layers.map(layerTar))
    this.exports.set(image.id, await imageExport(arch, tars, format))
    return image
  }
}
