// What the release writer (tar-gz.ts) cuts files into and keeps between runs: pieces of PIECE_BYTES,
// the identity that says a file is unchanged without reading it, and the index a run leaves beside
// its pieces for the next.
import { lstat, readFile } from 'node:fs/promises'
import { availableParallelism } from 'node:os'
import type { Digests } from './checksums.js'
import type { Extent } from './tar-layout.js'

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
  /** Tarballs whose digests were known (made of the same piece files as in the last run) or computed. */
  readonly digests: { reused: number; computed: number }
  /** Streams (writeStream) assembled from the pieces recorded under their key, or read. */
  readonly streams: { reused: number; read: number }
}

/** The pieces of a stream written under a key, and how many raw bytes they hold. */
export interface StreamPieces {
  readonly pieces: readonly string[]
  readonly bytes: number
}

/**
 * What the last run left beside `piecesDir` (`${piecesDir}.json`) and this one leaves for the next,
 * each keeping only the entries its run used: piece keys of file ranges by the file's identity, the
 * digests of tarballs by their content key (see `assemble`), and the pieces of streams by their key.
 */
export interface PieceIndex {
  ranges: Record<string, string>
  digests: Record<string, Digests>
  streams: Record<string, StreamPieces>
}

export async function readPieceIndex(path: string): Promise<PieceIndex> {
  const found: Partial<PieceIndex> = await readFile(path, 'utf8').then(
    text => JSON.parse(text) as Partial<PieceIndex>,
    () => ({})
  )
  return { ranges: found.ranges ?? {}, digests: found.digests ?? {}, streams: found.streams ?? {} }
}

/** The entry of `key`, if the record has one of its own (a key such as `constructor` is not one). */
export const entry = <T>(record: Record<string, T>, key: string): T | undefined =>
  Object.hasOwn(record, key) ? record[key] : undefined

/**
 * What says a file is unchanged without reading it, as make and git judge it: path, size, inode and
 * the nanosecond mtime and ctime (any write changes ctime, which no tool can set back).
 */
export async function fileIdentity(path: string): Promise<string> {
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

/** Raw pieces held in memory while they wait for a worker: a few per worker keep every one busy. */
const piecesInFlight = (): number => 2 * availableParallelism()

/**
 * Bytes gathered into runs handed to `piece`: cut at exactly `size` bytes (`cut`: a stream's pieces),
 * or handed on once they `reach` it (whole chunks: headers and small files). When more runs than
 * piecesInFlight() wait for a worker, appending waits for the oldest, so bytes are not read far ahead
 * of compression.
 */
export class PieceGatherer {
  private run: Buffer[] = []
  private runBytes = 0
  private readonly waiting: Promise<string>[] = []

  constructor(
    private readonly size: number,
    private readonly mode: 'cut' | 'reach',
    private readonly piece: (bytes: Buffer) => Promise<string>
  ) {}

  async append(bytes: Buffer): Promise<void> {
    for (let at = 0; at < bytes.length;) {
      const taken =
        this.mode === 'cut' ? bytes.subarray(at, at + this.size - this.runBytes) : bytes.subarray(at)
      this.run.push(taken)
      this.runBytes += taken.length
      at += taken.length
      if (this.runBytes >= this.size) await this.flush()
    }
  }

  /** Hands on what is gathered, if anything. */
  async flush(): Promise<void> {
    const bytes = Buffer.concat(this.run)
    this.run = []
    this.runBytes = 0
    if (bytes.length === 0) return
    this.waiting.push(this.piece(bytes))
    if (this.waiting.length > piecesInFlight()) await this.waiting.shift()!.catch(() => undefined)
  }
}
