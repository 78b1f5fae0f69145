// Names and paths shared with upstream's dockerized build (kube-build-flow.md §2), and the names
// this action gives its own Docker objects.
import { createHash } from 'node:crypto'
import { join } from 'node:path'

/** The tree's path inside every build container (REMOTE_ROOT). */
export const REMOTE_ROOT = '/go/src/k8s.io/kubernetes'
/** LOCAL_OUTPUT_ROOT's default (OUT_DIR unset): every output of a build, which make clean removes. */
export const OUTPUT_DIR = '_output'
/** KUBE_OUTPUT_SUBPATH: relative to the tree, the same on the host and in the container. */
export const OUTPUT_SUBPATH = '_output/dockerized'
export const VERSION_FILE_NAME = '.dockerized-kube-version-defs'

export const localBinDir = (root: string): string => join(root, OUTPUT_SUBPATH, 'bin')
export const localGoPath = (root: string): string => join(root, OUTPUT_SUBPATH, 'go')

/**
 * Ten hex characters naming the tree, like upstream's KUBE_ROOT_HASH but from the resolved path
 * only: host names differ on every hosted runner, so they would defeat reuse.
 */
export function treeHash(root: string): string {
  return createHash('sha256').update(root).digest('hex').slice(0, 10)
}

/** The data volume of a tree for one build image version; Docker names allow [a-zA-Z0-9_.-]. */
export function dataVolumeName(root: string, imageVersion: string): string {
  return `kube-build-data-${treeHash(root)}-${imageVersion.replace(/[^a-zA-Z0-9_.-]/g, '_')}`
}
