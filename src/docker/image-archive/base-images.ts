// The base image of an image, for one platform: for linux the engine's own when it is for that
// platform, else pulled for it and exported; for Windows, which a Linux engine can neither pull nor
// load, downloaded from its registry. Fetched and unpacked once per (reference, platform) for every
// image that shares it.
import { mkdtemp, realpath, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pLimit, { type LimitFunction } from 'p-limit'
import type { Logger } from '../../logger.js'
import type { ImageFacts } from '../images.js'
import { ReleaseError, errorMessage } from '../../errors.js'
import { extractExport, readExport, readLayer, type ExportedLayer, type LayerFile } from './export-reader.js'
import type { ImageConfig } from './image-config.js'
import { mergeLayers, type RootfsEntry } from './overlay.js'
import { fetchFromRegistry } from './registry-source.js'

/** The engine calls a base image needs (ImageClient has them). */
export interface ImageSource {
  /** The image under `ref`, or null when the engine has none. */
  inspect(ref: string): Promise<Pick<ImageFacts, 'id' | 'os' | 'architecture'> | null>
  /** Pulls `ref` for the platform; the engine's tag then points at that platform's image. */
  pull(ref: string, platform: string): Promise<void>
  /** The image as a docker-archive stream (GET /images/{id}/get). */
  export(id: string): Promise<NodeJS.ReadableStream>
}

export interface BaseImage {
  readonly ref: string
  /** The engine's image ID of the platform's image that was exported. */
  readonly id: string
  readonly platform: string
  readonly config: ImageConfig
  /** Each checked against its diff ID. */
  readonly layers: readonly LayerFile[]
  /** The merged layers' directories, symlinks and other paths, without leading slash. */
  readonly rootfs: ReadonlyMap<string, RootfsEntry>
}

const shortId = (id: string): string => id.replace(/^sha256:/, '').slice(0, 12)

/** `linux/<arch>` → arch; server images exist for linux only. */
export function linuxArch(platform: string): string {
  const [os, arch, ...rest] = platform.split('/')
  if (os !== 'linux' || !arch || rest.length > 0) {
    throw new ReleaseError(`unsupported platform '${platform}' for a server image: expected linux/<arch>`)
  }
  return arch
}

function baseUnavailable(ref: string, platform: string, reason: string): ReleaseError {
  return new ReleaseError(
    `base image ${ref} is not available for ${platform}: ${reason}. Make its registry reachable, ` +
      `or load an image for ${platform} under that reference (docker load), or choose another base image`
  )
}

export class BaseImageCache {
  private readonly images = new Map<string, Promise<BaseImage>>()
  /**
   * One fetch at a time per reference: the engine holds one platform under a tag at a time, so a
   * pull for one platform must not come between the pull and the export of another.
   */
  private readonly perReference = new Map<string, LimitFunction>()
  private readonly dirs: string[] = []

  constructor(
    private readonly source: ImageSource,
    private readonly log: Logger,
    /** Where exports and new layers are unpacked: base images can be large, /tmp may be small. */
    readonly tempRoot: string = tmpdir(),
    /** The run's cancel, for downloads from a registry (engine calls have their own). */
    private readonly signal?: AbortSignal
  ) {}

  get(ref: string, platform: string): Promise<BaseImage> {
    const key = `${ref} ${platform}`
    let image = this.images.get(key)
    if (!image) {
      let oneAtATime = this.perReference.get(ref)
      if (!oneAtATime) {
        oneAtATime = pLimit(1)
        this.perReference.set(ref, oneAtATime)
      }
      image = oneAtATime(() => this.fetch(ref, platform))
      this.images.set(key, image)
    }
    return image
  }

  /** Removes the unpacked exports, once every fetch under way has settled. */
  async dispose(): Promise<void> {
    await Promise.allSettled(this.images.values())
    this.images.clear()
    await Promise.all(this.dirs.splice(0).map(dir => rm(dir, { recursive: true, force: true })))
  }

  private async fetch(ref: string, platform: string): Promise<BaseImage> {
    const {
      id,
      config,
      layers: exported
    } = platform.startsWith('linux/')
      ? await this.fromEngine(ref, platform)
      : await fetchFromRegistry(ref, platform, await this.newDir(), this.log, this.signal)
    const layers = []
    const members = []
    for (const layer of exported) {
      const read = await readLayer(layer, ref)
      layers.push(read.layer)
      members.push(read.members)
    }
    return { ref, id, platform, config, layers, rootfs: mergeLayers(members) }
  }

  /** A directory of its own for one image's files, removed by dispose. */
  private async newDir(): Promise<string> {
    // Real, so that the members' real paths can be checked against it.
    const dir = await realpath(await mkdtemp(join(this.tempRoot, 'kube-release-base-')))
    this.dirs.push(dir)
    return dir
  }

  private async fromEngine(
    ref: string,
    platform: string
  ): Promise<{ id: string; config: ImageConfig; layers: ExportedLayer[] }> {
    const id = await this.imageForPlatform(ref, platform)
    const dir = await this.newDir()
    const stream = await this.source.export(id)
    try {
      await extractExport(stream, dir)
    } catch (err) {
      if (err instanceof ReleaseError) throw err
      throw new ReleaseError(`exporting image ${shortId(id)} failed: ${errorMessage(err)}`, { cause: err })
    }
    const { config, layers } = await readExport(dir, ref, platform)
    if (config.os !== 'linux' || config.architecture !== linuxArch(platform)) {
      throw baseUnavailable(ref, platform, `the pull gave ${config.os}/${config.architecture}`)
    }
    this.log.debug(`exported ${ref} (${shortId(id)}) for ${platform}: ${layers.length} layers`)
    return { id, config, layers }
  }

  /**
   * The ID of the image under `ref` to export for the platform, pulled for it unless the engine's is
   * for it. A pull re-points the tag on the classic store, as `docker pull --platform` does; the
   * containerd store keeps every pulled platform under the tag, and its export's index leads to each.
   */
  private async imageForPlatform(ref: string, platform: string): Promise<string> {
    const arch = linuxArch(platform)
    const local = await this.source.inspect(ref)
    if (local?.os === 'linux' && local.architecture === arch) {
      this.log.debug(`using ${ref} (${shortId(local.id)}) from the engine for ${platform}`)
      return local.id
    }
    this.log.info(`pulling ${ref} for ${platform}`)
    try {
      await this.source.pull(ref, platform)
    } catch (err) {
      throw baseUnavailable(ref, platform, (err as Error).message)
    }
    const pulled = await this.source.inspect(ref)
    if (!pulled) throw baseUnavailable(ref, platform, 'the pull gave nothing')
    return pulled.id
  }
}
