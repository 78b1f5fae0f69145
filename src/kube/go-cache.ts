// The Go build cache and GOPATH of the dockerized build (_output/dockerized/go) as the cache between
// runs sees them. Go refreshes the mtime of a cache entry it uses when that mtime is over an hour old,
// so restored entries are dated two hours back first; what is newer after the build is what it used or
// added, and only that is saved, which keeps the cache bounded to the working set.
import { OUTPUT_SUBPATH, REMOTE_ROOT } from './layout.js'

/** GOPATH (with GOCACHE at cache/build) inside the build container. */
export const GO_DIR = `${REMOTE_ROOT}/${OUTPUT_SUBPATH}/go`

/** How far back restored entries are dated: beyond the hour after which Go refreshes an entry it uses. */
export const BACKDATE_SECONDS = 2 * 60 * 60

/**
 * $1 GO_DIR, $2 owner uid:gid, $3 the date to give every entry (epoch seconds). Prints the number of
 * entries in a line `kube-release-cache entries=N`.
 */
export const BACKDATE_SCRIPT = `set -eu
mkdir -p "$1/cache/build"
chown -R "$2" "$1"
find "$1/cache/build" -type f -exec touch -h -d "@$3" {} +
echo "kube-release-cache entries=$(find "$1/cache/build" -type f | wc -l)"`

/**
 * $1 GO_DIR, $2 the build's start (epoch seconds), $3 the archive to write: GOPATH without the build
 * cache, plus the build cache entries newer than the start. Prints `kube-release-cache entries=N fresh=M`.
 */
export const EXPORT_SCRIPT = `set -eu
cd "$1"
mkdir -p cache/build
total=$(find cache/build -type f | wc -l)
{ find . -path ./cache/build -prune -o -type f -print0; find cache/build -type f -newermt "@$2" -print0; } |
  tar --null --no-recursion -cf "$3" -T -
echo "kube-release-cache entries=$total fresh=$(find cache/build -type f -newermt "@$2" | wc -l)"`

/** $1 GO_DIR: forgets a cache that could not be restored whole. */
export const FORGET_SCRIPT = 'rm -rf "$1/cache"'
/** $1 GO_DIR. */
export const CREATE_SCRIPT = 'mkdir -p "$1"'

/** A count the scripts print: `entries` or `fresh`. */
export function goCacheCount(lines: readonly string[], name: 'entries' | 'fresh'): number {
  const line = lines.find(l => l.startsWith('kube-release-cache '))
  return Number(new RegExp(`${name}=(\\d+)`).exec(line ?? '')?.[1] ?? 0)
}
