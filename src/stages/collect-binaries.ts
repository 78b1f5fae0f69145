// The first stage of a matrix package job after prereqs: every build leg's binaries into
// _output/dockerized/bin, checked to hold every platform of the release before packaging, and each
// leg's stage timings for the summary.
import { chmod, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { ReleaseError, errorMessage } from '../errors.js'
import { missingBinaries } from '../kube/build-plan.js'
import { localBinDir } from '../kube/layout.js'
import { BINARIES_ARTIFACT_PREFIX, LEG_TIMELINES_DIR } from '../kube/matrix.js'
import type { LegTimeline } from '../report/report.js'
import type { RunContext } from '../run/context.js'
import type { Stage } from '../run/stage.js'
import { filesUnder, matrixArtifactStore } from '../run/stage-helpers.js'
import type { Binaries, LegTimelines, Prerequisites } from '../run/state.js'

const isLegTimeline = (value: unknown): value is LegTimeline => {
  const leg = value as Partial<LegTimeline> | null
  return (
    typeof leg?.startedAt === 'number' &&
    Array.isArray(leg.platforms) &&
    Array.isArray(leg.stages) &&
    leg.stages.every(
      s =>
        typeof s?.name === 'string' &&
        typeof s.startSeconds === 'number' &&
        typeof s.seconds === 'number' &&
        typeof s.ok === 'boolean'
    )
  )
}

/** The timings a leg put beside its binaries; none (with a warning) when they are missing or unreadable. */
async function legTimeline(ctx: RunContext, binDir: string, name: string): Promise<LegTimeline[]> {
  const file = join(binDir, LEG_TIMELINES_DIR, `${name}.json`)
  try {
    const parsed: unknown = JSON.parse(await readFile(file, 'utf8'))
    if (isLegTimeline(parsed)) return [parsed]
    ctx.log.warning(`${file} is not a leg's stage timings: the summary leaves ${name} out`)
  } catch (err) {
    ctx.log.warning(`no stage timings of ${name} (${errorMessage(err)}): the summary leaves it out`)
  }
  return []
}

/**
 * The legs by their first platform (each leg writes its own platforms sorted), whatever order the
 * artifact service lists them in.
 */
function inPlatformOrder(legs: readonly LegTimeline[]): LegTimeline[] {
  return [...legs].sort((a, b) => (a.platforms[0] ?? '').localeCompare(b.platforms[0] ?? ''))
}

export const collectBinaries: Stage<Prerequisites, Binaries & LegTimelines> = {
  name: 'binaries',
  async run(ctx, state) {
    const store = matrixArtifactStore(ctx)
    const binDir = localBinDir(ctx.config.tree.root)
    const names = await store.list(BINARIES_ARTIFACT_PREFIX)
    for (const name of names) {
      await store.download(name, binDir)
      ctx.log.info(`collected ${name}`)
    }
    // Artifacts do not keep file modes; every file here is an executable.
    for (const file of await filesUnder(binDir).catch(() => [] as string[])) await chmod(file, 0o755)
    const missing = await missingBinaries(state.plan, binDir)
    if (missing.length > 0) {
      const platforms = [...new Set(missing.map(m => m.split('/').slice(0, 2).join('/')))].sort()
      throw new ReleaseError(
        `the build legs did not deliver ${platforms.length} platform${platforms.length > 1 ? 's' : ''} of the release: ` +
          `${platforms.join(', ')} (found artifacts: ${names.join(', ') || 'none'})`,
        { fix: 'Every platform needs a leg with phase: build' }
      )
    }
    const legTimelines = (await Promise.all(names.map(name => legTimeline(ctx, binDir, name)))).flat()
    return { binDir, legTimelines: inPlatformOrder(legTimelines) }
  }
}
