// Stage 4 (run_build_command make cross): each command of the plan, then the tests when asked, in
// a fresh build container as the caller's uid:gid, with the output streamed live.
import { hostname } from 'node:os'
import { ContainerClient } from '../docker/containers.js'
import { createLabels } from '../docker/labels.js'
import { buildEnv } from '../kube/build-env.js'
import { REMOTE_ROOT } from '../kube/layout.js'
import { containerName, type RunContext } from './context.js'
import type { BuildImage } from './image.js'
import type { Prereqs } from './prereqs.js'
import type { Workspace } from './workspace.js'

/** Lines of output kept for the error message of a failed command. */
const TAIL_LINES = 30

const TEST_COMMANDS = [
  ['make', 'test'],
  ['make', 'test-integration']
]

export class BuildError extends Error {
  constructor(
    readonly command: string,
    readonly exitCode: number,
    readonly tail: readonly string[]
  ) {
    super(`'${command}' failed with exit code ${exitCode}; its last lines:\n${tail.join('\n')}`)
  }
}

export interface BuildResult {
  readonly commands: readonly string[]
}

export async function build(
  ctx: RunContext,
  prereqs: Prereqs,
  image: BuildImage,
  ws: Workspace
): Promise<BuildResult> {
  const { config, log } = ctx
  const containers = new ContainerClient(prereqs.engine.docker, log)
  const env = buildEnv(
    {
      fastBuild: config.mode === 'quick-release',
      verbosity: config.verbosity,
      platforms: prereqs.platforms,
      sourceDateEpoch: prereqs.sourceDateEpoch
    },
    ctx.env
  )
  const commands = [...prereqs.plan.commands, ...(config.runTests ? TEST_COMMANDS : [])]
  const { user } = prereqs
  for (const cmd of commands) {
    const command = cmd.join(' ')
    log.info(`+++ running ${command}`)
    const tail: string[] = []
    const code = await containers.run(
      {
        name: containerName(ctx, 'build'),
        image: image.ref,
        cmd,
        user: user ? `${user.uid}:${user.gid}` : undefined,
        env,
        workingDir: REMOTE_ROOT,
        hostname: hostname(),
        labels: createLabels(ctx.owner, 'build'),
        binds: ws.binds,
        mounts: ws.mounts
      },
      line => {
        log.info(line)
        tail.push(line)
        if (tail.length > TAIL_LINES) tail.shift()
      }
    )
    if (code !== 0) throw new BuildError(command, code, tail)
  }
  return { commands: commands.map(c => c.join(' ')) }
}
