// The GitHub Action's main and post phases.
import * as core from '@actions/core'
import { randomBytes } from 'node:crypto'
import { cancelOnSignal, exitAfterCleanup, removeRunLeftovers } from './cleanup.js'
import { GitHubArtifactStore } from './artifacts/github.js'
import { chooseCache } from './cache/select.js'
import type { ArtifactStore } from './artifacts/store.js'
import { loadConfig, type Config } from './config.js'
import { Input, VERBOSE_LEVEL, type RawInputs } from './inputs.js'
import type { Annotation, Logger } from './logger.js'
import { errorMessage } from './errors.js'
import { newRunId, runPipeline } from './run/pipeline.js'
import { summaryMarkdown, type Reporter } from './report/report.js'
import { readRunId, saveRunId } from './state-helper.js'
import { ACTION_VERSION } from './version.js'

/** Lines the runner would take as workflow commands (container output may contain anything). */
const COMMAND_LIKE = /^\s*(::|##\[)/

export class ActionLogger implements Logger {
  private readonly pauseToken = randomBytes(16).toString('hex')

  constructor(private readonly verbose = false) {}

  /** Output of the build is text, not commands: a line that looks like one is printed with commands paused. */
  info = (message: string): void => {
    if (!COMMAND_LIKE.test(message)) return core.info(message)
    core.info(`::stop-commands::${this.pauseToken}`)
    core.info(message)
    core.info(`::${this.pauseToken}::`)
  }
  warning = (message: string): void => core.warning(message)
  /** With `verbose`, debug lines show without the runner's step debug logging. */
  debug = (message: string): void => (this.verbose ? core.info(`debug: ${message}`) : core.debug(message))
  annotate = (a: Annotation): void =>
    core.error(a.message, { file: a.file, startLine: a.line, startColumn: a.column, title: 'Go' })
  mask = (secret: string): void => core.setSecret(secret)
  group = <T>(title: string, fn: () => Promise<T>): Promise<T> => core.group(title, fn)
}

const actionReporter: Reporter = {
  setOutput: (name, value) => core.setOutput(name, value),
  summary: async report => {
    if (!process.env.GITHUB_STEP_SUMMARY) return
    await core.summary.addRaw(summaryMarkdown(report)).write()
  }
}

function readInputs(): RawInputs {
  return Object.fromEntries(Object.values(Input).map(name => [name, core.getInput(name)]))
}

/** The results service when the step may upload; a warning when uploads were asked for but cannot be. */
function artifactStore(config: Config, log: Logger): ArtifactStore | null {
  // Matrix legs pass binaries as artifacts whatever `upload` says about the release.
  const needed = config.artifacts.upload || config.phase === 'build' || config.phase === 'package'
  if (!needed) return null
  if (GitHubArtifactStore.available(process.env)) return new GitHubArtifactStore(process.env)
  log.warning(
    'not uploading artifacts: this step has no access to the artifact service (not run by GitHub Actions?)'
  )
  return null
}

export async function runMain(): Promise<void> {
  try {
    const config = await loadConfig(readInputs(), process.env, process.env.GITHUB_WORKSPACE ?? process.cwd())
    const log = new ActionLogger(config.verbosity >= VERBOSE_LEVEL)
    log.info(`kube-release-action ${ACTION_VERSION}`)
    const runId = newRunId(process.env)
    saveRunId(runId)
    const signal = cancelOnSignal(runId, log)
    const artifacts = artifactStore(config, log)
    const cache = chooseCache(config.cache, process.env, log, true)
    await runPipeline(config, {
      log,
      reporter: actionReporter,
      env: process.env,
      runId,
      signal,
      artifacts,
      cache: cache.store,
      cacheArchiveDir: cache.archiveDir
    })
  } catch (err) {
    core.setFailed(errorMessage(err))
  }
  // Open engine sockets must not keep the step alive.
  await exitAfterCleanup(process.exitCode ?? 0)
}

/** Best effort: removes whatever a killed main step left; never fails the job. */
export async function runPost(): Promise<void> {
  const runId = readRunId()
  if (runId) {
    try {
      await removeRunLeftovers(runId, new ActionLogger())
    } catch (err) {
      core.warning(`post-run cleanup failed: ${errorMessage(err)}`)
    }
  }
  process.exit(0)
}
