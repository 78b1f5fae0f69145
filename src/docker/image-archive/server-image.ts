// Server images: the base image for the target platform plus one layer holding the binary (and,
// for kubectl, its ENTRYPOINT), as build/server-image/<name>/Dockerfile has it.
import { posix } from 'node:path'
import type { Logger } from '../../logger.js'
import { linuxArch, type BaseImageCache } from './base-images.js'
import { CAPABILITY_XATTR, vfsCapData } from './capabilities.js'
import { writeImage, type WriteStep } from './image-writer.js'

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
  linuxArch(request.platform)
  const capabilities = request.capabilities ?? []
  const binary = posix.basename(request.imagePath)
  const steps: WriteStep[] = [
    {
      createdBy: `COPY ${binary} ${request.imagePath} # kube-release-action`,
      entries: [
        {
          kind: 'file',
          imagePath: request.imagePath,
          source: request.binaryPath,
          mode: 0o755,
          xattrs: capabilities.length > 0 ? { [CAPABILITY_XATTR]: vfsCapData(capabilities) } : undefined
        }
      ]
    },
    ...(request.entrypoint
      ? [
          {
            createdBy: `ENTRYPOINT ${JSON.stringify(request.entrypoint)}`,
            patch: { Entrypoint: request.entrypoint }
          }
        ]
      : [])
  ]
  await writeImage({ ...request, steps })
}
