// What several stages do alike with the run's objects: name and label them, rsync to and from the
// data volume, find the artifact store a phase needs.
import { readdir } from 'node:fs/promises'
import { join } from 'node:path'
import type { ArtifactStore } from '../artifacts/store.js'
import { createLabels, type Role } from '../docker/labels.js'
import { VolumeRsync, type RsyncBytes } from '../docker/rsync.js'
import { ReleaseError } from '../errors.js'
import { REMOTE_ROOT } from '../kube/layout.js'
import { formatBytes } from '../progress.js'
import type { RunContext } from './context.js'
import type { BuildContainerImage, BuildUser, Prerequisites } from './state.js'

/** Container names carry the tree and the run, so two runs on one engine never collide. */
export function containerName(ctx: RunContext, role: Role): string {
  return `kube-${role}-${ctx.owner.treeHash}-${ctx.owner.runId}`
}

/** The `user` of a container spec: the build user, or the image's own on rootless engines. */
export const userSpec = (user: BuildUser | null): string | undefined =>
  user ? `${user.uid}:${user.gid}` : undefined

/** rsync to and from the data volume, for the sync in and the copy out; counts what it moves. */
export function volumeRsync(
  ctx: RunContext,
  state: Prerequisites & BuildContainerImage,
  volume: string
): {
  push(source: string, args: readonly string[]): Promise<void>
  pull(to: string, args: readonly string[]): Promise<void>
} {
  const rsync = new VolumeRsync(
    state.engine.containers,
    {
      name: containerName(ctx, 'rsync'),
      image: state.buildImage.ref,
      volume,
      path: REMOTE_ROOT,
      user: state.buildUser,
      labels: createLabels(ctx.owner, 'rsync'),
      verbosity: ctx.config.verbosity,
      signal: ctx.signal
    },
    ctx.log
  )
  const count = (moved: RsyncBytes): void => {
    ctx.traffic.intoContainers += moved.sent
    ctx.traffic.outOfContainers += moved.received
    ctx.log.info(`rsync sent ${formatBytes(moved.sent)} and received ${formatBytes(moved.received)}`)
  }
  return {
    push: async (source, args) => count(await rsync.push(source, args)),
    pull: async (to, args) => count(await rsync.pull(to, args))
  }
}

/** The artifact store of a matrix phase, which passes binaries between jobs. */
export function matrixArtifactStore(ctx: RunContext): ArtifactStore {
  if (!ctx.artifacts) {
    throw new ReleaseError(
      `phase '${ctx.config.phase}' passes binaries between jobs as artifacts, but this run has no artifact store`,
      { fix: 'Run it in GitHub Actions with upload on; on the CLI, give --artifacts-dir' }
    )
  }
  return ctx.artifacts
}

/** Unique per run (the run id's random part) and telling what it holds: `<prefix>-<version>-<platforms>-<id>`. */
export function defaultArtifactName(
  ctx: RunContext,
  prefix: string,
  version: string,
  platforms: readonly string[]
): string {
  const names =
    platforms.length <= 3
      ? platforms.map(p => p.replace('/', '-')).join('_')
      : `${platforms.length}-platforms`
  const unique = ctx.owner.runId.split('-').pop()
  return `${prefix}-${version}-${names}-${unique}`
}

/** Every regular file below `dir`. */
export async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true })
  return entries.filter(e => e.isFile()).map(e => join(e.parentPath, e.name))
}
