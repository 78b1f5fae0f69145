// Images without buildx: a base image's layers for the target platform, one new layer per COPY-like
// step and the config changes of the others, written as a docker-archive that `docker load` accepts.
// Nothing runs for the target platform, so neither emulation nor BuildKit is needed, Windows images
// included; the same inputs give the same bytes.
import { mkdtemp, rename, rm } from 'node:fs/promises'
import { join, posix } from 'node:path'
import type { TarMember } from '../../archive/tar.js'
import type { Logger } from '../../logger.js'
import type { BaseImageCache } from './base-images.js'
import { writeDockerArchive, writeLayer } from './docker-archive.js'
import type { LayerFile } from './export-reader.js'
import { imageConfig, type ConfigPatch, type ImageStep } from './image-config.js'
import { applyLayer, placeInRootfs, type LayerMember, type Rootfs } from './overlay.js'
import { WINDOWS_FILES_DIR, windowsLayerMembers } from './windows-layer.js'

/** What a layer adds, at absolute paths of the image; every member is owned by 0/0. */
export type LayerEntry =
  | { readonly kind: 'dir'; readonly imagePath: string; readonly mode: number }
  | {
      readonly kind: 'file'
      readonly imagePath: string
      readonly source: string
      readonly mode: number
      readonly xattrs?: Readonly<Record<string, Buffer>>
    }
  | { readonly kind: 'symlink'; readonly imagePath: string; readonly target: string }

/** One instruction: a layer of entries, or a config change; `createdBy` is its history line. */
export type WriteStep =
  | { readonly createdBy: string; readonly entries: readonly LayerEntry[] }
  | { readonly createdBy: string; readonly patch: ConfigPatch }

export interface ImageRequest {
  readonly bases: BaseImageCache
  readonly log: Logger
  readonly baseRef: string
  /** `os/arch`. */
  readonly platform: string
  readonly steps: readonly WriteStep[]
  readonly tags: readonly string[]
  /** The image's creation time and every mtime in the archives. */
  readonly created: Date
  /** Where the docker-archive goes; it appears under this name only when complete. */
  readonly output: string
}

const OWNER = { uid: 0, gid: 0 }

/**
 * The members of one layer: each entry where COPY would put it in the file system so far (through
 * directory symlinks), after the parent directories it needs, as the file system has them.
 */
export function layerMembers(rootfs: Rootfs, entries: readonly LayerEntry[], windows: boolean): TarMember[] {
  const members = new Map<string, TarMember>()
  const add = (member: TarMember): void => {
    if (!members.has(member.path) || member.kind !== 'dir') members.set(member.path, member)
  }
  for (const entry of entries) {
    const rootPath = windows ? posix.join(`/${WINDOWS_FILES_DIR}`, entry.imagePath) : entry.imagePath
    // A directory is placed as the parent of a child, so that a symlink at its own path is followed.
    const placement = placeInRootfs(rootfs, entry.kind === 'dir' ? posix.join(rootPath, '.child') : rootPath)
    const parents = entry.kind === 'dir' ? placement.parents.slice(0, -1) : placement.parents
    for (const dir of parents)
      add({ kind: 'dir', path: `${dir.path}/`, mode: dir.mode, uid: dir.uid, gid: dir.gid })
    const path = entry.kind === 'dir' ? placement.parents.at(-1)!.path : placement.path
    if (entry.kind === 'dir')
      members.set(`${path}/`, { kind: 'dir', path: `${path}/`, mode: entry.mode, ...OWNER })
    else if (entry.kind === 'file') {
      members.set(path, {
        kind: 'file',
        path,
        source: entry.source,
        mode: entry.mode,
        xattrs: entry.xattrs,
        ...OWNER
      })
    } else members.set(path, { kind: 'symlink', path, target: entry.target })
  }
  return [...members.values()]
}

/** The members as the merged file system sees them, so that later steps place through them. */
function asLayerMembers(members: readonly TarMember[]): LayerMember[] {
  return members.map(m => ({
    name: m.path,
    type: m.kind === 'dir' ? 'directory' : m.kind === 'symlink' ? 'symlink' : 'other',
    mode: m.kind === 'symlink' ? 0o777 : (m.mode ?? 0o644),
    uid: 0,
    gid: 0,
    linkname: m.kind === 'symlink' ? m.target : ''
  }))
}

/** Writes an image as a docker-archive: the base's layers for the platform plus the steps'. */
export async function writeImage(request: ImageRequest): Promise<void> {
  const { log, output, created, platform } = request
  const windows = platform.startsWith('windows/')
  const base = await request.bases.get(request.baseRef, platform)
  log.info(`writing ${output}: ${request.baseRef} (${platform}) + ${request.steps.length} steps`)
  const work = await mkdtemp(join(request.bases.tempRoot, 'kube-release-layer-'))
  const partial = `${output}.partial`
  try {
    const rootfs: Rootfs = new Map(base.rootfs)
    const layers: LayerFile[] = []
    const steps: ImageStep[] = []
    for (const step of request.steps) {
      if ('patch' in step) {
        steps.push({ createdBy: step.createdBy, patch: step.patch })
        continue
      }
      const members = layerMembers(rootfs, step.entries, windows)
      applyLayer(rootfs, asLayerMembers(members))
      const written = windows ? windowsLayerMembers(members, created) : members
      const layer = await writeLayer(join(work, `layer-${layers.length}.tar`), written, created)
      layers.push(layer)
      steps.push({ createdBy: step.createdBy, diffId: layer.diffId })
    }
    const config = imageConfig(base.config, { platform, created, steps })
    const image = {
      layers: [...base.layers, ...layers],
      config: Buffer.from(JSON.stringify(config)),
      tags: request.tags
    }
    await writeDockerArchive(partial, image, created)
    await rename(partial, output)
    log.debug(`${output}: layers ${layers.map(l => l.diffId).join(', ')}, tags ${request.tags.join(', ')}`)
  } finally {
    await rm(partial, { force: true })
    await rm(work, { recursive: true, force: true })
  }
}
