// Tar archives written from a plan of members: uncompressed, block by block or whole in memory (build
// contexts, files copied into containers). Release tarballs are written by tar-gz.ts from the same
// member plans.
import { createReadStream } from 'node:fs'
import { lstat } from 'node:fs/promises'
import { END_OF_ARCHIVE, encodeHeader, padding } from './tar-format.js'

/** What a member may set for itself over the archive's defaults (owner 0/0, 0755 directories, a file's own mode). */
interface MemberMetadata {
  readonly uid?: number
  readonly gid?: number
  readonly mode?: number
  /** More pax records, e.g. the MSWINDOWS.* attributes of a Windows image layer. */
  readonly paxRecords?: Readonly<Record<string, string>>
}

export type TarMember =
  | ({ readonly kind: 'dir'; readonly path: string } & MemberMetadata)
  | ({
      readonly kind: 'file'
      readonly path: string
      readonly source: string
      /** Extended attributes (pax SCHILY.xattr records), binary values kept byte for byte. */
      readonly xattrs?: Readonly<Record<string, Buffer>>
    } & MemberMetadata)
  | ({
      readonly kind: 'data'
      readonly path: string
      readonly data: string | Buffer
      readonly mode: number
    } & Omit<MemberMetadata, 'mode'>)
  | { readonly kind: 'symlink'; readonly path: string; readonly target: string }

/**
 * A file whose content is produced while the archive is written (a layer decompressed into an image
 * archive): its size must be known beforehand, as the header comes first.
 */
export interface StreamedTarMember extends Omit<MemberMetadata, 'mode'> {
  readonly kind: 'stream'
  readonly path: string
  readonly mode: number
  /** Bytes `content` gives; any other count fails the archive. */
  readonly size: number
  readonly content: () => AsyncIterable<Buffer>
}

export interface TarOwner {
  readonly uid: number
  readonly gid: number
}

export interface TarOptions {
  /** Default: owner and group 0, as upstream's `tar --owner=0 --group=0`. */
  readonly owner?: TarOwner
  /** Every member's mtime (reproducible output); default: each file's own, and now for the rest. */
  readonly mtime?: Date
}

export interface FileInfo {
  readonly size: number
  readonly mode: number
  readonly mtime: Date
}

export async function fileInfo(path: string): Promise<FileInfo> {
  const info = await lstat(path)
  if (!info.isFile()) throw new Error(`${path} is not a regular file`)
  return { size: info.size, mode: info.mode & 0o7777, mtime: info.mtime }
}

/** Header (and, for data members, the content) of a member; file content is added by the caller. */
export function memberHeader(
  member: TarMember | StreamedTarMember,
  options: TarOptions,
  info?: FileInfo
): Buffer {
  const owner = options.owner ?? { uid: 0, gid: 0 }
  const mtime = options.mtime ?? info?.mtime ?? new Date()
  const own: Omit<MemberMetadata, 'mode'> = member.kind === 'symlink' ? {} : member
  const base = {
    path: member.path,
    mtime,
    uid: own.uid ?? owner.uid,
    gid: own.gid ?? owner.gid,
    paxRecords: own.paxRecords
  }
  switch (member.kind) {
    case 'dir':
      return encodeHeader({ ...base, type: 'directory', mode: member.mode ?? 0o755, size: 0 })
    case 'symlink':
      return encodeHeader({ ...base, type: 'symlink', mode: 0o777, size: 0, linkname: member.target })
    case 'data': {
      const data = Buffer.from(member.data)
      const header = encodeHeader({ ...base, type: 'file', mode: member.mode, size: data.length })
      return Buffer.concat([header, data, Buffer.alloc(padding(data.length))])
    }
    case 'stream':
      return encodeHeader({ ...base, type: 'file', mode: member.mode, size: member.size })
    case 'file':
      return encodeHeader({
        ...base,
        type: 'file',
        mode: member.mode ?? info!.mode,
        size: info!.size,
        xattrs: member.xattrs
      })
  }
}

/** Content padded to a block, failing with `mismatch(read)` when it is not the size its header announced. */
async function* padded(
  content: AsyncIterable<Buffer>,
  size: number,
  mismatch: (read: number) => string
): AsyncGenerator<Buffer> {
  let read = 0
  for await (const chunk of content) {
    read += chunk.length
    yield chunk
  }
  if (read !== size) throw new Error(mismatch(read))
  yield Buffer.alloc(padding(size))
}

export const paddedContent = (path: string, size: number): AsyncGenerator<Buffer> =>
  padded(
    createReadStream(path),
    size,
    read => `${path} changed while it was archived (${size} bytes expected, ${read} read)`
  )

/** An uncompressed tar block by block, file content read as it is yielded. */
export async function* tarBlocks(
  members: readonly (TarMember | StreamedTarMember)[],
  options: TarOptions = {}
): AsyncGenerator<Buffer> {
  for (const member of members) {
    if (member.kind === 'file') {
      const info = await fileInfo(member.source)
      yield memberHeader(member, options, info)
      yield* paddedContent(member.source, info.size)
    } else if (member.kind === 'stream') {
      const { path, size } = member
      yield memberHeader(member, options)
      yield* padded(member.content(), size, read => `${path}: ${size} bytes announced, ${read} given`)
    } else {
      yield memberHeader(member, options)
    }
  }
  yield END_OF_ARCHIVE
}

/** A whole (small) tar in memory, for build contexts and files copied into containers. */
export async function tarBuffer(members: readonly TarMember[], options: TarOptions = {}): Promise<Buffer> {
  const parts: Buffer[] = []
  for await (const block of tarBlocks(members, options)) parts.push(block)
  return Buffer.concat(parts)
}

/** Gzip level of every piece: upstream's (gzip's default). */
