// Cache keys: content, not names (host names and paths differ on every hosted runner).
import { createHash } from 'node:crypto'

/** Bumped when what an entry holds changes shape, so old entries are never misread. */
const FORMAT = 'v1'

/** The kube-cross image: exact key from the reference (repository and tag), the engine's platform. */
export function imageCacheKey(ref: string, os: string, arch: string): string {
  return `kube-release-image-${FORMAT}-${os}-${arch}-${ref}`
}

/** Platform sets up to this size are spelled out in the key; larger ones go by a hash. */
const NAMED_PLATFORMS = 2

/**
 * The platform set of a build as a part of a key: `linux-arm64` or `linux-amd64+linux-arm64` for a
 * small set (what a matrix leg builds, readable in the cache's list), else `<n>-platforms-<hash>`.
 * Either way no set's part is a prefix of another's up to the `-` that follows it.
 */
function platformSetPart(platforms: readonly string[]): string {
  const sorted = [...platforms].sort()
  if (sorted.length <= NAMED_PLATFORMS) return sorted.map(p => p.replace('/', '-')).join('+')
  const hash = createHash('sha256').update(sorted.join(' ')).digest('hex').slice(0, 12)
  return `${sorted.length}-platforms-${hash}`
}

/**
 * The Go build cache: a new entry per run, restored by prefix (newest first) from runs that built
 * the same platforms with the same toolchain and workspace layout.
 *
 * Entries are per platform set, the set one build compiles, not per single platform: GOCACHE is
 * content-addressed and shared by every platform of a build (one `make` compiles them all into it),
 * and nothing in an entry's file tells which platform it was for, so a build's cache cannot be split
 * afterwards; objects every platform uses (host tools, generated code) would be duplicated if it
 * could. A matrix leg builds the same platforms in every run (the plan is deterministic), so it
 * restores exactly its own entry and never another leg's; and since an entry holds only what its
 * build used, a workspace that kept other platforms' objects does not pass them on.
 */
export function buildCacheKeys(
  crossTag: string,
  platforms: readonly string[],
  workspace: string,
  runId: string
): { key: string; prefix: string } {
  const prefix = `kube-release-build-${FORMAT}-${crossTag}-${platformSetPart(platforms)}-${workspace}-`
  return { key: `${prefix}${runId}`, prefix }
}
