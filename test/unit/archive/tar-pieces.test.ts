// Release tarballs from compressed pieces: a big file cut into PIECE_BYTES pieces (one gzip member
// each, readable by gzip, GNU tar and python), pieces found again by content in a later run, and a
// binary inside an image archive given the pieces of the binary itself.
import { createHash, randomBytes } from 'node:crypto'
import { mkdir, mkdtemp, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { Digests } from '../../../src/archive/checksums.js'
import { PIECE_HASH } from '../../../src/archive/gzip-pool.js'
import { PIECE_BYTES, pieceRanges } from '../../../src/archive/pieces.js'
import { TarGzWriter } from '../../../src/archive/tar-gz.js'
import { tarBuffer, type TarMember } from '../../../src/archive/tar.js'
import { embeddedFiles } from '../../../src/archive/tar-layout.js'
import { writeDockerArchive, writeLayer } from '../../../src/docker/image-archive/docker-archive.js'
import { gnuTarList, gunzip, gzipMembers, gzipTest, pythonTarList } from './readers.js'

const MTIME = new Date('2024-05-06T07:08:09Z')

let tmp: string
let piecesDir: string
beforeEach(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'kube-tar-pieces-'))
  piecesDir = join(tmp, 'pieces')
})
afterEach(async () => {
  await rm(tmp, { recursive: true, force: true })
})

/** Random bytes that compress somewhat, as a binary does: random runs between repeated text. */
function binaryLike(size: number): Buffer {
  const bytes = Buffer.alloc(size)
  for (let at = 0; at < size; at += 8192) {
    randomBytes(4096).copy(bytes, at)
    bytes.fill('kubernetes ', at + 4096, Math.min(at + 8192, size))
  }
  return bytes
}

async function file(name: string, content: Buffer): Promise<string> {
  const path = join(tmp, name)
  await writeFile(path, content)
  return path
}

/** Writes one tarball with a writer of its own, as a run does: written, its digests taken, pruned. */
async function write(
  members: TarMember[],
  name: string
): Promise<{ dest: string; writer: TarGzWriter; digests: Digests }> {
  const writer = new TarGzWriter(piecesDir, { mtime: MTIME })
  const dest = join(tmp, name)
  try {
    await writer.write(dest, members)
    const digests = await writer.digests(dest)
    await writer.prune()
    return { dest, writer, digests }
  } finally {
    await writer.dispose()
  }
}

/** The file's digests, computed here from its bytes. */
async function digestsOfBytes(path: string): Promise<Digests> {
  const bytes = await readFile(path)
  return {
    sha256: createHash('sha256').update(bytes).digest('hex'),
    sha512: createHash('sha512').update(bytes).digest('hex')
  }
}

/** The piece file holding the compressed `raw` bytes. */
const piecePath = (raw: Buffer): string =>
  join(piecesDir, `${createHash(PIECE_HASH).update(raw).digest('hex')}-6.gz`)

describe('pieceRanges', () => {
  it('cuts the gaps and each extent from their own start', () => {
    const size = 2 * PIECE_BYTES
    expect(pieceRanges(size, [{ offset: 1000, size: PIECE_BYTES + 5 }])).toEqual([
      { offset: 0, length: 1000 },
      { offset: 1000, length: PIECE_BYTES },
      { offset: 1000 + PIECE_BYTES, length: 5 },
      { offset: 1005 + PIECE_BYTES, length: size - 1005 - PIECE_BYTES }
    ])
  })
})

describe('TarGzWriter pieces', { timeout: 120_000 }, () => {
  const size = 2 * PIECE_BYTES + 12345
  let big: Buffer
  let members: TarMember[]
  beforeEach(async () => {
    big = binaryLike(size)
    members = [
      { kind: 'dir', path: 'kubernetes/' },
      {
        kind: 'file',
        path: 'kubernetes/server/bin/kube-apiserver',
        source: await file('kube-apiserver', big)
      },
      { kind: 'data', path: 'kubernetes/version', data: 'v1.35.0\n', mode: 0o644 }
    ]
  })

  it('a file of several pieces: one gzip member per piece, decompressing to the tar tarBlocks gives', async () => {
    const { dest, writer } = await write(members, 'server.tar.gz')
    gzipTest(dest)
    const expected = await tarBuffer(members, { mtime: MTIME })
    expect(gunzip(dest).equals(expected)).toBe(true)
    const pieces = Math.ceil(size / PIECE_BYTES)
    // The header before the file, its pieces, and the rest after it.
    expect(gzipMembers(dest).members).toBe(pieces + 2)
    expect(writer.stats.compressed.pieces).toBe(pieces + 2)
    expect(gnuTarList(dest, { gzip: true }).map(e => [e.path, e.size])).toEqual([
      ['kubernetes/', 0],
      ['kubernetes/server/bin/kube-apiserver', size],
      ['kubernetes/version', 8]
    ])
    const python = pythonTarList(dest, 'r:gz')
    expect(python[1].contentHex === big.toString('hex')).toBe(true)
  })

  it('the same inputs twice give the same bytes, and the second run compresses nothing', async () => {
    const first = await write(members, 'a.tar.gz')
    const second = await write(members, 'b.tar.gz')
    expect((await readFile(second.dest)).equals(await readFile(first.dest))).toBe(true)
    expect(second.writer.stats.compressed).toEqual({ pieces: 0, bytes: 0 })
    expect(second.writer.stats.reused).toEqual(first.writer.stats.compressed)
  })

  it('an unchanged file is not read again: its pieces are found by its identity', async () => {
    const first = await write(members, 'a.tar.gz')
    expect(first.writer.stats.hashed).toEqual({ pieces: Math.ceil(size / PIECE_BYTES), bytes: size })
    const second = await write(members, 'b.tar.gz')
    expect(second.writer.stats.hashed).toEqual({ pieces: 0, bytes: 0 })
    expect((await readFile(second.dest)).equals(await readFile(first.dest))).toBe(true)
    // Rewritten with the same bytes: read and hashed again, found compressed, nothing compressed.
    await writeFile(join(tmp, 'kube-apiserver'), big)
    const third = await write(members, 'c.tar.gz')
    expect(third.writer.stats.hashed.bytes).toBe(size)
    expect(third.writer.stats.compressed).toEqual({ pieces: 0, bytes: 0 })
  })

  it('a tarball the writer assembled, inside another, is not read again when its pieces are those of the last run', async () => {
    /** One run: the inner tarball (as the src tarball), then an outer one holding it, as the server tarball does. */
    const run = async (name: string) => {
      const writer = new TarGzWriter(piecesDir, { mtime: MTIME })
      const inner = join(tmp, 'kubernetes-src.tar.gz')
      const outer = join(tmp, name)
      try {
        await writer.write(inner, members)
        const source = {
          kind: 'file',
          path: 'kubernetes/kubernetes-src.tar.gz',
          source: inner,
          mode: 0o644
        } as const
        await writer.write(outer, [source])
        await writer.prune()
        return { outer, hashed: writer.stats.hashed, innerBytes: (await readFile(inner)).length }
      } finally {
        await writer.dispose()
      }
    }
    const first = await run('a.tar.gz')
    // The inner tarball is rewritten (a new file) every run; the big file is read in the first only.
    const second = await run('b.tar.gz')
    expect(first.hashed.bytes).toBe(size + first.innerBytes)
    expect(second.hashed).toEqual({ pieces: 0, bytes: 0 })
    expect((await readFile(second.outer)).equals(await readFile(first.outer))).toBe(true)
  })

  it('a tarball made of the same piece files as in the last run: its digests are reused', async () => {
    const first = await write(members, 'a.tar.gz')
    expect(first.writer.stats.digests).toEqual({ reused: 0, computed: 1 })
    expect(first.digests).toEqual(await digestsOfBytes(first.dest))
    const second = await write(members, 'b.tar.gz')
    expect(second.writer.stats.digests).toEqual({ reused: 1, computed: 0 })
    expect(second.digests).toEqual(await digestsOfBytes(second.dest))
  })

  it('a piece removed between runs is compressed again: the digests are computed afresh', async () => {
    await write(members, 'a.tar.gz')
    await rm(piecePath(big.subarray(0, PIECE_BYTES)))
    const { dest, writer, digests } = await write(members, 'b.tar.gz')
    expect(writer.stats.compressed).toEqual({ pieces: 1, bytes: PIECE_BYTES })
    expect(writer.stats.digests).toEqual({ reused: 0, computed: 1 })
    expect(digests).toEqual(await digestsOfBytes(dest))
  })

  it('a piece compressed again by another zlib (other bytes): the digests are those of the new bytes', async () => {
    const first = await write(members, 'a.tar.gz')
    const raw = big.subarray(0, PIECE_BYTES)
    // As the writer puts a piece in place: written aside, then renamed over the old one.
    await writeFile(`${piecePath(raw)}.new`, gzipSync(raw, { level: 1 }))
    await rename(`${piecePath(raw)}.new`, piecePath(raw))
    const second = await write(members, 'b.tar.gz')
    expect(second.writer.stats.compressed).toEqual({ pieces: 0, bytes: 0 })
    expect(gunzip(second.dest).equals(gunzip(first.dest))).toBe(true)
    expect(second.digests).not.toEqual(first.digests)
    expect(second.digests).toEqual(await digestsOfBytes(second.dest))
    expect(second.writer.stats.digests).toEqual({ reused: 0, computed: 1 })
  })

  it('a changed piece of a file costs that piece alone', async () => {
    await write(members, 'a.tar.gz')
    big[PIECE_BYTES + 10] ^= 0xff
    await writeFile(join(tmp, 'kube-apiserver'), big)
    const { dest, writer } = await write(members, 'b.tar.gz')
    expect(writer.stats.compressed).toEqual({ pieces: 1, bytes: PIECE_BYTES })
    expect(gunzip(dest).equals(await tarBuffer(members, { mtime: MTIME }))).toBe(true)
    // Only the pieces this run used are left.
    expect((await readdir(piecesDir)).length).toBe(
      writer.stats.compressed.pieces + writer.stats.reused.pieces
    )
  })
})

describe('TarGzWriter.writeStream', { timeout: 120_000 }, () => {
  it('a tar given in chunks of any size: pieces of PIECE_BYTES, decompressing to the same bytes', async () => {
    const tar = await tarBuffer(
      [{ kind: 'file', path: 'big', source: await file('big', binaryLike(2 * PIECE_BYTES + 999)) }],
      { mtime: MTIME }
    )
    const writer = new TarGzWriter(piecesDir)
    const dest = join(tmp, 'src.tar.gz')
    try {
      await writer.writeStream(dest, 'tar', async function* () {
        for (let at = 0; at < tar.length; at += 100_000) yield tar.subarray(at, at + 100_000)
      })
    } finally {
      await writer.dispose()
    }
    expect(gunzip(dest).equals(tar)).toBe(true)
    expect(gzipMembers(dest).members).toBe(Math.ceil(tar.length / PIECE_BYTES))
  })

  it('a stream written under the same key before is assembled from its pieces without being opened', async () => {
    const tar = await tarBuffer(
      [{ kind: 'file', path: 'big', source: await file('big', binaryLike(PIECE_BYTES + 999)) }],
      { mtime: MTIME }
    )
    let opened = 0
    const openTar = async function* (): AsyncGenerator<Buffer> {
      opened++
      yield tar
    }
    const run = async (name: string): Promise<{ dest: string; writer: TarGzWriter }> => {
      const writer = new TarGzWriter(piecesDir)
      const dest = join(tmp, name)
      try {
        await writer.writeStream(dest, 'the tar', openTar)
        await writer.prune()
      } finally {
        await writer.dispose()
      }
      return { dest, writer }
    }
    const first = await run('a.tar.gz')
    const second = await run('b.tar.gz')
    expect(opened).toBe(1)
    expect(second.writer.stats.streams).toEqual({ reused: 1, read: 0 })
    expect(second.writer.stats.reused).toEqual(first.writer.stats.compressed)
    expect((await readFile(second.dest)).equals(await readFile(first.dest))).toBe(true)
    // The pieces were kept by the second run's prune: a third finds them too.
    expect((await run('c.tar.gz')).writer.stats.streams).toEqual({ reused: 1, read: 0 })
    // A piece gone: the stream is read again.
    await rm(piecePath(tar.subarray(0, PIECE_BYTES)))
    const fourth = await run('d.tar.gz')
    expect(opened).toBe(2)
    expect(fourth.writer.stats.streams).toEqual({ reused: 0, read: 1 })
    expect(gunzip(fourth.dest).equals(tar)).toBe(true)
  })

  it('a failing stream fails the write, leaving nothing at dest', async () => {
    const writer = new TarGzWriter(piecesDir)
    const dest = join(tmp, 'src.tar.gz')
    try {
      await expect(
        writer.writeStream(dest, 'tar', async function* () {
          yield Buffer.alloc(1024)
          throw new Error('git archive failed')
        })
      ).rejects.toThrow('git archive failed')
    } finally {
      await writer.dispose()
    }
    expect(await readdir(tmp)).not.toContain('src.tar.gz')
  })
})

describe('TarGzWriter with an image archive', { timeout: 120_000 }, () => {
  /** A docker-archive of a base layer and a layer holding `binary` at /usr/local/bin/kube-apiserver. */
  async function imageArchive(binary: Buffer, name: string): Promise<string> {
    const dir = join(tmp, `${name}-layers`)
    await mkdir(dir)
    const baseFile = await file(`${name}-base-file`, binaryLike(300 * 1024))
    const base = await writeLayer(
      join(dir, 'base.tar'),
      [
        { kind: 'dir', path: 'usr/' },
        { kind: 'file', path: 'usr/lib/libbase.so', source: baseFile, mode: 0o644 }
      ],
      MTIME
    )
    const binaryPath = await file(`${name}-binary`, binary)
    const top = await writeLayer(
      join(dir, 'top.tar'),
      [
        {
          kind: 'file',
          path: `usr/local/bin/${'long-directory-name/'.repeat(6)}kube-apiserver`,
          source: binaryPath,
          mode: 0o755,
          xattrs: { 'security.capability': Buffer.from([1, 0, 0, 2, 0, 4, 0, 0]) }
        }
      ],
      MTIME
    )
    const archive = join(tmp, `${name}.tar`)
    await writeDockerArchive(
      archive,
      { layers: [base, top], config: Buffer.from('{}'), tags: ['x:y'] },
      MTIME
    )
    return archive
  }

  it('finds the binary inside the layer inside the archive, at its offset', async () => {
    const binary = binaryLike(PIECE_BYTES + 777)
    const archive = await imageArchive(binary, 'image')
    const bytes = await readFile(archive)
    const extents = (await embeddedFiles(archive, 64 * 1024))!
    const found = extents.filter(e => e.size === binary.length)
    expect(found).toHaveLength(1)
    expect(bytes.subarray(found[0].offset, found[0].offset + binary.length).equals(binary)).toBe(true)
    expect(await embeddedFiles(await file('not-a-tar', randomBytes(4096)), 1)).toBeNull()
  })

  it.each([
    ['the same binary: its pieces are reused for the archive', true],
    ['another binary in the image: everything compressed', false]
  ])('%s, the tarball decompressing to the tar tarBlocks gives', async (_what, same) => {
    const binary = binaryLike(2 * PIECE_BYTES + 4321)
    const inImage = same ? binary : binaryLike(binary.length)
    const archive = await imageArchive(inImage, 'kube-apiserver')
    const members: TarMember[] = [
      { kind: 'file', path: 'kubernetes/server/bin/kube-apiserver', source: await file('bin', binary) },
      { kind: 'file', path: 'kubernetes/server/bin/kube-apiserver.tar', source: archive }
    ]
    const { dest, writer } = await write(members, 'server.tar.gz')
    expect(gunzip(dest).equals(await tarBuffer(members, { mtime: MTIME }))).toBe(true)
    expect(writer.stats.reused.bytes).toBe(same ? binary.length : 0)
    const distinct = (await tarBuffer(members, { mtime: MTIME })).length - (same ? binary.length : 0)
    // Every byte but the reused ones was compressed once; headers and padding are in the tar's length.
    expect(writer.stats.compressed.bytes).toBe(distinct)
    const sha = createHash(PIECE_HASH).update(binary.subarray(0, PIECE_BYTES)).digest('hex')
    expect(await readdir(piecesDir)).toContain(`${sha}-6.gz`)
  })
})
