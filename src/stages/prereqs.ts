// Stage 1 (kube::build::verify_prereqs): the engine, the host tools, the platforms and commands
// of this run, the version, and the version file the build container reads.
import { spawn } from 'node:child_process'
import { statfs, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { connectEngine, type Engine } from '../docker/engine.js'
import { planBuild, type BuildPlan } from '../kube/build-plan.js'
import { VERSION_FILE_NAME } from '../kube/layout.js'
import { resolvePlatforms } from '../kube/platforms.js'
import { ConfigError, Input } from '../config.js'
import {
  VersionError,
  computeVersion,
  sourceDateEpoch,
  versionFileContent,
  type KubeVersion
} from '../kube/version.js'
import type { RunContext } from './context.js'

export interface Prereqs {
  readonly engine: Engine
  /** uid:gid for build containers; null on rootless engines. */
  readonly user: { uid: number; gid: number } | null
  readonly platforms: readonly string[]
  readonly plan: BuildPlan
  readonly version: KubeVersion
  /** Seconds since the epoch: build dates and every mtime in the tarballs. */
  readonly sourceDateEpoch: number
}

/** Below this much free space next to the tree, a release build is likely to fail late. */
const LOW_DISK_BYTES = 10 * 1024 ** 3

export class PrereqError extends Error {}

function hostHasRsync(): Promise<boolean> {
  return new Promise(resolve => {
    const child = spawn('rsync', ['--version'], { stdio: 'ignore' })
    child.on('error', () => resolve(false))
    child.on('close', code => resolve(code === 0))
  })
}

/** The tree's version; a tree git cannot describe is an input problem, reported before the engine is touched. */
async function treeVersion(root: string, env: NodeJS.ProcessEnv): Promise<KubeVersion> {
  try {
    return await computeVersion(root, env)
  } catch (err) {
    if (err instanceof VersionError) throw new ConfigError(Input.source, err.message)
    throw err
  }
}

export async function prereqs(ctx: RunContext): Promise<Prereqs> {
  const { config, log } = ctx
  const root = config.tree.root
  const version = await treeVersion(root, ctx.env)
  if (config.workspace === 'volume' && !(await hostHasRsync())) {
    throw new PrereqError(
      "the 'volume' workspace pushes the source with rsync, which is not installed on this host " +
        '(install rsync, or use workspace: bind)'
    )
  }
  const engine = await connectEngine(log)
  log.info(
    `Docker engine ${engine.serverVersion} (${engine.os}/${engine.arch}, API ${engine.apiVersion}) at ${engine.endpoint}`
  )
  if (engine.os !== 'linux')
    throw new PrereqError(`the engine runs ${engine.os} containers; builds need a linux engine`)
  if (config.workspace === 'volume' && !engine.local) {
    log.warning(
      'the engine is not on this machine: the rsync daemon is reached through its container address'
    )
  }

  const free = await statfs(root).then(s => s.bavail * s.bsize)
  if (free < LOW_DISK_BYTES) log.warning(`only ${(free / 1024 ** 3).toFixed(1)} GiB free at ${root}`)

  const platforms = resolvePlatforms(config.platforms, config.mode, engine.arch)
  const plan = planBuild(platforms, config.targets)
  log.info(`platforms: ${platforms.join(', ')}`)
  log.info(`build commands: ${plan.commands.map(c => c.join(' ')).join(' ; ')}`)

  await writeFile(join(root, VERSION_FILE_NAME), versionFileContent(version))
  log.info(`version ${version.version} (commit ${version.commit || 'unknown'}, tree ${version.treeState})`)
  const epoch = await sourceDateEpoch(root, ctx.env)
  log.info(`SOURCE_DATE_EPOCH ${epoch} (${new Date(epoch * 1000).toISOString()})`)

  const user =
    engine.rootless || process.getuid === undefined ? null : { uid: process.getuid(), gid: process.getgid!() }
  return { engine, user, platforms, plan, version, sourceDateEpoch: epoch }
}
