// A build context without copying it: its top-level names mapped to paths on this machine, and what a
// COPY of some of its paths adds to an image, as BuildKit copies: a file to the destination (or into
// it, when it ends in / or there are several sources), a directory's contents into the destination.
import { lstat, open, readdir, readlink, stat } from 'node:fs/promises'
import { join, posix } from 'node:path'
import { ReleaseError } from '../../errors.js'
import type { LayerEntry } from './image-writer.js'

/** A top-level name of the context: where it is here, and the mode it gets (cp then chmod). */
export type BuildContext = ReadonlyMap<string, { readonly path: string; readonly mode?: number }>

export interface CopyRequest {
  readonly instruction: string
  readonly sources: readonly string[]
  /** Absolute; a trailing `/` means "into this directory". */
  readonly dest: string
  /** --chmod. */
  readonly mode?: number
  /** ADD would unpack a local archive: refused rather than done differently. */
  readonly refuseArchives: boolean
}

const ARCHIVE_MAGIC = [
  Buffer.from([0x1f, 0x8b]),
  Buffer.from('BZh'),
  Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00])
]

async function isArchive(path: string): Promise<boolean> {
  const file = await open(path, 'r')
  try {
    const head = Buffer.alloc(512)
    const { bytesRead } = await file.read(head, 0, head.length, 0)
    const tar = bytesRead >= 262 && head.toString('latin1', 257, 262) === 'ustar'
    return tar || ARCHIVE_MAGIC.some(magic => head.subarray(0, magic.length).equals(magic))
  } finally {
    await file.close()
  }
}

/** The entries of a directory's contents under `dest`, sorted, symlinks kept as symlinks. */
async function directoryEntries(dir: string, dest: string): Promise<LayerEntry[]> {
  const entries: LayerEntry[] = []
  for (const name of (await readdir(dir)).sort()) {
    const path = join(dir, name)
    const imagePath = posix.join(dest, name)
    const info = await lstat(path)
    if (info.isSymbolicLink()) entries.push({ kind: 'symlink', imagePath, target: await readlink(path) })
    else if (info.isDirectory()) {
      entries.push({ kind: 'dir', imagePath, mode: info.mode & 0o7777 })
      entries.push(...(await directoryEntries(path, imagePath)))
    } else if (info.isFile())
      entries.push({ kind: 'file', imagePath, source: path, mode: info.mode & 0o7777 })
  }
  return entries
}

/** What one COPY adds: every file, directory and symlink at its place in the image. */
export async function copyEntries(context: BuildContext, copy: CopyRequest): Promise<LayerEntry[]> {
  const fail = (why: string): ReleaseError => new ReleaseError(`'${copy.instruction}': ${why}`)
  const into = copy.dest.endsWith('/') || copy.sources.length > 1
  const entries: LayerEntry[] = []
  for (const source of copy.sources) {
    const relative = posix
      .normalize(source)
      .replace(/^(\.\/|\/)+/, '')
      .replace(/\/$/, '')
    const [top, ...rest] = relative.split('/')
    const known = context.get(top)
    if (!known || top === '..' || top === '.') {
      throw fail(`${source} is not in the build context (${[...context.keys()].join(', ')})`)
    }
    const path = join(known.path, ...rest)
    const info = await stat(path).catch(() => {
      throw fail(`${source} (${path}) does not exist`)
    })
    if (info.isDirectory()) {
      const dest = copy.dest.replace(/\/$/, '') || '/'
      entries.push({ kind: 'dir', imagePath: dest, mode: copy.mode ?? 0o755 })
      const children = await directoryEntries(path, dest)
      entries.push(
        ...(copy.mode === undefined
          ? children
          : children.map(e => (e.kind === 'symlink' ? e : { ...e, mode: copy.mode! })))
      )
      continue
    }
    if (copy.refuseArchives && (await isArchive(path))) {
      throw fail(`ADD would unpack the archive ${source}; use COPY to copy it as it is`)
    }
    const imagePath = into ? posix.join(copy.dest, posix.basename(relative)) : copy.dest
    const mode = copy.mode ?? (rest.length === 0 ? known.mode : undefined) ?? info.mode & 0o7777
    entries.push({ kind: 'file', imagePath, source: path, mode })
  }
  return entries
}
