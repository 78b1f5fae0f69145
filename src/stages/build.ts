// Stage 4 (run_build_command make cross): each command of the plan, then the tests when asked, in
// a fresh build container as the caller's uid:gid, with the output streamed live.
import { existsSync } from 'node:fs'
import { hostname } from 'node:os'
import { join, posix, relative } from 'node:path'
import type { ExitStatus } from '../docker/containers.js'
import { createLabels } from '../docker/labels.js'
import { isQuickMode } from '../config.js'
import { EngineLostError, ReleaseError } from '../errors.js'
import { buildEnv } from '../kube/build-env.js'
import { buildCommands } from '../kube/build-plan.js'
import { REMOTE_ROOT } from '../kube/layout.js'
import { GoTestOutput, packageDirectories, parseGoDiagnostic } from '../report/annotations.js'
import type { RunContext } from '../run/context.js'
import type { Stage } from '../run/stage.js'
import { containerName, userSpec } from '../run/stage-helpers.js'
import type { BuildContainerImage, BuildWorkspace, Prerequisites } from '../run/state.js'

/** Lines of output kept for the error message of a failed command. */
const TAIL_LINES = 30

/**
 * How long a failed build waits to see whether the engine is shutting down: a stopping dockerd
 * stops the build container first (make then exits 2, or 137), and goes away right after.
 */
const ENGINE_SHUTDOWN_GRACE_MS = 2000

/** Exit code of a process ended by SIGKILL: the OOM killer, or `docker kill`. */
const SIGKILL_EXIT_CODE = 137

/** Go messages annotated at most: a broken vendor tree or a failing suite must not flood the run. */
const MAX_ANNOTATIONS = 50

/** What a failed command tells the user: why it likely failed, and its last lines. */
function commandFailed(
  command: string,
  { exitCode, oomKilled }: ExitStatus,
  tail: readonly string[],
  failedPackages: readonly string[]
): ReleaseError {
  const lastLines = `its last lines:\n${tail.join('\n')}`
  if (oomKilled) {
    return new ReleaseError(
      `'${command}' was killed for want of memory (exit code ${exitCode}, OOM killer); ${lastLines}`,
      {
        fix: 'Linking Kubernetes binaries needs several GiB per platform: give the engine more memory or build fewer platforms at once'
      }
    )
  }
  if (exitCode === SIGKILL_EXIT_CODE) {
    return new ReleaseError(
      `'${command}' was killed (exit code ${exitCode}, SIGKILL): by something outside the build, or by the kernel ` +
        `for want of memory; ${lastLines}`,
      { fix: "Check the engine's memory and whether anything stops containers" }
    )
  }
  const failing =
    failedPackages.length > 0 ? `; tests failed in ${[...new Set(failedPackages)].join(', ')}` : ''
  return new ReleaseError(`'${command}' failed with exit code ${exitCode}${failing}; ${lastLines}`)
}

/**
 * Turns Go diagnostics in the output into annotations on files of the checkout, up to a cap:
 * compiler and vet messages by their path, `go test` failures by the package their block ends with.
 */
function goAnnotations(ctx: RunContext): {
  line(text: string): void
  finish(): void
  readonly failedPackages: readonly string[]
} {
  const root = ctx.config.tree.root
  const workspace = ctx.env.GITHUB_WORKSPACE ?? root
  const tests = new GoTestOutput()
  const seen = new Set<string>()
  let skipped = 0
  const annotate = (path: string, line: number, message: string, column?: number): void => {
    const key = `${path}:${line}:${message}`
    if (seen.has(key)) return
    seen.add(key)
    if (seen.size > MAX_ANNOTATIONS) {
      skipped++
      return
    }
    const fromWorkspace = relative(workspace, join(root, path))
    ctx.log.annotate({
      message,
      file: fromWorkspace.startsWith('..') ? path : fromWorkspace,
      line,
      column
    })
  }
  return {
    failedPackages: tests.failedPackages,
    line(text) {
      const test = tests.line(text)
      for (const failure of test.done) {
        const path = packageDirectories(failure.importPath)
          .map(dir => posix.join(dir, failure.file))
          .find(candidate => existsSync(join(root, candidate)))
        if (path) annotate(path, failure.line, `${failure.test}: ${failure.message}`)
      }
      if (test.message) return
      const diagnostic = parseGoDiagnostic(text)
      if (diagnostic && existsSync(join(root, diagnostic.path))) {
        annotate(diagnostic.path, diagnostic.line, diagnostic.message, diagnostic.column)
      }
    },
    finish() {
      if (skipped > 0)
        ctx.log.warning(`${skipped} more Go messages were not annotated (at most ${MAX_ANNOTATIONS} are)`)
    }
  }
}

export const build: Stage<Prerequisites & BuildContainerImage & BuildWorkspace, object> = {
  name: 'build',
  async run(ctx, state) {
    const { config, log } = ctx
    const env = buildEnv(
      {
        fastBuild: isQuickMode(config.mode),
        verbosity: config.verbosity,
        platforms: state.platforms,
        sourceDateEpoch: state.sourceDateEpoch
      },
      ctx.env
    )
    const commands = buildCommands(state.plan, config.runTests)
    for (const argv of commands) {
      const command = argv.join(' ')
      log.info(`+++ running ${command}`)
      const tail: string[] = []
      const annotations = goAnnotations(ctx)
      const status = await state.engine.containers.run(
        {
          name: containerName(ctx, 'build'),
          image: state.buildImage.ref,
          cmd: argv,
          user: userSpec(state.buildUser),
          env,
          workingDir: REMOTE_ROOT,
          hostname: hostname(),
          labels: createLabels(ctx.owner, 'build'),
          mounts: state.workspace.mounts
        },
        line => {
          log.info(line)
          annotations.line(line)
          tail.push(line)
          if (tail.length > TAIL_LINES) tail.shift()
        }
      )
      annotations.finish()
      if (status.exitCode === 0) continue
      if (await state.engine.goneWithin(ENGINE_SHUTDOWN_GRACE_MS)) {
        throw new EngineLostError(
          `the Docker engine went away while running '${command}' (its container ended with exit code ${status.exitCode})`,
          { fix: 'Was dockerd stopped or restarted?' }
        )
      }
      throw commandFailed(command, status, tail, annotations.failedPackages)
    }
    return {}
  }
}
