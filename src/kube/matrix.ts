// Splitting a release across a GitHub Actions matrix: platforms into legs of about equal work.
import { planBuild } from './build-plan.js'
import type { Target } from './targets.js'

/**
 * Legs of platforms balanced by cost (the number of binaries built for each platform: a server
 * platform builds about three times what a darwin one does), largest first onto the lightest leg.
 */
export function planMatrix(
  platforms: readonly string[],
  targets: readonly Target[] | null,
  legs: number
): string[][] {
  const built = planBuild(platforms, targets).built
  const cost = (platform: string): number => new Set([...(built.get(platform)?.values() ?? [])].flat()).size
  const buckets = Array.from({ length: Math.min(legs, built.size) }, () => ({
    platforms: [] as string[],
    cost: 0
  }))
  for (const platform of [...built.keys()].sort((a, b) => cost(b) - cost(a) || a.localeCompare(b))) {
    const lightest = buckets.reduce((min, b) => (b.cost < min.cost ? b : min))
    lightest.platforms.push(platform)
    lightest.cost += cost(platform)
  }
  return buckets.map(b => b.platforms.sort())
}

/** The artifact name of one leg's binaries: the same in the leg that uploads and the job that collects. */
export const BINARIES_ARTIFACT_PREFIX = 'kube-release-bin-'
export function binariesArtifactName(platforms: readonly string[]): string {
  return `${BINARIES_ARTIFACT_PREFIX}${[...platforms]
    .sort()
    .map(p => p.replace('/', '-'))
    .join('_')}`
}

/**
 * Where a leg's stage timings go beside its binaries (`<dir>/<artifact name>.json` under the bin
 * directory), so the package job's summary can show every leg's stages.
 */
export const LEG_TIMELINES_DIR = 'leg-timelines'
