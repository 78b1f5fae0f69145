// The Go build cache and GOPATH of the dockerized build (_output/dockerized/go) as the cache between
// runs sees them. Go refreshes the mtime of a cache entry it uses when that mtime is over an hour old,
// so restored entries are dated two hours back first; what is newer after the build is what it used or
// added, and only that is saved, which keeps the cache bounded to the working set.
// A manifest of every file (size and path) taken when the build starts tells, after it, how many
// bytes the build added: files whose path or size is new. Go's cache and module cache name their
// files by content (or never rewrite them), so a path and size that match are the same file.
import { OUTPUT_SUBPATH, REMOTE_ROOT } from './layout.js'

/** GOPATH (with GOCACHE at cache/build) inside the build container. */
export const GO_DIR = `${REMOTE_ROOT}/${OUTPUT_SUBPATH}/go`

/** How far back restored entries are dated: beyond the hour after which Go refreshes an entry it uses. */
export const BACKDATE_SECONDS = 2 * 60 * 60

/** The manifest of GO_DIR at the build's start, in GO_DIR (left out of every archive). */
const MANIFEST = '.kube-release-start'

/** `size path` of every file under the current directory but the manifest, sorted. */
const LIST_FILES = `find . -path ./${MANIFEST} -prune -o -type f -printf '%s %P\\n' | LC_ALL=C sort`

/**
 * $1 GO_DIR, $2 owner uid:gid, $3 the date to give every entry (epoch seconds). Writes the manifest;
 * prints `kube-release-cache entries=N bytes=B`: the Go cache's entries, and the bytes of GO_DIR.
 */
export const BACKDATE_SCRIPT = `set -eu
mkdir -p "$1/cache/build"
cd "$1"
${LIST_FILES} > ${MANIFEST}
chown -R "$2" .
find cache/build -type f -exec touch -h -d "@$3" {} +
echo "kube-release-cache entries=$(find cache/build -type f | wc -l) bytes=$(awk '{ s += $1 } END { print s + 0 }' ${MANIFEST})"`

/**
 * $1 GO_DIR, $2 the build's start (epoch seconds). Prints `kube-release-cache entries=N fresh=M added=B`:
 * the Go cache's entries, those the build used or added (newer than the start), and the bytes of files
 * whose path or size the manifest lacks (all of GO_DIR when there is no manifest).
 */
export const MEASURE_SCRIPT = `set -eu
cd "$1"
mkdir -p cache/build
[ -f ${MANIFEST} ] || : > ${MANIFEST}
added=$(${LIST_FILES} | LC_ALL=C comm -13 ${MANIFEST} - | awk '{ s += $1 } END { print s + 0 }')
echo "kube-release-cache entries=$(find cache/build -type f | wc -l) fresh=$(find cache/build -type f -newermt "@$2" | wc -l) added=$added"`

/**
 * $1 GO_DIR, $2 the build's start (epoch seconds), $3 the archive to write: GOPATH without the build
 * cache, plus the build cache entries newer than the start.
 */
export const EXPORT_SCRIPT = `set -eu
cd "$1"
{ find . \\( -path ./cache/build -o -path ./${MANIFEST} \\) -prune -o -type f -print0
  find cache/build -type f -newermt "@$2" -print0; } |
  tar --null --no-recursion -cf "$3" -T -`

/** $1 GO_DIR: forgets a cache that could not be restored whole. */
export const FORGET_SCRIPT = 'rm -rf "$1/cache"'
/** $1 GO_DIR. */
export const CREATE_SCRIPT = 'mkdir -p "$1"'

/** A count the scripts print. */
export function goCacheCount(
  lines: readonly string[],
  name: 'entries' | 'fresh' | 'bytes' | 'added'
): number {
  const line = lines.find(l => l.startsWith('kube-release-cache '))
  return Number(new RegExp(`${name}=(\\d+)`).exec(line ?? '')?.[1] ?? 0)
}
