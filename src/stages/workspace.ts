// Stage 3: where the build container finds the tree and keeps its caches.
// volume (upstream ≤ v1.34): a data volume holds the source copy, GOPATH and GOCACHE; the source is
//   pushed with rsync (upstream's filters, --delete) so later runs transfer only what changed.
// bind (upstream ≥ v1.35): the checkout is mounted; caches live in its _output/dockerized/go.
import type Dockerode from 'dockerode'
import { access, mkdir, readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { prepareBuildCache, type BuildCacheContext, type BuildCacheUse } from '../cache/build-cache.js'
import { buildCacheKeys } from '../cache/keys.js'
import { ContainerClient } from '../docker/containers.js'
import { Label, createLabels } from '../docker/labels.js'
import { RsyncDaemon } from '../docker/rsync.js'
import { VolumeClient } from '../docker/volumes.js'
import { REMOTE_ROOT, dataVolumeName, localGoPath } from '../kube/layout.js'
import { containerName, type RunContext } from './context.js'
import type { BuildImage } from './image.js'
import type { Prereqs } from './prereqs.js'

export interface Workspace {
  readonly binds: readonly string[]
  readonly mounts: readonly Dockerode.MountSettings[]
  /** The data volume (volume strategy). */
  readonly volume: string | null
  /** What the cache stage needs to save the Go build cache; null when caching is off. */
  readonly buildCache: {
    readonly context: BuildCacheContext
    readonly key: string
    readonly use: BuildCacheUse
  } | null
}

type Mounts = Pick<Workspace, 'binds' | 'mounts' | 'volume'>

/**
 * Restores the Go build cache into a workspace that has none yet (a new volume or tree) and dates
 * its entries, so the save keeps only what this build uses.
 */
async function withBuildCache(
  ctx: RunContext,
  prereqs: Prereqs,
  image: BuildImage,
  ws: Mounts,
  empty: boolean
): Promise<Workspace> {
  if (!ctx.cache) return { ...ws, buildCache: null }
  const { user } = prereqs
  const context: BuildCacheContext = {
    containers: new ContainerClient(prereqs.engine.docker, ctx.log, ctx.signal),
    log: ctx.log,
    store: ctx.cache,
    image: image.ref,
    labels: createLabels(ctx.owner, 'cache'),
    name: containerName(ctx, 'cache'),
    binds: ws.binds,
    mounts: ws.mounts,
    owner: user ? `${user.uid}:${user.gid}` : '0:0',
    file: join(ctx.cacheFiles, 'go-build-cache.tar')
  }
  const { key, prefix } = buildCacheKeys(
    ctx.config.kubeCross.tag,
    prereqs.platforms,
    ctx.config.workspace,
    ctx.owner.runId
  )
  const use = await prepareBuildCache(context, { key, prefix }, empty)
  return { ...ws, buildCache: { context, key, use } }
}

/** Upstream's sync_to_container filters: never send _tmp or _output, never touch the root's attributes. */
const PUSH_ARGS = ['--delete', '--filter=- /_tmp/', '--filter=- /_output/', '--filter=- /']

async function localtimeMounts(prereqs: Prereqs): Promise<Dockerode.MountSettings[]> {
  if (!prereqs.engine.local) return []
  const present = await access('/etc/localtime').then(
    () => true,
    () => false
  )
  return present ? [{ Type: 'bind', Source: '/etc/localtime', Target: '/etc/localtime', ReadOnly: true }] : []
}

/** Data volumes of this tree made for other image versions are dead weight: upstream deletes them too. */
async function removeStaleVolumes(volumes: VolumeClient, current: string, ctx: RunContext): Promise<void> {
  const ours = await volumes.list({
    label: [`${Label.managed}=true`, `${Label.tree}=${ctx.owner.treeHash}`, `${Label.role}=data`]
  })
  for (const name of ours.filter(n => n !== current)) {
    try {
      await volumes.remove(name)
      ctx.log.info(`removed data volume ${name} of an older image version`)
    } catch (err) {
      ctx.log.warning(`could not remove old data volume ${name}: ${(err as Error).message}`)
    }
  }
}

/** An rsync daemon serving the data volume, for the sync in and the copy out. */
export function startRsyncDaemon(
  ctx: RunContext,
  prereqs: Prereqs,
  image: BuildImage,
  volume: string
): Promise<RsyncDaemon> {
  return RsyncDaemon.start(
    new ContainerClient(prereqs.engine.docker, ctx.log, ctx.signal),
    {
      name: containerName(ctx, 'rsync'),
      image: image.ref,
      volume,
      path: REMOTE_ROOT,
      user: prereqs.user,
      labels: createLabels(ctx.owner, 'rsync'),
      verbosity: ctx.config.verbosity,
      signal: ctx.signal
    },
    ctx.log
  )
}

async function volumeWorkspace(ctx: RunContext, prereqs: Prereqs, image: BuildImage): Promise<Workspace> {
  const { docker } = prereqs.engine
  const volumes = new VolumeClient(docker, ctx.log)
  const containers = new ContainerClient(docker, ctx.log, ctx.signal)
  const root = ctx.config.tree.root
  const volume = dataVolumeName(root, image.version)
  await removeStaleVolumes(volumes, volume, ctx)
  const created = await volumes.ensure(volume, createLabels(ctx.owner, 'data'))
  ctx.log.info(`${created ? 'created' : 'reusing'} data volume ${volume}`)
  const { user } = prereqs
  if (created && user && user.uid !== 0) {
    // A new volume belongs to root; the build runs as the caller.
    const { exitCode } = await containers.run(
      {
        name: containerName(ctx, 'volume-init'),
        image: image.ref,
        cmd: ['chown', '-R', `${user.uid}:${user.gid}`, REMOTE_ROOT],
        user: '0:0',
        labels: createLabels(ctx.owner, 'volume-init'),
        mounts: [{ Type: 'volume', Source: volume, Target: REMOTE_ROOT }]
      },
      line => ctx.log.info(line)
    )
    if (exitCode !== 0) throw new Error(`preparing data volume ${volume} failed with exit code ${exitCode}`)
  }

  ctx.log.info(`syncing ${root} into the data volume`)
  const daemon = await startRsyncDaemon(ctx, prereqs, image, volume)
  try {
    await daemon.push(`${root}/`, PUSH_ARGS)
  } finally {
    await daemon.stop()
  }
  const ws = {
    binds: [],
    mounts: [
      { Type: 'volume', Source: volume, Target: REMOTE_ROOT } as const,
      ...(await localtimeMounts(prereqs))
    ],
    volume
  }
  return withBuildCache(ctx, prereqs, image, ws, created)
}

async function bindWorkspace(ctx: RunContext, prereqs: Prereqs, image: BuildImage): Promise<Workspace> {
  const root = ctx.config.tree.root
  const goCache = join(localGoPath(root), 'cache', 'build')
  const empty = (await readdir(goCache).catch(() => [])).length === 0
  // Created here so that Docker does not create it as root.
  await mkdir(localGoPath(root), { recursive: true })
  ctx.log.info(`mounting ${root} at ${REMOTE_ROOT}; Go caches in ${localGoPath(root)}`)
  const ws = { binds: [`${root}:${REMOTE_ROOT}`], mounts: await localtimeMounts(prereqs), volume: null }
  return withBuildCache(ctx, prereqs, image, ws, empty)
}

export async function workspace(ctx: RunContext, prereqs: Prereqs, image: BuildImage): Promise<Workspace> {
  return ctx.config.workspace === 'volume'
    ? volumeWorkspace(ctx, prereqs, image)
    : bindWorkspace(ctx, prereqs, image)
}
