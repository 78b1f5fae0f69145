// The image config (the JSON `docker inspect` shows the parts of): the base's, with one layer added
// as a Dockerfile `COPY` (and, for an ENTRYPOINT, `ENTRYPOINT`) would add it. Pure.
import { posix } from 'node:path'

/** An image config as an export holds it; the fields used here, the rest kept as they are. */
export interface ImageConfig {
  architecture?: string
  os?: string
  config?: Record<string, unknown>
  rootfs?: { type?: string; diff_ids?: string[] }
  history?: Record<string, unknown>[]
  [key: string]: unknown
}

export interface ImageChange {
  readonly arch: string
  readonly created: Date
  /** `sha256:<hex>` of the new layer, uncompressed. */
  readonly diffId: string
  /** Absolute path of the copied file in the image, as the request names it. */
  readonly imagePath: string
  readonly entrypoint?: readonly string[]
}

/** The base config with the new layer, its history and (for an ENTRYPOINT) the new entrypoint. */
export function imageConfig(base: ImageConfig, change: ImageChange): ImageConfig {
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
