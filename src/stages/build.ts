// Stage 4 (run_build_command make cross): each command of the plan, then the tests when asked, in
// a fresh build container as the caller's uid:gid, with the output streamed live.
import { existsSync } from 'node:fs'
import { hostname } from 'node:os'
import { join, relative } from 'node:path'
import { ContainerClient, type ExitStatus } from '../docker/containers.js'
import { engineGoneWithin } from '../docker/engine.js'
import { EngineLostError } from '../docker/errors.js'
import { createLabels } from '../docker/labels.js'
import { buildEnv } from '../kube/build-env.js'
import { REMOTE_ROOT } from '../kube/layout.js'
import { parseGoDiagnostic } from '../report/annotations.js'
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

/**
 * How long a failed build waits to see whether the engine is shutting down: a stopping dockerd
 * stops the build container first (make then exits 2, or 137), and goes away right after.
 */
const ENGINE_SHUTDOWN_GRACE_MS = 2000

/** Exit code of a process ended by SIGKILL: the OOM killer, or `docker kill`. */
const KILLED = 137

export class BuildError extends Error {
  constructor(
    readonly command: string,
    readonly status: ExitStatus,
    readonly tail: readonly string[]
  ) {
    super(`${BuildError.reason(command, status)}; its last lines:\n${tail.join('\n')}`)
  }

  private static reason(command: string, { exitCode, oomKilled }: ExitStatus): string {
    if (oomKilled) {
      return (
        `'${command}' was killed for want of memory (exit code ${exitCode}, OOM killer): linking Kubernetes ` +
        `binaries needs several GiB per platform; give the engine more memory or build fewer platforms at once`
      )
    }
    if (exitCode === KILLED) {
      return (
        `'${command}' was killed (exit code ${exitCode}, SIGKILL): by something outside the build, or by ` +
        `the kernel for want of memory; check the engine's memory and whether anything stops containers`
      )
    }
    return `'${command}' failed with exit code ${exitCode}`
  }
}

/** Compiler messages annotated at most: a broken vendor tree must not flood the run. */
const MAX_ANNOTATIONS = 50

/** Turns Go diagnostics in the output into annotations on files of the checkout, up to a cap. */
function goAnnotations(ctx: RunContext): { line(text: string): void; finish(): void } {
  const root = ctx.config.tree.root
  const workspace = ctx.env.GITHUB_WORKSPACE ?? root
  const seen = new Set<string>()
  let skipped = 0
  return {
    line(text) {
      const diagnostic = parseGoDiagnostic(text)
      if (!diagnostic || !existsSync(join(root, diagnostic.path))) return
      const key = `${diagnostic.path}:${diagnostic.line}:${diagnostic.message}`
      if (seen.has(key)) return
      seen.add(key)
      if (seen.size > MAX_ANNOTATIONS) {
        skipped++
        return
      }
      const fromWorkspace = relative(workspace, join(root, diagnostic.path))
      ctx.log.annotate({
        message: diagnostic.message,
        file: fromWorkspace.startsWith('..') ? diagnostic.path : fromWorkspace,
        line: diagnostic.line,
        column: diagnostic.column
      })
    },
    finish() {
      if (skipped > 0)
        ctx.log.warning(
          `${skipped} more compiler messages were not annotated (at most ${MAX_ANNOTATIONS} are)`
        )
    }
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
  const containers = new ContainerClient(prereqs.engine.docker, log, ctx.signal)
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
    const annotations = goAnnotations(ctx)
    const status = await containers.run(
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
        annotations.line(line)
        tail.push(line)
        if (tail.length > TAIL_LINES) tail.shift()
      }
    )
    annotations.finish()
    if (status.exitCode !== 0) {
      if (await engineGoneWithin(prereqs.engine.docker, ENGINE_SHUTDOWN_GRACE_MS)) {
        throw new EngineLostError(
          `the Docker engine went away while running '${command}' (its container ended with exit code ` +
            `${status.exitCode}): was dockerd stopped or restarted?`
        )
      }
      throw new BuildError(command, status, tail)
    }
  }
  return { commands: commands.map(c => c.join(' ')) }
}
