// The runner: walks a phase's stages, each in its own log group with its duration, merging what each
// adds into the run state; then the closing stages; then removes the run's containers whatever
// happened, and writes the summary before a failure is reported.
import { randomBytes } from 'node:crypto'
import type { ArtifactStore } from '../artifacts/store.js'
import type { CacheStore } from '../cache/store.js'
import type { Config } from '../config.js'
import { removeRunContainers } from '../docker/engine.js'
import { errorMessage } from '../errors.js'
import { treeHash } from '../kube/layout.js'
import type { Logger } from '../logger.js'
import type { CacheReport, Reporter, RunReport, StageTiming } from '../report/report.js'
import type { RunContext } from './context.js'
import { runStages } from './phases.js'
import type { PhaseStages } from './stage.js'
import type { RunState } from './state.js'

export interface PipelineDeps {
  readonly log: Logger
  readonly reporter: Reporter
  readonly env: NodeJS.ProcessEnv
  readonly runId: string
  /** Aborted on cancel: requests under way end and stages start nothing new on the engine. */
  readonly signal: AbortSignal
  /** Where the release is uploaded; null: nowhere. */
  readonly artifacts: ArtifactStore | null
  /** Where caches are kept; null: caching is off. */
  readonly cache: CacheStore | null
  /** A stable directory for cache archives. */
  readonly cacheArchiveDir: string
}

/** A run id unique on the engine; GitHub's run id and attempt make it readable in labels. */
export function newRunId(env: NodeJS.ProcessEnv): string {
  const random = randomBytes(4).toString('hex')
  return env.GITHUB_RUN_ID ? `${env.GITHUB_RUN_ID}-${env.GITHUB_RUN_ATTEMPT ?? '1'}-${random}` : random
}

function cacheReport(state: RunState): CacheReport {
  const source = state.buildImage?.kubeCrossSource
  const use = state.workspace?.buildCache?.use
  return {
    image: {
      restored:
        source?.from === 'cache' ? { key: source.key, bytes: source.bytes, seconds: source.seconds } : null,
      saved: state.cacheSaves?.image ?? null
    },
    build: {
      restored: use?.restoredKey
        ? { key: use.restoredKey, bytes: use.restoredBytes, seconds: use.restoreSeconds }
        : null,
      saved: state.cacheSaves?.build ?? null
    }
  }
}

function runReport(ctx: RunContext, state: RunState, failure: unknown): RunReport {
  const { config } = ctx
  return {
    mode: config.mode,
    workspace: config.workspace,
    version: state.version?.version ?? null,
    platforms: state.platforms ?? [],
    targets:
      config.targets === null ? 'everything make cross builds' : config.targets.map(t => t.path).join(', '),
    stages: ctx.timeline.stages,
    tarballs: state.release?.tarballs ?? [],
    releaseDir: state.release?.dir ?? null,
    images: (state.imageArchives ?? []).map(({ path, tags }) => ({ path, tags })),
    artifacts: state.artifacts ?? [],
    caches: ctx.cache ? cacheReport(state) : null,
    traffic: { ...ctx.traffic },
    startedAt: ctx.timeline.startedAt,
    legs: state.legTimelines ?? [],
    cacheRoom: state.cacheRoom ?? null,
    error: failure === undefined ? null : errorMessage(failure)
  }
}

export async function runPipeline(
  config: Config,
  deps: PipelineDeps,
  phase: PhaseStages = runStages(config)
): Promise<RunReport> {
  const { log } = deps
  const timings: StageTiming[] = []
  const ctx: RunContext = {
    config,
    log,
    reporter: deps.reporter,
    env: deps.env,
    signal: deps.signal,
    cache: deps.cache,
    cacheArchiveDir: deps.cacheArchiveDir,
    artifacts: deps.artifacts,
    owner: { runId: deps.runId, treeHash: treeHash(config.tree.root) },
    traffic: { intoContainers: 0, outOfContainers: 0 },
    timeline: { startedAt: Date.now(), stages: timings }
  }
  // Offsets on the monotonic clock, from one origin: the wall clock may be stepped during a run.
  const origin = performance.now()
  const timed = (name: string, work: () => Promise<unknown>): Promise<unknown> =>
    log.group(name, async () => {
      const started = performance.now()
      const record = (ok: boolean): string => {
        const seconds = (performance.now() - started) / 1000
        timings.push({ name, startSeconds: (started - origin) / 1000, seconds, ok })
        return seconds.toFixed(1)
      }
      try {
        const result = await work()
        log.info(`${name} done in ${record(true)} s`)
        return result
      } catch (err) {
        log.info(`${name} failed after ${record(false)} s`)
        throw err
      }
    })

  const state: RunState = {}
  let failure: unknown
  try {
    for (const stage of phase.stages)
      Object.assign(state, await timed(stage.name, () => stage.run(ctx, state as never)))
  } catch (err) {
    failure = err
  }
  // A cancelled run must leave no partial cache entry behind: closing stages do not run then.
  const outcome = { succeeded: failure === undefined }
  for (const closing of ctx.signal.aborted ? [] : phase.closing) {
    const decision = closing.decide(ctx, state, outcome)
    if (decision.log) log.info(decision.log)
    if (!decision.run) continue
    const adds = await timed(closing.name, () => closing.run(ctx, state, outcome)).catch(err => {
      log.warning(`${closing.name} failed: ${errorMessage(err)}`)
      return {}
    })
    Object.assign(state, adds)
  }
  if (state.engine) {
    await removeRunContainers(state.engine, deps.runId, log).catch(err =>
      log.warning(`removing the run's containers failed: ${errorMessage(err)}`)
    )
  }
  const report = runReport(ctx, state, failure)
  await deps.reporter
    .summary(report)
    .catch(err => log.warning(`writing the summary failed: ${errorMessage(err)}`))
  if (failure !== undefined) throw failure
  return report
}
