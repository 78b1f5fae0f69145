// What the build container runs and what it will produce, computed on the host so that packaging
// reads exactly this run's binaries (never stale platform directories of earlier builds).
import { access } from 'node:fs/promises'
import { join } from 'node:path'
import { InputError } from '../errors.js'
import { SERVER_PLATFORMS, intersect, unique } from './platforms.js'
import {
  CONFORMANCE_IMAGE_TARGETS,
  SERVER_IMAGE_TARGETS,
  TARGET_GROUPS,
  WINDOWS_IMAGE_PLATFORM,
  WINDOWS_IMAGE_TARGET,
  binaryFileName,
  type Target,
  type BuiltGroupName
} from './targets.js'

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
  readonly built: ReadonlyMap<string, ReadonlyMap<BuiltGroupName, readonly string[]>>
}

/** The images beyond the five server images, which need binaries of their own. */
export interface ImageNeeds {
  readonly conformance: boolean
  readonly windowsKubeProxy: boolean
}

const NO_IMAGES: ImageNeeds = { conformance: false, windowsKubeProxy: false }

/** What the conformance and windows images need, by platform. */
function imageTargets(platforms: readonly string[], needs: ImageNeeds): Map<string, readonly Target[]> {
  const byPlatform = new Map<string, readonly Target[]>()
  if (needs.conformance) {
    for (const platform of intersect(platforms, SERVER_PLATFORMS))
      byPlatform.set(platform, CONFORMANCE_IMAGE_TARGETS)
  }
  if (needs.windowsKubeProxy) byPlatform.set(WINDOWS_IMAGE_PLATFORM, [WINDOWS_IMAGE_TARGET])
  return byPlatform
}

/**
 * Everything (targets null) is `make cross`, which intersects KUBE_BUILD_PLATFORMS with each
 * group's platforms. A target subset becomes `make all` calls, one per distinct platform set, so a
 * target shared by two groups (kube-proxy, ginkgo) compiles once per platform. The binaries an image
 * needs that neither builds go in the group `images`, built by `make all` as build/release-images.sh
 * builds the windows kube-proxy.
 */
export function planBuild(
  platforms: readonly string[],
  targets: readonly Target[] | null,
  images: ImageNeeds = NO_IMAGES
): BuildPlan {
  const built = new Map<string, Map<BuiltGroupName, string[]>>()
  const platformsOfTarget = new Map<Target, Set<string>>()
  for (const group of TARGET_GROUPS) {
    const groupTargets = group.targets.filter(x => targets === null || targets.includes(x))
    const groupPlatforms = intersect(platforms, group.platforms)
    if (groupTargets.length === 0) continue
    for (const platform of groupPlatforms) {
      const groups = built.get(platform) ?? new Map<BuiltGroupName, string[]>()
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
  const forImages = new Map<Target, Set<string>>()
  for (const [platform, needed] of imageTargets(platforms, images)) {
    const groups = built.get(platform) ?? new Map<BuiltGroupName, string[]>()
    const have = new Set([...groups.values()].flat())
    const missing = needed.filter(x => !have.has(x.binary))
    if (missing.length === 0) continue
    groups.set(
      'images',
      missing.map(x => x.binary)
    )
    built.set(platform, groups)
    for (const target of missing) forImages.set(target, (forImages.get(target) ?? new Set()).add(platform))
  }
  const commands =
    targets === null
      ? [['make', 'cross'], ...makeAllCommands(forImages)]
      : makeAllCommands(mergePlatforms(platformsOfTarget, forImages))
  return { platforms, commands, built }
}

function mergePlatforms(...maps: Map<Target, Set<string>>[]): Map<Target, Set<string>> {
  const merged = new Map<Target, Set<string>>()
  for (const map of maps) {
    for (const [target, set] of map) merged.set(target, new Set([...(merged.get(target) ?? []), ...set]))
  }
  return merged
}

/**
 * build/release-images.sh: the server image targets (plus the conformance targets and
 * KUBE_EXTRA_WHAT) for the linux server platforms in one `make all`, with DBG; then kube-proxy for
 * windows/amd64 when the windows image is on.
 */
export function planImagesBuild(
  platforms: readonly string[],
  images: ImageNeeds & { readonly extraTargets: readonly Target[]; readonly debug: string }
): BuildPlan {
  const serverPlatforms = intersect(platforms, SERVER_PLATFORMS)
  if (serverPlatforms.length === 0) {
    throw new InputError(
      `no linux server platform among ${platforms.join(', ')}: the images are made for ${SERVER_PLATFORMS.join(', ')}`
    )
  }
  const what = unique([
    ...SERVER_IMAGE_TARGETS,
    ...(images.conformance ? CONFORMANCE_IMAGE_TARGETS : []),
    ...images.extraTargets
  ])
  const serverBinaries = SERVER_IMAGE_TARGETS.map(x => x.binary).filter(b => b !== 'kubectl')
  const others = what.map(x => x.binary).filter(b => !serverBinaries.includes(b) && b !== 'kubectl')
  const built = new Map<string, ReadonlyMap<BuiltGroupName, readonly string[]>>()
  for (const platform of serverPlatforms) {
    const groups = new Map<BuiltGroupName, string[]>([
      ['server', serverBinaries],
      ['client', ['kubectl']]
    ])
    if (others.length > 0) groups.set('images', others)
    built.set(platform, groups)
  }
  const commands = [
    [
      'make',
      'all',
      `WHAT=${what.map(x => x.path).join(' ')}`,
      `KUBE_BUILD_PLATFORMS=${serverPlatforms.join(' ')}`,
      `DBG=${images.debug}`
    ]
  ]
  if (images.windowsKubeProxy) {
    built.set(WINDOWS_IMAGE_PLATFORM, new Map([['images', [WINDOWS_IMAGE_TARGET.binary]]]))
    commands.push([
      'make',
      'all',
      `WHAT=${WINDOWS_IMAGE_TARGET.path}`,
      `KUBE_BUILD_PLATFORMS=${WINDOWS_IMAGE_PLATFORM}`
    ])
  }
  return { platforms: [...built.keys()], commands, built }
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
