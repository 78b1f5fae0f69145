// The stages in order, each in its own log group with its duration; the run's containers are
// removed at the end whatever happens, and the summary is written before a failure is reported.
import { randomBytes } from 'node:crypto'
import { removeRunContainers } from './cleanup.js'
import type { ArtifactStore, UploadedArtifact } from './artifacts/store.js'
import { saveBuildCache } from './cache/build-cache.js'
import { saveDecision } from './cache/policy.js'
import type { CacheStore } from './cache/store.js'
import type { Config } from './config.js'
import type { Engine } from './docker/engine.js'
import { treeHash } from './kube/layout.js'
import type { Logger } from './logger.js'
import { Output, type CacheReport, type Reporter, type RunReport, type StageTiming } from './report/report.js'
import { build } from './stages/build.js'
import type { RunContext } from './stages/context.js'
import { image, saveKubeCross, type BuildImage } from './stages/image.js'
import { output } from './stages/output.js'
import { packageTarballs, type Packages } from './stages/package.js'
import { prereqs, type Prereqs } from './stages/prereqs.js'
import { downloadBinaries, uploadBinaries } from './stages/binaries.js'
import { planLegs } from './stages/plan.js'
import { publish } from './stages/publish.js'
import { workspace, type Workspace } from './stages/workspace.js'

export interface PipelineDeps {
  readonly log: Logger
  readonly reporter: Reporter
  readonly env: NodeJS.ProcessEnv
  readonly runId: string
  /** Aborted on cancel: stages start nothing new on the engine. */
  readonly signal: AbortSignal
  /** Where the release is uploaded; null: nowhere. */
  readonly artifacts: ArtifactStore | null
  /** Where caches are kept; null: caching is off. */
  readonly cache: CacheStore | null
  /** A stable directory for cache archives. */
  readonly cacheFiles: string
}

/** A run id unique on the engine; GitHub's run id and attempt make it readable in labels. */
export function newRunId(env: NodeJS.ProcessEnv): string {
  const random = randomBytes(4).toString('hex')
  return env.GITHUB_RUN_ID ? `${env.GITHUB_RUN_ID}-${env.GITHUB_RUN_ATTEMPT ?? '1'}-${random}` : random
}

function describeTargets(config: Config): string {
  return config.targets === null ? 'everything make cross builds' : config.targets.map(t => t.path).join(', ')
}

export async function runPipeline(config: Config, deps: PipelineDeps): Promise<RunReport> {
  const { log, reporter } = deps
  const ctx: RunContext = {
    config,
    log,
    env: deps.env,
    signal: deps.signal,
    cache: deps.cache,
    cacheFiles: deps.cacheFiles,
    owner: { runId: deps.runId, treeHash: treeHash(config.tree.root) }
  }
  const stages: StageTiming[] = []
  const stage = <T>(name: string, fn: () => Promise<T> | T): Promise<T> =>
    log.group(name, async () => {
      const started = performance.now()
      const record = (ok: boolean): number => {
        const seconds = (performance.now() - started) / 1000
        stages.push({ name, seconds, ok })
        return seconds
      }
      try {
        const result = await fn()
        log.info(`${name} done in ${record(true).toFixed(1)} s`)
        return result
      } catch (err) {
        log.info(`${name} failed after ${record(false).toFixed(1)} s`)
        throw err
      }
    })

  let engine: Engine | undefined
  let found: Prereqs | undefined
  let packages: Packages | undefined
  let artifacts: UploadedArtifact[] = []
  let failure: unknown
  let img: BuildImage | undefined
  let ws: Workspace | undefined
  const caches: CacheReport = { image: null, build: null }
  /** Saves the caches as the policy says; never on cancel, which must leave no partial entry. */
  const saveCaches = async (succeeded: boolean): Promise<void> => {
    if (!ctx.cache || !found || !img || deps.signal.aborted) return
    const decision = saveDecision(config.cache.save, succeeded, ctx.env)
    if (!decision.save) return log.info(`caches not saved: ${decision.reason}`)
    const [p, i, w] = [found, img, ws]
    await stage('cache', async () => {
      await saveKubeCross(ctx, p, i)
      if (w?.buildCache) await saveBuildCache(w.buildCache.context, w.buildCache.use, w.buildCache.key)
    })
  }
  /** The report and summary of whatever ran; throws the run's failure after the summary is written. */
  const finish = async (): Promise<RunReport> => {
    const report: RunReport = {
      mode: config.mode,
      workspace: config.workspace,
      version: found?.version.version ?? null,
      platforms: found?.platforms ?? [],
      targets: describeTargets(config),
      stages,
      tarballs: packages?.tarballs ?? [],
      releaseDir: packages?.dir ?? null,
      artifacts,
      caches: ctx.cache ? caches : null,
      error: failure === undefined ? null : (failure as Error).message
    }
    await reporter
      .summary(report)
      .catch(err => log.warning(`writing the summary failed: ${(err as Error).message}`))
    if (failure !== undefined) throw failure
    return report
  }
  try {
    if (config.phase === 'plan') {
      await stage('plan', () => planLegs(config, reporter, log))
      return await finish()
    }
    found = await stage('prereqs', () => prereqs(ctx))
    const p = found
    engine = p.engine
    if (config.phase === 'package') {
      const out = await stage('binaries', () => downloadBinaries(ctx, p, deps.artifacts))
      const pkgs = await stage('package', () => packageTarballs(ctx, p, out))
      packages = pkgs
      artifacts = await stage('publish', () => publish(ctx, p, pkgs, reporter, deps.artifacts))
      return await finish()
    }
    img = await stage('image', () => image(ctx, p))
    const i = img
    caches.image = i.kubeCrossSource.from === 'cache' ? i.kubeCrossSource.key : null
    reporter.setOutput(Output.imageCacheHit, String(caches.image !== null))
    if (caches.image) reporter.setOutput(Output.imageCacheKey, caches.image)
    ws = await stage('workspace', () => workspace(ctx, p, i))
    caches.build = ws.buildCache?.use.restoredKey ?? null
    reporter.setOutput(Output.buildCacheHit, String(caches.build !== null))
    if (caches.build) reporter.setOutput(Output.buildCacheKey, caches.build)
    const w = ws
    await stage('build', () => build(ctx, p, i, w))
    const out = await stage('output', () => output(ctx, p, i, w))
    if (config.phase === 'build') {
      artifacts = [await stage('publish', () => uploadBinaries(ctx, p, out, deps.artifacts))]
      await saveCaches(true)
      return await finish()
    }
    const pkgs = await stage('package', () => packageTarballs(ctx, p, out))
    packages = pkgs
    artifacts = await stage('publish', () => publish(ctx, p, pkgs, reporter, deps.artifacts))
    await saveCaches(true)
  } catch (err) {
    failure = err
    await saveCaches(false).catch(cacheErr =>
      log.warning(`saving the caches failed: ${(cacheErr as Error).message}`)
    )
  } finally {
    if (engine) {
      await removeRunContainers(deps.runId, log, engine).catch(err =>
        log.warning(`removing the run's containers failed: ${(err as Error).message}`)
      )
    }
  }
  return finish()
}
