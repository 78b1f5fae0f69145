// Platform lists of hack/lib/golang.sh (upstream facts: kube-build-flow.md §4).
import { InputError } from '../errors.js'

export const SERVER_PLATFORMS = ['linux/amd64', 'linux/arm64', 'linux/s390x', 'linux/ppc64le'] as const

export const NODE_PLATFORMS = [...SERVER_PLATFORMS, 'windows/amd64'] as const

export const CLIENT_PLATFORMS = [
  'linux/amd64',
  'linux/386',
  'linux/arm',
  'linux/arm64',
  'linux/s390x',
  'linux/ppc64le',
  'darwin/amd64',
  'darwin/arm64',
  'windows/amd64',
  'windows/386',
  'windows/arm64'
] as const

export const TEST_PLATFORMS = [
  'linux/amd64',
  'linux/arm64',
  'linux/s390x',
  'linux/ppc64le',
  'darwin/amd64',
  'darwin/arm64',
  'windows/amd64',
  'windows/arm64'
] as const

/** Go's architecture names for Node's (`process.arch`), for `host` where no engine is asked. */
const GO_ARCH: Readonly<Record<string, string>> = {
  x64: 'amd64',
  arm64: 'arm64',
  s390x: 's390x',
  ppc64: 'ppc64le'
}

/** This machine's architecture as Go names it; amd64 when Go has no build of Kubernetes for it. */
export const hostGoArch = (nodeArch: string = process.arch): string => GO_ARCH[nodeArch] ?? 'amd64'

/** Architectures that `KUBE_FASTBUILD` maps the build host to; anything else falls back to amd64. */
const FASTBUILD_ARCHES = ['amd64', 'arm64', 'ppc64le', 's390x']

/** Where an explicit platform list came from: the input, or upstream's variable below it. */
export type PlatformListOrigin = 'input' | 'KUBE_BUILD_PLATFORMS'

/** What the user asked for, before the engine's architecture is known. */
export type PlatformSelection =
  | { kind: 'mode-default' }
  | { kind: 'all' }
  | { kind: 'host' }
  | { kind: 'list'; platforms: string[]; from: PlatformListOrigin }

/**
 * Parses the `platforms` input: `os/arch` separated by commas or white space, or `all`, or `host`.
 * Unknown platforms are rejected with the supported list, so nothing starts for a typo.
 */
export function parsePlatformSelection(text: string): PlatformSelection {
  const words = splitList(text)
  if (words.length === 0) return { kind: 'mode-default' }
  if (words.length === 1 && (words[0] === 'all' || words[0] === 'host')) return { kind: words[0] }
  return { kind: 'list', platforms: checkedPlatforms(words, " (or 'all', or 'host')"), from: 'input' }
}

/**
 * The selection of the input (parsed), else upstream's KUBE_BUILD_PLATFORMS (space-separated os/arch), else
 * the mode's default: the variable sits below the input and above the mode, as in build/release.sh.
 * Upstream drops unsupported entries silently; here they are refused like the input's.
 */
export function selectPlatforms(selection: PlatformSelection, env: NodeJS.ProcessEnv): PlatformSelection {
  const variable = splitList(env.KUBE_BUILD_PLATFORMS ?? '')
  if (selection.kind !== 'mode-default' || variable.length === 0) return selection
  try {
    return { kind: 'list', platforms: checkedPlatforms(variable, ''), from: 'KUBE_BUILD_PLATFORMS' }
  } catch (err) {
    throw new InputError(`KUBE_BUILD_PLATFORMS: ${(err as Error).message}`)
  }
}

/** The words as platforms, once each; any the client list (the superset) lacks is an error. */
function checkedPlatforms(words: readonly string[], alternatives: string): string[] {
  const unknown = words.filter(w => !(CLIENT_PLATFORMS as readonly string[]).includes(w))
  if (unknown.length > 0) {
    const malformed = unknown.filter(w => !/^[a-z0-9]+\/[a-z0-9]+$/.test(w))
    const what = malformed.length > 0 ? 'malformed' : 'unsupported'
    throw new InputError(
      `${what} platform${unknown.length > 1 ? 's' : ''} ${quoteSome(unknown)}; ` +
        `use os/arch from: ${CLIENT_PLATFORMS.join(', ')}${alternatives}`
    )
  }
  return unique(words)
}

/** Where the platform list of a run came from, for the log. */
export function platformsOrigin(
  selection: PlatformSelection,
  mode: 'release' | 'quick-release' | 'release-images' | 'quick-release-images'
): string {
  switch (selection.kind) {
    case 'list':
      return selection.from === 'input' ? "input 'platforms'" : 'KUBE_BUILD_PLATFORMS'
    case 'all':
      return "input 'platforms': all"
    case 'host':
      return "input 'platforms': host, the engine's own"
    case 'mode-default':
      return mode.startsWith('quick-')
        ? `mode ${mode}: the engine's own linux platform`
        : `mode ${mode}: every supported platform`
  }
}

/** The engine's own linux platform, as upstream's KUBE_FASTBUILD computes it from `uname -m`. */
export function hostPlatform(engineArch: string): string {
  return `linux/${FASTBUILD_ARCHES.includes(engineArch) ? engineArch : 'amd64'}`
}

/**
 * The platforms to build: an explicit list as given, `all` (and the release modes) every supported
 * platform, `host` (and the quick modes) the engine's linux/<arch>.
 */
export function resolvePlatforms(
  selection: PlatformSelection,
  mode: 'release' | 'quick-release' | 'release-images' | 'quick-release-images',
  engineArch: string
): string[] {
  switch (selection.kind) {
    case 'list':
      return selection.platforms
    case 'all':
      return [...CLIENT_PLATFORMS]
    case 'host':
      return [hostPlatform(engineArch)]
    case 'mode-default':
      return mode.startsWith('quick-') ? [hostPlatform(engineArch)] : [...CLIENT_PLATFORMS]
  }
}

/** Splits an input list on commas and white space (upstream's lists are space-separated). */
export function splitList(text: string): string[] {
  return text.split(/[,\s]+/).filter(s => s.length > 0)
}

/** The first few items, quoted, and how many more: error messages stay readable for huge inputs. */
export function quoteSome(items: readonly string[], shown = 5): string {
  const quoted = items.slice(0, shown).map(w => `'${w.length > 80 ? `${w.slice(0, 80)}…` : w}'`)
  return items.length > shown ? `${quoted.join(', ')} and ${items.length - shown} more` : quoted.join(', ')
}

export function unique<T>(items: readonly T[]): T[] {
  return [...new Set(items)]
}

/** Keeps the items of `list` that are in `supported`, in `supported`'s order (upstream's intersection). */
export function intersect(list: readonly string[], supported: readonly string[]): string[] {
  return supported.filter(p => list.includes(p))
}
