// The stages in order, each in its own log group with its duration; the run's containers are
// removed at the end whatever happens, and the summary is written before a failure is reported.
import { randomBytes } from 'node:crypto'
import { removeRunContainers } from './cleanup.js'
import type { ArtifactStore, UploadedArtifact } from './artifacts/store.js'
import type { Config } from './config.js'
import type { Engine } from './docker/engine.js'
import { treeHash } from './kube/layout.js'
import type { Logger } from './logger.js'
import type { Reporter, RunReport, StageTiming } from './report/report.js'
import { build } from './stages/build.js'
import type { RunContext } from './stages/context.js'
import { image } from './stages/image.js'
import { output } from './stages/output.js'
import { packageTarballs, type Packages } from './stages/package.js'
import { prereqs, type Prereqs } from './stages/prereqs.js'
import { publish } from './stages/publish.js'
import { workspace } from './stages/workspace.js'

export interface PipelineDeps {
  readonly log: Logger
  readonly reporter: Reporter
  readonly env: NodeJS.ProcessEnv
  readonly runId: string
  /** Aborted on cancel: stages start nothing new on the engine. */
  readonly signal: AbortSignal
  /** Where the release is uploaded; null: nowhere. */
  readonly artifacts: ArtifactStore | null
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
  try {
    found = await stage('prereqs', () => prereqs(ctx))
    const p = found
    engine = p.engine
    const img = await stage('image', () => image(ctx, p))
    const ws = await stage('workspace', () => workspace(ctx, p, img))
    await stage('build', () => build(ctx, p, img, ws))
    const out = await stage('output', () => output(ctx, p, img, ws))
    const pkgs = await stage('package', () => packageTarballs(ctx, p, out))
    packages = pkgs
    artifacts = await stage('publish', () => publish(ctx, p, pkgs, reporter, deps.artifacts))
  } catch (err) {
    failure = err
  } finally {
    if (engine) {
      await removeRunContainers(deps.runId, log, engine).catch(err =>
        log.warning(`removing the run's containers failed: ${(err as Error).message}`)
      )
    }
  }
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
    error: failure === undefined ? null : (failure as Error).message
  }
  await reporter
    .summary(report)
    .catch(err => log.warning(`writing the summary failed: ${(err as Error).message}`))
  if (failure !== undefined) throw failure
  return report
}
