// The merged file system of an image's layers as overlayfs shows it to a container, reduced to what
// placing a file needs (directories, symlinks, everything else), and where a Dockerfile COPY would
// put a file in it: through directory symlinks such as a merged-/usr `bin -> usr/bin`, never
// replacing them. Pure: layer members in, paths out.
import { posix } from 'node:path'
import { ReleaseError } from '../../errors.js'

/** What a path is in the merged file system. */
export interface RootfsEntry {
  readonly type: 'directory' | 'symlink' | 'other'
  readonly mode: number
  readonly uid: number
  readonly gid: number
  /** Symlinks: the target as stored; otherwise empty. */
  readonly linkname: string
}

/** A layer tar member: its name as stored (`./usr/`, `usr/bin/.wh.foo`) and what it is. */
export interface LayerMember extends RootfsEntry {
  readonly name: string
}

/** Paths without leading or trailing slash ('' is the root) to what they are. */
export type Rootfs = Map<string, RootfsEntry>

const WHITEOUT = '.wh.'
const OPAQUE_WHITEOUT = '.wh..wh..opq'
/** As the kernel's MAXSYMLINKS. */
export const MAX_SYMLINK_HOPS = 40

/** A member name as a rootfs path: no leading `./` or `/`, no trailing `/`, no `..` above the root. */
export function rootfsPath(name: string): string {
  return posix.normalize(`/${name}`).slice(1).replace(/\/$/, '')
}

function removeBelow(rootfs: Rootfs, dir: string): void {
  const prefix = dir === '' ? '' : `${dir}/`
  for (const path of rootfs.keys()) if (path.startsWith(prefix) && path !== dir) rootfs.delete(path)
}

/**
 * Applies one layer over the lower ones. Its whiteouts go first, as they hide lower paths only; then
 * its paths, a non-directory hiding whatever a lower directory at its path held.
 */
export function applyLayer(rootfs: Rootfs, members: readonly LayerMember[]): void {
  const added: [string, RootfsEntry][] = []
  for (const { name: memberName, ...entry } of members) {
    const path = rootfsPath(memberName)
    if (path === '') continue
    const name = posix.basename(path)
    const parent = posix.dirname(path) === '.' ? '' : posix.dirname(path)
    if (name === OPAQUE_WHITEOUT) removeBelow(rootfs, parent)
    else if (name.startsWith(WHITEOUT)) {
      const hidden = posix.join(parent, name.slice(WHITEOUT.length))
      rootfs.delete(hidden)
      removeBelow(rootfs, hidden)
    } else added.push([path, entry])
  }
  for (const [path, entry] of added) {
    if (rootfs.get(path)?.type === 'directory' && entry.type !== 'directory') removeBelow(rootfs, path)
    rootfs.set(path, entry)
  }
}

/** The merged file system of layers, lowest first. */
export function mergeLayers(layers: Iterable<readonly LayerMember[]>): Rootfs {
  const rootfs: Rootfs = new Map()
  for (const members of layers) applyLayer(rootfs, members)
  return rootfs
}

/** A directory the placed file needs, with the base's metadata where the base has it. */
export interface ParentDirectory {
  readonly path: string
  readonly mode: number
  readonly uid: number
  readonly gid: number
}

export interface Placement {
  /** Where the file goes, without leading slash, directory symlinks of the base followed. */
  readonly path: string
  /** Its parent directories, outermost first. */
  readonly parents: readonly ParentDirectory[]
}

/** Path components after following `link` (a symlink at `at`), kept inside the root like a chroot. */
function followLink(at: readonly string[], link: string): string[] {
  const parts = link.startsWith('/') ? [] : at.slice(0, -1)
  for (const part of link.split('/')) {
    if (part === '..') parts.pop()
    else if (part !== '' && part !== '.') parts.push(part)
  }
  return parts
}

/** Where a Dockerfile COPY to `imagePath` would put a file in this file system. */
export function placeInRootfs(rootfs: ReadonlyMap<string, RootfsEntry>, imagePath: string): Placement {
  let parts = rootfsPath(imagePath).split('/')
  for (let hops = 0; hops <= MAX_SYMLINK_HOPS; hops++) {
    const linkAt = parts
      .slice(0, -1)
      .findIndex((_, i) => rootfs.get(parts.slice(0, i + 1).join('/'))?.type === 'symlink')
    if (linkAt < 0) return { path: parts.join('/'), parents: parentDirectories(rootfs, parts, imagePath) }
    const link = parts.slice(0, linkAt + 1)
    parts = [...followLink(link, rootfs.get(link.join('/'))!.linkname), ...parts.slice(linkAt + 1)]
  }
  throw new ReleaseError(`cannot place ${imagePath} in the base image: too many levels of symbolic links`)
}

function parentDirectories(
  rootfs: ReadonlyMap<string, RootfsEntry>,
  parts: readonly string[],
  imagePath: string
): ParentDirectory[] {
  return parts.slice(0, -1).map((_, i) => {
    const path = parts.slice(0, i + 1).join('/')
    const entry = rootfs.get(path)
    if (entry && entry.type !== 'directory') {
      throw new ReleaseError(`cannot place ${imagePath} in the base image: /${path} is not a directory there`)
    }
    return { path, mode: entry?.mode ?? 0o755, uid: entry?.uid ?? 0, gid: entry?.gid ?? 0 }
  })
}
