// What the build container runs and what it will produce, computed on the host so that packaging
// reads exactly this run's binaries (never stale platform directories of earlier builds).
import { access } from 'node:fs/promises'
import { join } from 'node:path'
import { InputError } from '../errors.js'
import { intersect } from './platforms.js'
import { TARGET_GROUPS, binaryFileName, type Target, type TargetGroupName } from './targets.js'

/** What KUBE_RELEASE_RUN_TESTS runs after the build, in the build container. */
export const TEST_COMMANDS: readonly (readonly string[])[] = [
  ['make', 'test'],
  ['make', 'test-integration']
]

/** Every command the build stage runs, in order: the plan's, then the tests when they are on. */
export function buildCommands(plan: BuildPlan, runTests: boolean): (readonly string[])[] {
  return [...plan.commands, ...(runTests ? TEST_COMMANDS : [])]
}

export interface BuildPlan {
  /** KUBE_BUILD_PLATFORMS for the container: the selected platforms. */
  readonly platforms: readonly string[]
  /** One argv per build container, run in order. */
  readonly commands: readonly (readonly string[])[]
  /** For each platform, the target groups built there and the binaries of each. */
  readonly built: ReadonlyMap<string, ReadonlyMap<TargetGroupName, readonly string[]>>
}

/**
 * Everything (targets null) is `make cross`, which intersects KUBE_BUILD_PLATFORMS with each
 * group's platforms. A target subset becomes `make all` calls, one per distinct platform set, so a
 * target shared by two groups (kube-proxy, ginkgo) compiles once per platform.
 */
export function planBuild(platforms: readonly string[], targets: readonly Target[] | null): BuildPlan {
  const built = new Map<string, Map<TargetGroupName, string[]>>()
  const platformsOfTarget = new Map<Target, Set<string>>()
  for (const group of TARGET_GROUPS) {
    const groupTargets = group.targets.filter(x => targets === null || targets.includes(x))
    const groupPlatforms = intersect(platforms, group.platforms)
    if (groupTargets.length === 0) continue
    for (const platform of groupPlatforms) {
      const groups = built.get(platform) ?? new Map<TargetGroupName, string[]>()
      groups.set(
        group.name,
        groupTargets.map(x => x.binary)
      )
      built.set(platform, groups)
    }
    for (const target of groupTargets) {
      const set = platformsOfTarget.get(target) ?? new Set<string>()
      groupPlatforms.forEach(p => set.add(p))
      platformsOfTarget.set(target, set)
    }
  }
  if (built.size === 0) {
    throw new InputError(
      `nothing to build: none of the targets is built for ${platforms.join(', ')} ` +
        `(server and node targets are linux-only, node also windows/amd64)`
    )
  }
  return {
    platforms,
    commands: targets === null ? [['make', 'cross']] : makeAllCommands(platformsOfTarget),
    built
  }
}

function makeAllCommands(platformsOfTarget: Map<Target, Set<string>>): string[][] {
  const byPlatformSet = new Map<string, Target[]>()
  for (const [target, set] of platformsOfTarget) {
    if (set.size === 0) continue
    const key = [...set].join(' ')
    byPlatformSet.set(key, [...(byPlatformSet.get(key) ?? []), target])
  }
  return [...byPlatformSet].map(([platformList, targets]) => [
    'make',
    'all',
    `WHAT=${targets.map(x => x.path).join(' ')}`,
    `KUBE_BUILD_PLATFORMS=${platformList}`
  ])
}

/** The binaries of the plan not found under `binDir` (_output/dockerized/bin), as `<os>/<arch>/<file>`. */
export async function missingBinaries(plan: BuildPlan, binDir: string): Promise<string[]> {
  const missing: string[] = []
  for (const [platform, groups] of plan.built) {
    for (const binary of new Set([...groups.values()].flat())) {
      const file = binaryFileName(binary, platform)
      const present = await access(join(binDir, platform, file)).then(
        () => true,
        () => false
      )
      if (!present) missing.push(`${platform}/${file}`)
    }
  }
  return missing
}
