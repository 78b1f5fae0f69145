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

/** What the user asked for, before the engine's architecture is known. */
export type PlatformSelection =
  { kind: 'mode-default' } | { kind: 'all' } | { kind: 'host' } | { kind: 'list'; platforms: string[] }

/**
 * Parses the `platforms` input: `os/arch` separated by commas or white space, or `all`, or `host`.
 * Unknown platforms are rejected with the supported list, so nothing starts for a typo.
 */
export function parsePlatformSelection(text: string): PlatformSelection {
  const words = splitList(text)
  if (words.length === 0) return { kind: 'mode-default' }
  if (words.length === 1 && (words[0] === 'all' || words[0] === 'host')) return { kind: words[0] }
  // The client list is the superset: every platform some target group builds.
  const unknown = words.filter(w => !(CLIENT_PLATFORMS as readonly string[]).includes(w))
  if (unknown.length > 0) {
    const malformed = unknown.filter(w => !/^[a-z0-9]+\/[a-z0-9]+$/.test(w))
    const what = malformed.length > 0 ? 'malformed' : 'unsupported'
    throw new InputError(
      `${what} platform${unknown.length > 1 ? 's' : ''} ${quoteSome(unknown)}; ` +
        `use os/arch from: ${CLIENT_PLATFORMS.join(', ')} (or 'all', or 'host')`
    )
  }
  return { kind: 'list', platforms: unique(words) }
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
