// What moves between the tree and the data volume, as upstream's rsync filters say (build/common.sh).

/** sync_to_container: never send _tmp or _output, never touch the root's attributes; mirror deletions. */
export const PUSH_ARGS: readonly string[] = [
  '--delete',
  '--filter=- /_tmp/',
  '--filter=- /_output/',
  '--filter=- /'
]

/**
 * copy_output, first match wins: binaries and generated sources, no caches. The tree's _tmp never
 * comes back (upstream's rsync module filters it out).
 */
export const PULL_ARGS: readonly string[] = [
  '--prune-empty-dirs',
  '--filter=- /_tmp/',
  '--filter=- /_temp/',
  '--filter=+ /vendor/',
  '--filter=+ /staging/***/Godeps/**',
  '--filter=+ /_output/dockerized/bin/**',
  '--filter=- /_output/dockerized/go/**',
  '--filter=+ zz_generated.*',
  '--filter=+ generated.proto',
  '--filter=+ *.pb.go',
  '--filter=+ types.go',
  '--filter=+ */',
  '--filter=- /**'
]
