// One walk of the Kubernetes tree, for the tarballs that copy parts of it.
import { lstat, readdir, readlink } from 'node:fs/promises'
import { join, posix } from 'node:path'

export type TreeEntry =
  | { readonly kind: 'file' | 'dir'; readonly path: string }
  | { readonly kind: 'symlink'; readonly path: string; readonly target: string }

/** Upstream's clean_cruft: editor backups and Finder files never reach a tarball. */
const CRUFT = /(~$|^#.*#$|^\.DS)/
/** Build output, caches and VCS data: never part of a release, and large. */
const SKIPPED_TOP_LEVEL = /^(_output|_tmp|\.git)$/

/** Files, directories and symlinks under `root` (relative POSIX paths, sorted), without cruft. */
export async function listTree(root: string): Promise<TreeEntry[]> {
  const entries: TreeEntry[] = []
  const walk = async (relative: string): Promise<void> => {
    const names = (await readdir(join(root, relative))).sort()
    for (const name of names) {
      if (CRUFT.test(name) || (relative === '' && SKIPPED_TOP_LEVEL.test(name))) continue
      const path = relative === '' ? name : posix.join(relative, name)
      const info = await lstat(join(root, path))
      if (info.isSymbolicLink())
        entries.push({ kind: 'symlink', path, target: await readlink(join(root, path)) })
      else if (info.isDirectory()) {
        entries.push({ kind: 'dir', path })
        await walk(path)
      } else if (info.isFile()) entries.push({ kind: 'file', path })
    }
  }
  await walk('')
  return entries
}
