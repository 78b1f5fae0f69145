// Stage 3: where the build container finds the tree and keeps its caches.
// volume (upstream ≤ v1.34): a data volume holds the source copy, GOPATH and GOCACHE; the source is
//   pushed with rsync (upstream's filters, --delete) so later runs transfer only what changed, over
//   the Engine API connection (no shared path or port).
// bind (upstream ≥ v1.35): the checkout is mounted; caches live in its _output/dockerized/go.
import { access, mkdir, readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { prepareBuildCache } from '../cache/build-cache.js'
import { buildCacheKeys } from '../cache/keys.js'
import type { Mount } from '../docker/containers.js'
import { createLabels, treeLabels } from '../docker/labels.js'
import { WorkspaceShell } from '../docker/workspace-shell.js'
import { ReleaseError, errorMessage } from '../errors.js'
import { REMOTE_ROOT, dataVolumeName, localGoPath } from '../kube/layout.js'
import { PUSH_ARGS } from '../kube/sync-filters.js'
import { Output } from '../report/report.js'
import type { RunContext } from '../run/context.js'
import type { Stage } from '../run/stage.js'
import { containerName, userSpec, volumeRsync } from '../run/stage-helpers.js'
import type { BuildContainerImage, BuildWorkspace, Prerequisites } from '../run/state.js'

type Needs = Prerequisites & BuildContainerImage
type Mounted = Omit<BuildWorkspace['workspace'], 'buildCache'>

/**
 * Restores the Go build cache into a workspace that has none yet (a new volume or tree) and dates
 * its entries, so the save keeps only what this build uses.
 */
async function withBuildCache(
  ctx: RunContext,
  state: Needs,
  mounted: Mounted,
  empty: boolean
): Promise<BuildWorkspace> {
  const restored = async (): Promise<BuildWorkspace['workspace']['buildCache']> => {
    if (!ctx.cache) return null
    const target = {
      shell: new WorkspaceShell(state.engine.containers, {
        name: containerName(ctx, 'cache'),
        image: state.buildImage.ref,
        labels: createLabels(ctx.owner, 'cache'),
        mounts: mounted.mounts
      }),
      store: ctx.cache,
      log: ctx.log,
      owner: userSpec(state.buildUser) ?? '0:0',
      archive: join(ctx.cacheArchiveDir, 'go-build-cache.tar')
    }
    const keys = buildCacheKeys(
      ctx.config.kubeCross.tag,
      state.platforms,
      ctx.config.workspace,
      ctx.owner.runId
    )
    return { target, use: await prepareBuildCache(target, keys, empty) }
  }
  const buildCache = await restored()
  const hit = buildCache?.use.restoredKey ?? null
  ctx.reporter.setOutput(Output.buildCacheHit, String(hit !== null))
  if (hit) ctx.reporter.setOutput(Output.buildCacheKey, hit)
  return { workspace: { ...mounted, buildCache } }
}

/** Data volumes of this tree made for other image versions are dead weight: upstream deletes them too. */
async function removeStaleVolumes(ctx: RunContext, state: Prerequisites, current: string): Promise<void> {
  const { volumes } = state.engine
  const ours = await volumes.listLabelled(treeLabels(ctx.owner.treeHash, 'data'))
  for (const name of ours.filter(n => n !== current)) {
    try {
      await volumes.remove(name)
      ctx.log.info(`removed data volume ${name} of an older image version`)
    } catch (err) {
      ctx.log.warning(`could not remove old data volume ${name}: ${errorMessage(err)}`)
    }
  }
}

async function volumeWorkspace(ctx: RunContext, state: Needs): Promise<BuildWorkspace> {
  const { containers, volumes } = state.engine
  const root = ctx.config.tree.root
  const volume = dataVolumeName(root, state.buildImage.version)
  await removeStaleVolumes(ctx, state, volume)
  const created = await volumes.ensure(volume, createLabels(ctx.owner, 'data'))
  ctx.log.info(`${created ? 'created' : 'reusing'} data volume ${volume}`)
  const volumeMount: Mount = { kind: 'volume', volume, target: REMOTE_ROOT }
  const user = state.buildUser
  if (created && user && user.uid !== 0) {
    // A new volume belongs to root; the build runs as the caller.
    const { exitCode } = await containers.run(
      {
        name: containerName(ctx, 'volume-init'),
        image: state.buildImage.ref,
        cmd: ['chown', '-R', `${user.uid}:${user.gid}`, REMOTE_ROOT],
        user: '0:0',
        labels: createLabels(ctx.owner, 'volume-init'),
        mounts: [volumeMount]
      },
      line => ctx.log.info(line)
    )
    if (exitCode !== 0)
      throw new ReleaseError(`preparing data volume ${volume} failed with exit code ${exitCode}`)
  }

  ctx.log.info(`syncing ${root} into the data volume`)
  await volumeRsync(ctx, state, volume).push(`${root}/`, PUSH_ARGS)
  const mounted = { mounts: [volumeMount], volume }
  return withBuildCache(ctx, state, mounted, created)
}

/**
 * Where the engine finds the tree: its path on the engine's host, once a container has shown that it
 * reads there what this run wrote (a remote engine or a sidecar would mount an empty directory).
 */
async function engineTreePath(ctx: RunContext, state: Needs): Promise<string> {
  const root = ctx.config.tree.root
  const { host } = state
  // prereqs refused a tree outside every mount of this container.
  const source = host.enginePath(root)!
  if (source !== root) ctx.log.info(`the tree ${root} is ${source} on the engine's host`)
  const shared = await host.sharesDirectory(localGoPath(root), host.enginePath(localGoPath(root))!, {
    name: containerName(ctx, 'probe'),
    image: state.buildImage.ref,
    labels: createLabels(ctx.owner, 'probe')
  })
  if (!shared) {
    throw new ReleaseError(
      `the engine at ${state.engine.info.endpoint} does not see this machine's files: a container that mounts ${source} does not find what this run wrote there`,
      {
        fix: 'The engine is remote or in a container of its own (e.g. a Docker-in-Docker sidecar): use workspace: volume, which moves the files through the Engine API'
      }
    )
  }
  return source
}

/** upstream mounts the host's timezone; only a file the engine shares with this process can be. */
async function localtimeMounts(state: Needs): Promise<Mount[]> {
  const source = state.host.enginePath('/etc/localtime')
  const present = await access('/etc/localtime').then(
    () => true,
    () => false
  )
  return source && present ? [{ kind: 'bind', source, target: '/etc/localtime', readOnly: true }] : []
}

async function bindWorkspace(ctx: RunContext, state: Needs): Promise<BuildWorkspace> {
  const root = ctx.config.tree.root
  const goCache = join(localGoPath(root), 'cache', 'build')
  const empty = (await readdir(goCache).catch(() => [])).length === 0
  // Created here so that Docker does not create it as root.
  await mkdir(localGoPath(root), { recursive: true })
  const source = await engineTreePath(ctx, state)
  ctx.log.info(`mounting ${root} at ${REMOTE_ROOT}; Go caches in ${localGoPath(root)}`)
  const treeMount: Mount = { kind: 'bind', source, target: REMOTE_ROOT }
  const mounted = { mounts: [treeMount, ...(await localtimeMounts(state))], volume: null }
  return withBuildCache(ctx, state, mounted, empty)
}

export const workspace: Stage<Needs, BuildWorkspace> = {
  name: 'workspace',
  run: (ctx, state) =>
    ctx.config.workspace === 'volume' ? volumeWorkspace(ctx, state) : bindWorkspace(ctx, state)
}
