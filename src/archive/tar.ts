// Tar archives written from a plan of members. Small archives are built in memory; release
// tarballs are .tar.gz files assembled from gzip members (a gzip stream may hold several, and every
// reader of .tar.gz reads them in sequence), so the compressed data of a file that appears in several
// tarballs (kubectl, the src tarball) is compressed once and copied into each.
import { createReadStream, createWriteStream } from 'node:fs'
import { lstat, mkdtemp, rename, rm } from 'node:fs/promises'
import { availableParallelism } from 'node:os'
import { join } from 'node:path'
import { pipeline } from 'node:stream/promises'
import { promisify } from 'node:util'
import { createGzip, gzip } from 'node:zlib'
import pLimit from 'p-limit'
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

const gzipBuffer = promisify(gzip)

/** Files at least this big get a gzip member of their own, shared by every tarball they appear in. */
const SHARED_MEMBER_MIN_BYTES = 64 * 1024
/** Headers and small files are gathered into one gzip member up to about this size. */
const SMALL_MEMBERS_GZIP_CHUNK_BYTES = 4 * 1024 * 1024

interface FileInfo {
  readonly size: number
  readonly mode: number
  readonly mtime: Date
}

async function fileInfo(path: string): Promise<FileInfo> {
  const info = await lstat(path)
  if (!info.isFile()) throw new Error(`${path} is not a regular file`)
  return { size: info.size, mode: info.mode & 0o7777, mtime: info.mtime }
}

/** Header (and, for data members, the content) of a member; file content is added by the caller. */
function memberHeader(member: TarMember | StreamedTarMember, options: TarOptions, info?: FileInfo): Buffer {
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

const paddedContent = (path: string, size: number): AsyncGenerator<Buffer> =>
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

type Piece =
  | { readonly kind: 'raw'; readonly bytes: Buffer }
  | { readonly kind: 'shared'; readonly compressed: Promise<string> }

/**
 * Writes .tar.gz files that share compressed members. One instance serves one set of tarballs;
 * `dispose` removes its temporary files.
 */
export class TarGzWriter {
  private readonly shared = new Map<string, Promise<string>>()
  /** Bounds how many compressions run at once. */
  private readonly compressions = pLimit(availableParallelism())
  private tempDir: Promise<string> | undefined

  constructor(
    private readonly workDir: string,
    private readonly options: TarOptions = {}
  ) {}

  /** The gzip member of a file's content (with its padding), compressed on first use. */
  private sharedMember(source: string, size: number): Promise<string> {
    const key = `${source}\0${size}`
    let member = this.shared.get(key)
    if (!member) {
      this.tempDir ??= mkdtemp(join(this.workDir, 'gzip-members-'))
      const index = this.shared.size
      member = this.tempDir.then(dir =>
        this.compressions(async () => {
          const path = join(dir, `${index}.gz`)
          await pipeline(paddedContent(source, size), createGzip(), createWriteStream(path))
          return path
        })
      )
      // Awaited later, in order; a failure meanwhile must not count as unhandled.
      member.catch(() => undefined)
      this.shared.set(key, member)
    }
    return member
  }

  /** Writes the archive; it appears under `dest` only when complete. */
  async write(dest: string, members: readonly TarMember[]): Promise<void> {
    const pieces: Piece[] = []
    let run: Buffer[] = []
    let runBytes = 0
    const flush = (): void => {
      if (runBytes > 0) pieces.push({ kind: 'raw', bytes: Buffer.concat(run) })
      run = []
      runBytes = 0
    }
    const append = (bytes: Buffer): void => {
      run.push(bytes)
      runBytes += bytes.length
      if (runBytes >= SMALL_MEMBERS_GZIP_CHUNK_BYTES) flush()
    }
    for (const member of members) {
      if (member.kind !== 'file') {
        append(memberHeader(member, this.options))
        continue
      }
      const info = await fileInfo(member.source)
      append(memberHeader(member, this.options, info))
      if (info.size >= SHARED_MEMBER_MIN_BYTES) {
        flush()
        pieces.push({ kind: 'shared', compressed: this.sharedMember(member.source, info.size) })
      } else {
        for await (const chunk of paddedContent(member.source, info.size)) append(chunk)
      }
    }
    append(END_OF_ARCHIVE)
    flush()
    const partial = `${dest}.partial`
    try {
      const compressions = this.compressions
      await pipeline(async function* () {
        for (const piece of pieces) {
          if (piece.kind === 'raw') yield await compressions(() => gzipBuffer(piece.bytes))
          else yield* createReadStream(await piece.compressed)
        }
      }, createWriteStream(partial))
      await rename(partial, dest)
    } finally {
      await rm(partial, { force: true })
    }
  }

  /** Removes the temporary files, once every compression under way has ended. */
  async dispose(): Promise<void> {
    await Promise.allSettled(this.shared.values())
    if (this.tempDir) await rm(await this.tempDir, { recursive: true, force: true })
  }
}
