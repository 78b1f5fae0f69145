// Release tarballs: .tar.gz files assembled from gzip members (a gzip stream may hold several, and
// every reader of .tar.gz reads them in sequence), so a big file is compressed in pieces on every
// core, and the compressed pieces of a file that appears in several tarballs (kubectl, the src
// tarball, a server binary and its image archive) or in the last run are compressed once and copied
// into each. A warm run redoes nothing whose result cannot have changed: a tarball made of the same
// piece files as before keeps its digests, and a stream recorded under the same key (the src tarball
// of the same commit) is assembled from its pieces without being read.
import { createWriteStream } from 'node:fs'
import { createHash } from 'node:crypto'
import { access, mkdir, open, readdir, rename, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { pipeline } from 'node:stream/promises'
import { fileDigests, type Digests } from './checksums.js'
import { GzipPool, PIECE_HASH, type PieceSource } from './gzip-pool.js'
import { fileInfo, memberHeader, paddedContent, type TarMember, type TarOptions } from './tar.js'
import { END_OF_ARCHIVE, padding } from './tar-format.js'
import { embeddedFiles } from './tar-layout.js'
import {
  entry,
  fileIdentity,
  PIECE_BYTES,
  PieceGatherer,
  pieceRanges,
  readPieceIndex,
  type PieceIndex,
  type PieceStats
} from './pieces.js'

/** Files at least this big get gzip members of their own, shared by every tarball they appear in. */
const SHARED_MEMBER_MIN_BYTES = 64 * 1024
/** Headers and small files are gathered into one gzip member up to about this size. */
const SMALL_MEMBERS_GZIP_CHUNK_BYTES = 4 * 1024 * 1024

const GZIP_LEVEL = 6
/**
 * Writes .tar.gz files from gzip members ("pieces"): headers and small files gathered into chunks,
 * big files cut into pieces (a tar file, such as an image archive, cut where the files it holds
 * begin, so that a binary inside it gives the same pieces as the binary itself). Each piece is
 * compressed once, on a pool of worker threads, and kept in `piecesDir` under the PIECE_HASH of its raw
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
    hashed: { pieces: 0, bytes: 0 },
    digests: { reused: 0, computed: 0 },
    streams: { reused: 0, read: 0 }
  }
  /** The last run's index, so that an unchanged file is neither read nor hashed (and so on, see PieceIndex). */
  private readonly known: Promise<PieceIndex>
  /** This run's index, written by `prune`. */
  private readonly used: PieceIndex = { ranges: {}, digests: {}, streams: {} }
  /** The content key of each tarball written, by its path. */
  private readonly contentKeys = new Map<string, string>()

  constructor(
    private readonly piecesDir: string,
    private readonly options: TarOptions = {}
  ) {
    this.known = readPieceIndex(this.indexPath)
  }

  private get indexPath(): string {
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
    const key = `${createHash(PIECE_HASH).update(bytes).digest('hex')}-${GZIP_LEVEL}`
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
        let key = entry((await this.known).ranges, rangeKey)
        if (key === undefined) {
          key = `${await this.pool.hash(source)}-${GZIP_LEVEL}`
          this.count(this.counts.hashed, length)
        }
        this.used.ranges[rangeKey] = key
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
    // A tarball this writer assembled (the src tarball inside the node and server tarballs) is new
    // every run, but its content key says whether its bytes are those of the last run's.
    const written = this.contentKeys.get(path)
    const identity = written === undefined ? await fileIdentity(path) : `assembled\0${written}`
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
    // Headers and small files gathered: a dirty tree's src tarball (every file of the tree) is not
    // read into memory ahead of compression.
    const gathered = new PieceGatherer(SMALL_MEMBERS_GZIP_CHUNK_BYTES, 'reach', bytes => {
      const piece = this.bytesPiece(bytes)
      add(piece)
      return piece
    })
    for (const member of members) {
      if (member.kind !== 'file') {
        await gathered.append(memberHeader(member, this.options))
        continue
      }
      const info = await fileInfo(member.source)
      await gathered.append(memberHeader(member, this.options, info))
      if (info.size >= SHARED_MEMBER_MIN_BYTES) {
        await gathered.flush()
        add(...(await this.filePieces(member.source, info.size)))
        await gathered.append(Buffer.alloc(padding(info.size)))
      } else {
        for await (const chunk of paddedContent(member.source, info.size)) await gathered.append(chunk)
      }
    }
    await gathered.append(END_OF_ARCHIVE)
    await gathered.flush()
    await this.assemble(dest, pieces)
  }

  /**
   * Writes a tar given as a stream (git archive's) as a .tar.gz of pieces of PIECE_BYTES each; the
   * stream fails to fail the write. `key` must cover everything that decides the stream's bytes: when
   * the last run recorded pieces under it and every one is still in `piecesDir`, they are assembled
   * and `openTar` is not called. It appears under `dest` only when complete.
   */
  async writeStream(dest: string, key: string, openTar: () => AsyncIterable<Buffer>): Promise<void> {
    await mkdir(this.piecesDir, { recursive: true })
    const recorded = entry((await this.known).streams, key)
    if (recorded && (await this.allPresent(recorded.pieces))) {
      for (const piece of recorded.pieces)
        if (!this.pieces.has(piece)) this.pieces.set(piece, Promise.resolve())
      this.counts.reused.pieces += recorded.pieces.length
      this.counts.reused.bytes += recorded.bytes
      this.counts.streams.reused++
      this.used.streams[key] = recorded
      await this.assemble(
        dest,
        recorded.pieces.map(piece => Promise.resolve(piece))
      )
      return
    }
    const pieces: Promise<string>[] = []
    let bytes = 0
    const gathered = new PieceGatherer(PIECE_BYTES, 'cut', run => {
      bytes += run.length
      const piece = this.bytesPiece(run)
      piece.catch(() => undefined)
      pieces.push(piece)
      return piece
    })
    for await (const chunk of openTar()) await gathered.append(chunk)
    await gathered.flush()
    await this.assemble(dest, pieces)
    this.counts.streams.read++
    this.used.streams[key] = { pieces: await Promise.all(pieces), bytes }
  }

  private async allPresent(pieces: readonly string[]): Promise<boolean> {
    const found = await Promise.all(
      pieces.map(piece =>
        access(this.piecePath(piece)).then(
          () => true,
          () => false
        )
      )
    )
    return found.every(Boolean)
  }

  /**
   * Concatenates the pieces into `dest`, through `<dest>.partial`, and keeps the tarball's content
   * key: a hash over each piece's key and its file's identity. A piece file is written once and never
   * rewritten, so the same key means the same bytes; a piece compressed again is a new file (new inode
   * and mtime), so its tarballs get new keys.
   */
  private async assemble(dest: string, pieces: readonly Promise<string>[]): Promise<void> {
    const partial = `${dest}.partial`
    const content = createHash('sha256')
    try {
      const piecePath = (key: string): string => this.piecePath(key)
      await pipeline(async function* () {
        for (const piece of pieces) {
          const key = await piece
          const file = await open(piecePath(key))
          try {
            // The identity of the file read, taken from its descriptor.
            const info = await file.stat({ bigint: true })
            content.update([key, info.dev, info.ino, info.size, info.mtimeNs].join('\0') + '\n')
            yield* file.createReadStream({ autoClose: false })
          } finally {
            await file.close()
          }
        }
      }, createWriteStream(partial))
      await rename(partial, dest)
    } finally {
      await rm(partial, { force: true })
    }
    this.contentKeys.set(dest, content.digest('hex'))
  }

  /**
   * The digests of a tarball this writer wrote at `dest`: those of the last run for the same content
   * key, or computed from the file. Called before `prune`, which keeps them for the next run.
   */
  async digests(dest: string): Promise<Digests> {
    const key = this.contentKeys.get(dest)
    if (key === undefined) throw new Error(`${dest} was not written by this writer`)
    const known = entry((await this.known).digests, key)
    this.counts.digests[known ? 'reused' : 'computed']++
    const digests = known ?? (await fileDigests(dest))
    this.used.digests[key] = digests
    return digests
  }

  /**
   * Removes from `piecesDir` every piece no tarball of this writer used, and keeps the index entries
   * (file ranges, digests, streams) this writer used for the next; returns how many pieces were removed.
   */
  async prune(): Promise<number> {
    await Promise.allSettled([...this.ranges.values(), ...this.pieces.values()])
    await writeFile(this.indexPath, JSON.stringify(this.used))
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
