// Tar archives written from a plan of members. Small archives are built in memory; release
// tarballs are .tar.gz files assembled from gzip members (a gzip stream may hold several, and every
// reader of .tar.gz reads them in sequence), so a big file is compressed in pieces on every core, and
// the compressed pieces of a file that appears in several tarballs (kubectl, the src tarball, a
// server binary and its image archive) or in the last run are compressed once and copied into each.
import { createReadStream, createWriteStream } from 'node:fs'
import { createHash } from 'node:crypto'
import { access, lstat, mkdir, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises'
import { availableParallelism } from 'node:os'
import { join } from 'node:path'
import { pipeline } from 'node:stream/promises'
import { GzipPool, type PieceSource } from './gzip-pool.js'
import { END_OF_ARCHIVE, encodeHeader, padding } from './tar-format.js'
import { embeddedFiles, type Extent } from './tar-layout.js'

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

/** Files at least this big get gzip members of their own, shared by every tarball they appear in. */
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

/** Gzip level of every piece: upstream's (gzip's default). */
const GZIP_LEVEL = 6
/** A big file is compressed in pieces of this many of its bytes, each a gzip member, on every core. */
export const PIECE_BYTES = 2 * 1024 * 1024

/**
 * Pieces found compressed already (by an earlier run, or for other bytes of this one: a binary inside
 * its image archive) and pieces compressed, with their raw bytes.
 */
export interface PieceStats {
  readonly reused: { pieces: number; bytes: number }
  readonly compressed: { pieces: number; bytes: number }
  /** File pieces read and hashed: those of files whose identity (see fileIdentity) changed since the last run. */
  readonly hashed: { pieces: number; bytes: number }
}

/**
 * What says a file is unchanged without reading it, as make and git judge it: path, size, inode and
 * the nanosecond mtime and ctime (any write changes ctime, which no tool can set back).
 */
async function fileIdentity(path: string): Promise<string> {
  const info = await lstat(path, { bigint: true })
  return [path, info.size, info.dev, info.ino, info.mtimeNs, info.ctimeNs].join('\0')
}

/** Ranges [offset, offset + length) of `size` bytes, cut every PIECE_BYTES from the start of each extent and gap. */
export function pieceRanges(size: number, extents: readonly Extent[]): { offset: number; length: number }[] {
  const ranges: { offset: number; length: number }[] = []
  const cut = (from: number, to: number): void => {
    for (let at = from; at < to; at += PIECE_BYTES)
      ranges.push({ offset: at, length: Math.min(PIECE_BYTES, to - at) })
  }
  let at = 0
  for (const extent of [...extents].sort((a, b) => a.offset - b.offset)) {
    if (extent.offset < at) continue
    cut(at, extent.offset)
    cut(extent.offset, extent.offset + extent.size)
    at = extent.offset + extent.size
  }
  cut(at, size)
  return ranges
}

/**
 * Writes .tar.gz files from gzip members ("pieces"): headers and small files gathered into chunks,
 * big files cut into pieces (a tar file, such as an image archive, cut where the files it holds
 * begin, so that a binary inside it gives the same pieces as the binary itself). Each piece is
 * compressed once, on a pool of worker threads, and kept in `piecesDir` under the sha256 of its raw
 * bytes, where a later run finds it. One instance serves one set of tarballs.
 */
export class TarGzWriter {
  /** Piece key by file range, so that a file in several tarballs is read and hashed once. */
  private readonly ranges = new Map<string, Promise<string>>()
  /** Every piece this writer used, by key: settled once it is in `piecesDir`. */
  private readonly pieces = new Map<string, Promise<void>>()
  private readonly pool = new GzipPool()
  private readonly counts = {
    reused: { pieces: 0, bytes: 0 },
    compressed: { pieces: 0, bytes: 0 },
    hashed: { pieces: 0, bytes: 0 }
  }
  /**
   * Piece keys of file ranges by the file's identity, from the last run (`${piecesDir}.json`), so that
   * an unchanged file is neither read nor hashed; and those of this run, written by `prune`.
   */
  private readonly knownRanges: Promise<ReadonlyMap<string, string>>
  private readonly usedRanges = new Map<string, string>()

  constructor(
    private readonly piecesDir: string,
    private readonly options: TarOptions = {}
  ) {
    this.knownRanges = readFile(this.rangeIndexPath, 'utf8').then(
      text => new Map(Object.entries(JSON.parse(text) as Record<string, string>)),
      () => new Map()
    )
  }

  private get rangeIndexPath(): string {
    return `${this.piecesDir}.json`
  }

  get stats(): PieceStats {
    return structuredClone(this.counts)
  }

  private count(counter: { pieces: number; bytes: number }, bytes: number): void {
    counter.pieces++
    counter.bytes += bytes
  }

  private piecePath(key: string): string {
    return join(this.piecesDir, `${key}.gz`)
  }

  /** Makes sure the piece of `key` is in `piecesDir`: found there, or compressed from `source`. */
  private ensurePiece(key: string, source: PieceSource, bytes: number): Promise<void> {
    let piece = this.pieces.get(key)
    if (!piece) {
      piece = (async () => {
        const found = await access(this.piecePath(key)).then(
          () => true,
          () => false
        )
        if (!found) await this.pool.compress(source, this.piecePath(key), GZIP_LEVEL)
        this.count(found ? this.counts.reused : this.counts.compressed, bytes)
      })()
      // A failure is also the failure of every write that uses the piece, which awaits it.
      piece.catch(() => undefined)
      this.pieces.set(key, piece)
    }
    return piece
  }

  private bytesPiece(bytes: Buffer): Promise<string> {
    const key = `${createHash('sha256').update(bytes).digest('hex')}-${GZIP_LEVEL}`
    return this.ensurePiece(key, { bytes }, bytes.length).then(() => key)
  }

  private filePiece(
    identity: string,
    path: string,
    fileSize: number,
    offset: number,
    length: number
  ): Promise<string> {
    const rangeKey = `${identity}\0${offset}\0${length}`
    let piece = this.ranges.get(rangeKey)
    if (!piece) {
      const source = { path, offset, length, fileSize }
      piece = (async () => {
        let key = (await this.knownRanges).get(rangeKey)
        if (key === undefined) {
          key = `${await this.pool.hash(source)}-${GZIP_LEVEL}`
          this.count(this.counts.hashed, length)
        }
        this.usedRanges.set(rangeKey, key)
        // Other bytes of this run (a binary beside its image archive) gave the piece already.
        if (this.pieces.has(key)) this.count(this.counts.reused, length)
        await this.ensurePiece(key, source, length)
        return key
      })()
      piece.catch(() => undefined)
      this.ranges.set(rangeKey, piece)
    }
    return piece
  }

  /** The pieces of a big file's content, cut where the files of a tar file begin. */
  private async filePieces(path: string, size: number): Promise<Promise<string>[]> {
    const identity = await fileIdentity(path)
    const extents = path.endsWith('.tar') ? ((await embeddedFiles(path, SHARED_MEMBER_MIN_BYTES)) ?? []) : []
    return pieceRanges(size, extents).map(r => this.filePiece(identity, path, size, r.offset, r.length))
  }

  /** Writes the archive; it appears under `dest` only when complete. */
  async write(dest: string, members: readonly TarMember[]): Promise<void> {
    await mkdir(this.piecesDir, { recursive: true })
    const pieces: Promise<string>[] = []
    // Awaited in order when the output is assembled; one failing meanwhile must not count as unhandled.
    const add = (...added: Promise<string>[]): void => {
      for (const piece of added) piece.catch(() => undefined)
      pieces.push(...added)
    }
    let run: Buffer[] = []
    let runBytes = 0
    const flush = (): void => {
      if (runBytes > 0) add(this.bytesPiece(Buffer.concat(run)))
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
        add(...(await this.filePieces(member.source, info.size)))
        append(Buffer.alloc(padding(info.size)))
      } else {
        for await (const chunk of paddedContent(member.source, info.size)) append(chunk)
      }
    }
    append(END_OF_ARCHIVE)
    flush()
    await this.assemble(dest, pieces)
  }

  /**
   * Writes a tar given as a stream (git archive's) as a .tar.gz of pieces of PIECE_BYTES each;
   * `tar` fails to fail the write. It appears under `dest` only when complete.
   */
  async writeStream(dest: string, tar: AsyncIterable<Buffer>): Promise<void> {
    await mkdir(this.piecesDir, { recursive: true })
    const pieces: Promise<string>[] = []
    // Pieces wait in memory for a worker: a few per worker are enough to keep every one busy.
    const waiting = 2 * availableParallelism()
    const add = async (bytes: Buffer): Promise<void> => {
      const piece = this.bytesPiece(bytes)
      piece.catch(() => undefined)
      pieces.push(piece)
      if (pieces.length > waiting) await pieces[pieces.length - 1 - waiting].catch(() => undefined)
    }
    let run: Buffer[] = []
    let runBytes = 0
    for await (const chunk of tar) {
      for (let at = 0; at < chunk.length;) {
        const taken = chunk.subarray(at, at + PIECE_BYTES - runBytes)
        run.push(taken)
        runBytes += taken.length
        at += taken.length
        if (runBytes === PIECE_BYTES) {
          await add(Buffer.concat(run))
          run = []
          runBytes = 0
        }
      }
    }
    if (runBytes > 0) await add(Buffer.concat(run))
    await this.assemble(dest, pieces)
  }

  /** Concatenates the pieces into `dest`, through `<dest>.partial`. */
  private async assemble(dest: string, pieces: readonly Promise<string>[]): Promise<void> {
    const partial = `${dest}.partial`
    try {
      const piecePath = (key: string): string => this.piecePath(key)
      await pipeline(async function* () {
        for (const piece of pieces) yield* createReadStream(piecePath(await piece))
      }, createWriteStream(partial))
      await rename(partial, dest)
    } finally {
      await rm(partial, { force: true })
    }
  }

  /**
   * Removes from `piecesDir` every piece no tarball of this writer used, and keeps the file ranges
   * this writer used for the next; returns how many pieces were removed.
   */
  async prune(): Promise<number> {
    await Promise.allSettled([...this.ranges.values(), ...this.pieces.values()])
    await writeFile(this.rangeIndexPath, JSON.stringify(Object.fromEntries(this.usedRanges)))
    const used = new Set([...this.pieces.keys()].map(key => `${key}.gz`))
    const names = await readdir(this.piecesDir).catch(() => [])
    const unused = names.filter(name => !used.has(name))
    await Promise.all(unused.map(name => rm(join(this.piecesDir, name), { force: true })))
    return unused.length
  }

  /** Ends the worker threads, once every compression under way has ended. */
  async dispose(): Promise<void> {
    await Promise.allSettled([...this.ranges.values(), ...this.pieces.values()])
    await this.pool.close()
  }
}
