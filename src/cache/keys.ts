// Cache keys: content, not names (host names and paths differ on every hosted runner).
import { createHash } from 'node:crypto'

/** Bumped when what an entry holds changes shape, so old entries are never misread. */
const FORMAT = 'v1'

/** The kube-cross image: exact key from the reference (repository and tag), the engine's platform. */
export function imageCacheKey(ref: string, os: string, arch: string): string {
  return `kube-release-image-${FORMAT}-${os}-${arch}-${ref}`
}

/**
 * The Go build cache: a new entry per run, restored by prefix (newest first) from runs that built
 * the same platforms with the same toolchain and workspace layout.
 */
export function buildCacheKeys(
  crossTag: string,
  platforms: readonly string[],
  workspace: string,
  runId: string
): { key: string; prefix: string } {
  const platformSet = createHash('sha256')
    .update([...platforms].sort().join(' '))
    .digest('hex')
    .slice(0, 12)
  const prefix = `kube-release-build-${FORMAT}-${crossTag}-${platformSet}-${workspace}-`
  return { key: `${prefix}${runId}`, prefix }
}
