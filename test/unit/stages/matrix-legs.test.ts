// A matrix leg's stage timings beside its binaries: each build leg writes them into its artifact, and
// the package job reads every leg's back for its summary, through a real (directory) artifact store.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { LocalArtifactStore } from '../../../src/artifacts/local.js'
import type { Config } from '../../../src/config.js'
import { planBuild } from '../../../src/kube/build-plan.js'
import { localBinDir } from '../../../src/kube/layout.js'
import { LEG_TIMELINES_DIR, binariesArtifactName } from '../../../src/kube/matrix.js'
import { binaryFileName, parseTargets } from '../../../src/kube/targets.js'
import type { RunTimeline } from '../../../src/report/report.js'
import type { RunContext } from '../../../src/run/context.js'
import type { Prerequisites } from '../../../src/run/state.js'
import { collectBinaries } from '../../../src/stages/collect-binaries.js'
import { uploadBinaries } from '../../../src/stages/upload-binaries.js'
import { recordingLog } from '../../helpers/fake-engine.js'

const TARGETS = parseTargets('kubectl')
const dirs: string[] = []
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true })
})
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'kube-release-legs-'))
  dirs.push(dir)
  return dir
}

function context(root: string, store: LocalArtifactStore, timeline: RunTimeline) {
  const recorded = recordingLog()
  const ctx = {
    config: { tree: { root }, phase: 'build', artifacts: { retentionDays: null } } as unknown as Config,
    log: recorded.log,
    artifacts: store,
    timeline
  } as unknown as RunContext
  return { ctx, ...recorded }
}

const prereqs = (platforms: string[]): Prerequisites =>
  ({ platforms, plan: planBuild(platforms, TARGETS) }) as unknown as Prerequisites

/** A build leg of `platforms` whose stages so far are `timeline`: binaries in its tree, then its upload. */
async function buildLeg(
  store: LocalArtifactStore,
  platforms: string[],
  timeline: RunTimeline
): Promise<void> {
  const root = await tempDir()
  const binDir = localBinDir(root)
  for (const platform of platforms) {
    await mkdir(join(binDir, platform), { recursive: true })
    await writeFile(join(binDir, platform, binaryFileName('kubectl', platform)), 'binary')
  }
  const { ctx } = context(root, store, timeline)
  await uploadBinaries.run(ctx, { ...prereqs(platforms), binDir })
}

const timeline = (startedAt: number, buildSeconds: number): RunTimeline => ({
  startedAt,
  stages: [
    { name: 'prereqs', startSeconds: 0, seconds: 1.5, ok: true },
    { name: 'build', startSeconds: 1.5, seconds: buildSeconds, ok: true },
    { name: 'output', startSeconds: 1.5 + buildSeconds, seconds: 0.2, ok: true }
  ]
})

/** GitHub's artifact service lists in an order of its own (the order of upload): here, the reverse of by name. */
class ReverseListingStore extends LocalArtifactStore {
  override async list(prefix: string): Promise<string[]> {
    return (await super.list(prefix)).reverse()
  }
}

describe('leg timelines', () => {
  it("a build leg puts its timings beside its binaries; the package job reads every leg's", async () => {
    const storeDir = await tempDir()
    const store = new ReverseListingStore(storeDir)
    const first = timeline(Date.UTC(2026, 11, 7, 23, 40), 300)
    const second = timeline(Date.UTC(2026, 11, 7, 23, 41), 120.25)
    // A leg's plan holds its platforms in upstream's order (linux/amd64 before linux/386), not sorted.
    await buildLeg(store, ['linux/386', 'linux/amd64'], first)
    await buildLeg(store, ['windows/amd64', 'darwin/arm64'], second)

    const { ctx, at } = context(await tempDir(), store, { startedAt: 0, stages: [] })
    const added = await collectBinaries.run(
      ctx,
      prereqs(['linux/amd64', 'linux/386', 'darwin/arm64', 'windows/amd64'])
    )
    // Each leg's platforms sorted, the legs by their first platform, whatever order they came in.
    expect(added.legTimelines).toEqual([
      { platforms: ['darwin/arm64', 'windows/amd64'], ...second },
      { platforms: ['linux/386', 'linux/amd64'], ...first }
    ])
    expect(at('warning')).toEqual([])
  })

  it('a leg without readable timings is left out with a warning; the binaries are still collected', async () => {
    const storeDir = await tempDir()
    const store = new LocalArtifactStore(storeDir)
    await buildLeg(store, ['linux/amd64'], timeline(Date.UTC(2026, 11, 7, 23, 40), 300))
    const name = binariesArtifactName(['linux/amd64'])
    await writeFile(join(storeDir, name, LEG_TIMELINES_DIR, `${name}.json`), '{"stages": "none"}')

    const root = await tempDir()
    const { ctx, at } = context(root, store, { startedAt: 0, stages: [] })
    const added = await collectBinaries.run(ctx, prereqs(['linux/amd64']))
    expect(added).toEqual({ binDir: localBinDir(root), legTimelines: [] })
    expect(at('warning')).toEqual([
      `${join(localBinDir(root), LEG_TIMELINES_DIR, `${name}.json`)} is not a leg's stage timings: the summary leaves ${name} out`
    ])
  })
})
