// One walk of the Kubernetes tree, for the tarballs that copy parts of it.
import type { Dirent } from 'node:fs'
import { lstat, readdir, readlink } from 'node:fs/promises'
import { join, posix } from 'node:path'

export type TreeEntry =
  | { readonly kind: 'file' | 'dir'; readonly path: string }
  | { readonly kind: 'symlink'; readonly path: string; readonly target: string }

/** Upstream's clean_cruft: editor backups and Finder files never reach a tarball. */
const CRUFT = /(~$|^#.*#$|^\.DS)/
/** Build output, caches and VCS data: never part of a release, and large. */
const SKIPPED_TOP_LEVEL = /^(_output|_tmp|\.git)$/

/** What an entry is: from its directory entry, or, where the filesystem does not say, from lstat. */
async function kindOf(entry: Dirent, path: string): Promise<TreeEntry['kind'] | null> {
  const info = entry.isFile() || entry.isDirectory() || entry.isSymbolicLink() ? entry : await lstat(path)
  if (info.isSymbolicLink()) return 'symlink'
  if (info.isDirectory()) return 'dir'
  return info.isFile() ? 'file' : null
}

/**
 * Files, directories and symlinks under `root` (relative POSIX paths, sorted), without cruft. The
 * directory entries say what each is (no lstat per file), and directories are read concurrently.
 */
export async function listTree(root: string): Promise<TreeEntry[]> {
  const walk = async (relative: string): Promise<TreeEntry[]> => {
    const dirents = (await readdir(join(root, relative), { withFileTypes: true }))
      .filter(e => !CRUFT.test(e.name) && !(relative === '' && SKIPPED_TOP_LEVEL.test(e.name)))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    const listed = await Promise.all(
      dirents.map(async (dirent): Promise<TreeEntry[]> => {
        const path = relative === '' ? dirent.name : posix.join(relative, dirent.name)
        const kind = await kindOf(dirent, join(root, path))
        if (kind === 'symlink') return [{ kind, path, target: await readlink(join(root, path)) }]
        if (kind === 'dir') return [{ kind, path }, ...(await walk(path))]
        return kind === 'file' ? [{ kind, path }] : []
      })
    )
    return listed.flat()
  }
  return walk('')
}
