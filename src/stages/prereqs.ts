// Stage 1 (kube::build::verify_prereqs): the engine, the host tools, the platforms and commands of this
// run, the version, and the version file the build container reads.
import { spawn } from 'node:child_process'
import { statfs, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { isImagesMode } from '../config.js'
import { Input, forInput } from '../inputs.js'
import { connectEngine } from '../docker/engine.js'
import { HostView } from '../docker/host-view.js'
import { InputError, ReleaseError } from '../errors.js'
import { buildCommands, planBuild, planImagesBuild } from '../kube/build-plan.js'
import { VERSION_FILE_NAME } from '../kube/layout.js'
import { platformsOrigin, resolvePlatforms } from '../kube/platforms.js'
import { computeVersion, sourceDateEpoch, versionFileContent } from '../kube/version.js'
import type { Stage } from '../run/stage.js'
import type { BuildUser, Prerequisites } from '../run/state.js'

/** Below this much free space next to the tree, a release build is likely to fail late. */
const LOW_DISK_BYTES = 10 * 1024 ** 3

function hostHasRsync(): Promise<boolean> {
  return new Promise(resolve => {
    const child = spawn('rsync', ['--version'], { stdio: 'ignore' })
    child.on('error', () => resolve(false))
    child.on('close', code => resolve(code === 0))
  })
}

export const prereqs: Stage<object, Prerequisites> = {
  name: 'prereqs',
  async run(ctx) {
    const { config, log } = ctx
    const root = config.tree.root
    // A tree git cannot describe is an input problem, reported before the engine is touched.
    const version = await forInput(Input.source, () => computeVersion(root, ctx.env))
    if (config.workspace === 'volume' && !(await hostHasRsync())) {
      throw new InputError(
        "the 'volume' workspace pushes the source with rsync, which is not installed on this host",
        {
          fix: 'Install rsync, or use workspace: bind'
        }
      )
    }
    const engine = await connectEngine(log, { cancel: ctx.signal, stallTimeoutMs: config.stallTimeoutMs })
    const { info } = engine
    log.info(
      `Docker engine ${info.serverVersion} (${info.os}/${info.arch}, API ${info.apiVersion}) at ${info.endpoint}`
    )
    if (info.os !== 'linux') {
      throw new ReleaseError(`the engine runs ${info.os} containers; builds need a linux engine`, {
        fix: 'Switch the engine to linux containers, or point DOCKER_HOST at a linux engine'
      })
    }

    const host = await HostView.detect(engine.containers, log)
    if (config.workspace === 'bind' && host.enginePath(root) === null) {
      throw new InputError(
        `the tree ${root} is in no directory mounted into this container (${host.ownContainer?.name}), so the engine cannot mount it`,
        {
          input: Input.workspace,
          fix: "Use workspace: volume, or check the tree out under a directory mounted from the engine's host (in a GitHub container job: the workspace)"
        }
      )
    }

    const free = await statfs(root).then(s => s.bavail * s.bsize)
    if (free < LOW_DISK_BYTES) log.warning(`only ${(free / 1024 ** 3).toFixed(1)} GiB free at ${root}`)

    const selected = resolvePlatforms(config.platforms, config.mode, info.arch)
    const plan = isImagesMode(config.mode)
      ? planImagesBuild(selected, config.images)
      : planBuild(selected, config.targets, config.images)
    // The images-only modes build for the server platforms (and windows/amd64) only.
    const platforms = isImagesMode(config.mode) ? plan.platforms : selected
    log.info(`platforms: ${platforms.join(', ')} (from ${platformsOrigin(config.platforms, config.mode)})`)
    log.info(
      `images beyond the server images: conformance ${config.images.conformance ? 'on' : 'off'}, ` +
        `windows kube-proxy ${config.images.windowsKubeProxy ? 'on' : 'off'}`
    )
    log.info(
      `build commands: ${buildCommands(plan, config.runTests)
        .map(c => c.join(' '))
        .join(' ; ')}`
    )

    await writeFile(join(root, VERSION_FILE_NAME), versionFileContent(version))
    log.info(`version ${version.version} (commit ${version.commit || 'unknown'}, tree ${version.treeState})`)
    const epoch = await sourceDateEpoch(root, ctx.env)
    log.info(`SOURCE_DATE_EPOCH ${epoch} (${new Date(epoch * 1000).toISOString()})`)

    const buildUser: BuildUser | null =
      info.rootless || process.getuid === undefined ? null : { uid: process.getuid(), gid: process.getgid!() }
    return { engine, host, buildUser, platforms, plan, version, sourceDateEpoch: epoch }
  }
}
