// Server images without buildx: the base image's layers for the target platform plus one layer
// holding the binary, written as a docker-archive that `docker load` accepts. Nothing runs for the
// target architecture, so no emulation and no BuildKit are needed; the same inputs give the same
// bytes, so the archives are reproducible.
import { mkdtemp, rename, rm } from 'node:fs/promises'
import { join } from 'node:path'
import type { Logger } from '../../logger.js'
import { linuxArch, type BaseImageCache } from './base-images.js'
import { writeDockerArchive, writeLayer } from './docker-archive.js'
import { imageConfig } from './image-config.js'
import { placeInRootfs } from './overlay.js'

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
    const layer = await writeLayer(
      join(work, 'layer.tar'),
      { placement, binaryPath: request.binaryPath, capabilities: request.capabilities ?? [] },
      created
    )
    const config = imageConfig(base.config, {
      arch,
      created,
      diffId: layer.diffId,
      imagePath: request.imagePath,
      entrypoint: request.entrypoint
    })
    const image = {
      layers: [...base.layers, layer],
      config: Buffer.from(JSON.stringify(config)),
      tags: request.tags
    }
    await writeDockerArchive(partial, image, created)
    await rename(partial, output)
    log.debug(`${output}: layer ${layer.diffId}, tags ${request.tags.join(', ')}`)
  } finally {
    await rm(partial, { force: true })
    await rm(work, { recursive: true, force: true })
  }
}
