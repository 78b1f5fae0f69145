// The runner, with fake stages and a fake engine: stages in order on a state that grows, closing
// stages after success or failure but never after a cancel, the run's containers removed whatever
// happened, and the summary written before a failure is rethrown.
import { afterEach, describe, expect, it, vi } from 'vitest'
import type { Config } from '../../../src/config.js'
import type { Engine } from '../../../src/docker/engine.js'
import { Label } from '../../../src/docker/labels.js'
import { CancelledError, ReleaseError } from '../../../src/errors.js'
import type { Logger } from '../../../src/logger.js'
import type { Reporter, RunReport, StageTiming } from '../../../src/report/report.js'
import { runPipeline, type PipelineDeps } from '../../../src/run/pipeline.js'
import type { AnyStage, ClosingStage, Outcome } from '../../../src/run/stage.js'
import type { RunState } from '../../../src/run/state.js'
import { fakeContainerClient, leftContainers, recordingLog, systemError } from '../../helpers/fake-engine.js'

const RUN_ID = '9876543210-1-0badc0de'
const CONFIG = {
  mode: 'quick-release',
  workspace: 'volume',
  targets: null,
  phase: 'all',
  tree: { root: '/home/runner/work/kubernetes' }
} as unknown as Config

function harness(cancel: AbortSignal = new AbortController().signal) {
  const recorded = recordingLog()
  const summaries: RunReport[] = []
  const reporter: Reporter = { setOutput: () => {}, summary: async report => void summaries.push(report) }
  const deps: PipelineDeps = {
    log: recorded.log,
    reporter,
    env: {},
    runId: RUN_ID,
    signal: cancel,
    artifacts: null,
    cache: null,
    cacheArchiveDir: '/tmp/kube-release-cache'
  }
  return { deps, summaries, ...recorded }
}

/** A stage that keeps a copy of the state it is handed in `seen` and adds `adds`. */
function stage(name: string, adds: object, seen: Record<string, RunState> = {}): AnyStage {
  return {
    name,
    run: async (_ctx, state: RunState) => {
      seen[name] = { ...state }
      return adds
    }
  }
}

function failing(name: string, err: Error): AnyStage {
  return {
    name,
    run: async () => {
      throw err
    }
  }
}

function closing(decision: { run: boolean; log?: string } = { run: true }) {
  const decide = vi.fn((_ctx: unknown, _state: RunState, _outcome: Outcome) => decision)
  const run = vi.fn(async (_ctx: unknown, _state: RunState, _outcome: Outcome): Promise<RunState> => ({}))
  const stage: ClosingStage = { name: 'cache', decide, run }
  return { stage, decide, run }
}

/** An engine in the state, whose run has two containers left beside one of another run and one not ours. */
function fakeEngine(log: Logger, cancel?: AbortSignal) {
  const run = (runId: string) => ({ [Label.managed]: 'true', [Label.run]: runId, [Label.role]: 'build' })
  const left = leftContainers([
    { Id: 'build-container', Labels: run(RUN_ID) },
    { Id: 'rsync-container', Labels: { ...run(RUN_ID), [Label.role]: 'rsync' } },
    { Id: 'other-run', Labels: run('1111111111-1-00000000') },
    { Id: 'not-ours', Labels: { [Label.run]: RUN_ID } }
  ])
  const engine = { containers: fakeContainerClient(left.docker, log, cancel) } as unknown as Engine
  return { engine, ...left }
}

describe('runPipeline', () => {
  it('runs the stages in order, each on what the earlier ones added', async () => {
    const { deps, summaries } = harness()
    const seen: Record<string, RunState> = {}
    const version = { version: 'v1.31.0' }
    const report = await runPipeline(CONFIG, deps, {
      stages: [
        stage('prereqs', { platforms: ['linux/amd64'] }, seen),
        stage('image', { version }, seen),
        stage('package', {}, seen)
      ],
      closing: []
    })
    expect(seen).toEqual({
      prereqs: {},
      image: { platforms: ['linux/amd64'] },
      package: { platforms: ['linux/amd64'], version }
    })
    expect(report.stages.map(s => [s.name, s.ok])).toEqual([
      ['prereqs', true],
      ['image', true],
      ['package', true]
    ])
    expect(report).toMatchObject({ version: 'v1.31.0', platforms: ['linux/amd64'], error: null })
    expect(summaries).toEqual([report])
  })

  it('stops at a failing stage, runs the closing stage on what there is, writes the summary, rethrows', async () => {
    const { deps, summaries } = harness()
    const seen: Record<string, RunState> = {}
    const failure = new ReleaseError('make cross exited with 2')
    const cache = closing()
    const run = runPipeline(CONFIG, deps, {
      stages: [
        stage('prereqs', { platforms: ['linux/arm64'] }),
        failing('build', failure),
        stage('output', {}, seen)
      ],
      closing: [cache.stage]
    })
    await expect(run).rejects.toBe(failure)
    expect(seen).toEqual({})
    expect(cache.run).toHaveBeenCalledTimes(1)
    expect(cache.run.mock.calls[0][1]).toEqual({ platforms: ['linux/arm64'] })
    expect(cache.run.mock.calls[0][2]).toEqual({ succeeded: false })
    expect(summaries).toHaveLength(1)
    expect(summaries[0].error).toBe('make cross exited with 2')
    expect(summaries[0].stages.map(s => [s.name, s.ok])).toEqual([
      ['prereqs', true],
      ['build', false],
      ['cache', true]
    ])
  })

  it('hands the closing stage a success, and logs its decision', async () => {
    const { deps, at } = harness()
    const cache = closing({ run: true, log: 'saving caches: the run succeeded' })
    await runPipeline(CONFIG, deps, { stages: [stage('prereqs', {})], closing: [cache.stage] })
    expect(cache.decide.mock.calls[0][2]).toEqual({ succeeded: true })
    expect(cache.run.mock.calls[0][2]).toEqual({ succeeded: true })
    expect(at('info')).toContain('saving caches: the run succeeded')
  })

  it("puts what a closing stage adds (the cache's room) in the summary", async () => {
    const { deps, summaries } = harness()
    const cache = closing()
    const cacheRoom = { bytes: 6 * 1024 ** 3, quotaBytes: 10 * 1024 ** 3, warning: 'caches: about 6.0 GiB' }
    cache.run.mockResolvedValueOnce({ cacheRoom })
    await runPipeline(CONFIG, deps, { stages: [stage('prereqs', {})], closing: [cache.stage] })
    expect(summaries[0].cacheRoom).toEqual(cacheRoom)
  })

  it('skips a closing stage that decides not to run, with the line it gives', async () => {
    const { deps, at } = harness()
    const cache = closing({ run: false, log: 'caches not saved: the run failed' })
    const report = await runPipeline(CONFIG, deps, { stages: [stage('prereqs', {})], closing: [cache.stage] })
    expect(cache.decide).toHaveBeenCalledTimes(1)
    expect(cache.run).not.toHaveBeenCalled()
    expect(at('info')).toContain('caches not saved: the run failed')
    expect(report.stages.map(s => s.name)).toEqual(['prereqs'])
  })

  it('takes a failing closing stage for a warning, not a failed run', async () => {
    const { deps, at } = harness()
    const cache = closing()
    cache.run.mockRejectedValueOnce(new Error('the cache service answered 503'))
    const report = await runPipeline(CONFIG, deps, { stages: [stage('prereqs', {})], closing: [cache.stage] })
    expect(report.error).toBeNull()
    expect(at('warning')).toEqual(['cache failed: the cache service answered 503'])
    expect(report.stages.map(s => [s.name, s.ok])).toEqual([
      ['prereqs', true],
      ['cache', false]
    ])
  })

  it('runs no closing stage after a cancel, yet removes the containers and writes the summary', async () => {
    const cancel = new AbortController()
    const { deps, summaries, log } = harness(cancel.signal)
    const engine = fakeEngine(log, cancel.signal)
    const cancelled = new CancelledError('cancelled while running container kube-build')
    const cache = closing()
    const run = runPipeline(CONFIG, deps, {
      stages: [
        stage('prereqs', { engine: engine.engine }),
        {
          name: 'build',
          run: async () => {
            cancel.abort()
            throw cancelled
          }
        }
      ],
      closing: [cache.stage]
    })
    await expect(run).rejects.toBe(cancelled)
    expect(cache.decide).not.toHaveBeenCalled()
    expect(cache.run).not.toHaveBeenCalled()
    expect(engine.removed.sort()).toEqual(['build-container', 'rsync-container'])
    expect(summaries.map(s => s.error)).toEqual([cancelled.message])
  })

  it.each([
    ['succeeded', [] as AnyStage[], 'fulfilled'],
    ['failed', [failing('build', new ReleaseError('make cross exited with 2'))], 'rejected']
  ])(
    "removes the run's containers through the engine in the state when the stages %s",
    async (_, rest, status) => {
      const { deps, log, at } = harness()
      const engine = fakeEngine(log)
      const [settled] = await Promise.allSettled([
        runPipeline(CONFIG, deps, {
          stages: [stage('prereqs', { engine: engine.engine }), ...rest],
          closing: []
        })
      ])
      expect(settled.status).toBe(status)
      expect(engine.filters()).toHaveLength(1)
      // Whatever the engine's filter returned, only containers with both labels of this run go.
      expect(engine.removed.sort()).toEqual(['build-container', 'rsync-container'])
      expect(at('info')).toContain(`removed 2 containers of run ${RUN_ID}`)
    }
  )

  it('removes nothing, and warns of nothing, when no stage added an engine', async () => {
    const { deps, at, summaries } = harness()
    const failure = new ReleaseError('cannot reach the Docker engine')
    await expect(
      runPipeline(CONFIG, deps, { stages: [failing('prereqs', failure)], closing: [] })
    ).rejects.toBe(failure)
    expect(at('warning')).toEqual([])
    expect(summaries.map(s => s.error)).toEqual(['cannot reach the Docker engine'])
  })

  it('warns when removing the containers fails, and the stage failure still wins', async () => {
    const { deps, log, at, summaries } = harness()
    const engine = fakeEngine(log)
    engine.docker.listContainers.mockRejectedValueOnce(systemError('ECONNREFUSED'))
    const failure = new ReleaseError('make cross exited with 2')
    const run = runPipeline(CONFIG, deps, {
      stages: [stage('prereqs', { engine: engine.engine }), failing('build', failure)],
      closing: []
    })
    await expect(run).rejects.toBe(failure)
    expect(at('warning')).toEqual([
      "removing the run's containers failed: lost the Docker engine while listing containers: connect ECONNREFUSED /var/run/docker.sock. Was dockerd stopped or restarted?"
    ])
    expect(summaries.map(s => s.error)).toEqual(['make cross exited with 2'])
  })
})

describe('runPipeline: the timeline and the caches for the summary', () => {
  /** performance.now and Date.now on a clock that only the stages move. */
  function clock(startedAt: number) {
    let now = 5000
    vi.spyOn(performance, 'now').mockImplementation(() => now)
    vi.spyOn(Date, 'now').mockImplementation(() => startedAt)
    return { advance: (ms: number) => void (now += ms) }
  }
  afterEach(() => vi.restoreAllMocks())

  /** A stage that takes `ms` on the clock; it keeps the timeline it is handed in `seen`. */
  const taking = (
    name: string,
    ms: number,
    advance: (ms: number) => void,
    seen: Record<string, readonly StageTiming[]> = {}
  ): AnyStage => ({
    name,
    run: async ctx => {
      seen[name] = [...ctx.timeline.stages]
      advance(ms)
      return {}
    }
  })

  it("gives each stage its start offset from the run's start, closing stages too", async () => {
    const startedAt = Date.UTC(2026, 11, 7, 23, 50)
    const { advance } = clock(startedAt)
    const { deps, summaries } = harness()
    const cache = closing()
    cache.run.mockImplementationOnce(async () => {
      advance(300)
      return {}
    })
    const seen: Record<string, readonly StageTiming[]> = {}
    await runPipeline(CONFIG, deps, {
      stages: [
        taking('prereqs', 1000, advance),
        taking('image', 2500, advance),
        taking('publish', 40, advance, seen)
      ],
      closing: [cache.stage]
    })
    const [report] = summaries
    expect(report.startedAt).toBe(startedAt)
    expect(report.stages).toEqual([
      { name: 'prereqs', startSeconds: 0, seconds: 1, ok: true },
      { name: 'image', startSeconds: 1, seconds: 2.5, ok: true },
      { name: 'publish', startSeconds: 3.5, seconds: 0.04, ok: true },
      { name: 'cache', startSeconds: 3.54, seconds: 0.3, ok: true }
    ])
    // A stage sees the stages before it: what a matrix leg hands the package job.
    expect(seen.publish).toEqual(report.stages.slice(0, 2))
  })

  it('reports what each cache restored and saved, with sizes and times', async () => {
    const { deps, summaries } = harness()
    const store = { description: 'a test store', quotaBytes: 10 * 1024 ** 3, restore: vi.fn(), save: vi.fn() }
    const restoredImage = { key: 'kube-release-image-v1-x', bytes: 2e9, seconds: 41 }
    const use = { key: 'build-2', restoredKey: 'build-1', restoredBytes: 8e8, restoreSeconds: 12 }
    const cache = closing()
    const cacheSaves = { image: null, build: { bytes: 9e7, seconds: 5 } }
    cache.run.mockResolvedValueOnce({ cacheSaves })
    await runPipeline(
      CONFIG,
      { ...deps, cache: store },
      {
        stages: [
          stage('image', { buildImage: { kubeCrossSource: { from: 'cache', ...restoredImage } } }),
          stage('workspace', { workspace: { buildCache: { use } } })
        ],
        closing: [cache.stage]
      }
    )
    expect(summaries[0].caches).toEqual({
      image: { restored: restoredImage, saved: null },
      build: { restored: { key: 'build-1', bytes: 8e8, seconds: 12 }, saved: cacheSaves.build }
    })
  })
})
