// The tar header encoder, read back by GNU tar and by python3's tarfile: POSIX ustar headers, with pax
// records for long paths, long link targets and extended attributes. Release tarballs are
// `tar czf … --owner=0 --group=0` archives (kube-build-flow.md §3.5 create_tarball): members owned by
// 0/0, which GNU tar names root/root.
import { lstat, mkdir, mkdtemp, readFile, readlink, rm, truncate, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import {
  BLOCK,
  END_OF_ARCHIVE,
  encodeHeader,
  padding,
  type EntryHeader
} from '../../../src/archive/tar-format.js'
import { gnuTar, gnuTarList, gnuTarXattrListing, pythonTarList, xattrsOf, type PyMember } from './readers.js'

let tmp: string
beforeEach(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'kube-tar-format-'))
})
afterEach(async () => {
  await rm(tmp, { recursive: true, force: true })
})

interface Entry {
  readonly header: EntryHeader
  readonly data?: Buffer
}

/** A plain tar file of the entries: header blocks, data padded to a block, the end-of-archive blocks. */
async function writeArchive(entries: readonly Entry[]): Promise<string> {
  const parts: Buffer[] = []
  for (const { header, data } of entries) {
    parts.push(encodeHeader(header))
    if (data) parts.push(data, Buffer.alloc((BLOCK - (data.length % BLOCK)) % BLOCK))
  }
  parts.push(Buffer.alloc(2 * BLOCK))
  const file = join(tmp, 'out.tar')
  await writeFile(file, Buffer.concat(parts))
  return file
}

const MTIME = new Date('2024-05-06T07:08:09Z')
const MTIME_TEXT = '2024-05-06 07:08:09'
const MTIME_SECONDS = 1714979289

function fileEntry(path: string, data: Buffer | string, more: Partial<EntryHeader> = {}): Entry {
  const bytes = Buffer.from(data)
  return {
    header: { path, type: 'file', mode: 0o644, size: bytes.length, mtime: MTIME, uid: 0, gid: 0, ...more },
    data: bytes
  }
}

/** A path of exactly `bytes` bytes under kubernetes/, in directories of at most 50 characters. */
function pathOfLength(bytes: number): string {
  let path = 'kubernetes/'
  while (bytes - path.length > 51) path += `${'d'.repeat(49)}/`
  return path + 'f'.repeat(bytes - path.length)
}

const hex = (s: string | Buffer): string => Buffer.from(s).toString('hex')

function onlyMember(members: PyMember[]): PyMember {
  expect(members).toHaveLength(1)
  return members[0]
}

// security.capability of `setcap cap_net_bind_service=+ep` (VFS_CAP_REVISION_2, effective,
// permitted bit 10), as upstream's kube-apiserver image carries it.
const CAPABILITY = Buffer.from([
  0x01,
  0x00,
  0x00,
  0x02,
  0x00,
  0x04,
  0x00,
  0x00,
  ...new Array<number>(12).fill(0)
])

describe('encodeHeader: a regular file', () => {
  it('owner 0/0 is named root/root; mode, size, mtime and content are kept (GNU tar)', async () => {
    const file = await writeArchive([
      fileEntry('kubernetes/server/bin/kube-scheduler', 'hello\n', { mode: 0o750 })
    ])
    expect(gnuTarList(file, { numeric: true })).toEqual([
      {
        mode: '-rwxr-x---',
        owner: '0/0',
        size: 6,
        mtime: MTIME_TEXT,
        path: 'kubernetes/server/bin/kube-scheduler'
      }
    ])
    expect(gnuTarList(file).map(e => e.owner)).toEqual(['root/root'])
    expect(gnuTar(['-xOf', file, 'kubernetes/server/bin/kube-scheduler'])).toBe('hello\n')
  })

  it('the same, read by python tarfile', async () => {
    const file = await writeArchive([
      fileEntry('kubernetes/server/bin/kube-scheduler', 'hello\n', { mode: 0o750 })
    ])
    expect(onlyMember(pythonTarList(file, 'r:'))).toMatchObject({
      name: 'kubernetes/server/bin/kube-scheduler',
      type: 'file',
      size: 6,
      mode: 0o750,
      uid: 0,
      gid: 0,
      uname: 'root',
      gname: 'root',
      mtime: MTIME_SECONDS,
      contentHex: hex('hello\n')
    })
  })

  it.each([
    [0o644, '-rw-r--r--'],
    [0o755, '-rwxr-xr-x'],
    [0o600, '-rw-------'],
    [0o4755, '-rwsr-xr-x'],
    [0o1777, '-rwxrwxrwt']
  ])('mode %o reads back as %s', async (mode, text) => {
    const file = await writeArchive([fileEntry('kubernetes/f', 'x', { mode })])
    expect(gnuTarList(file)[0].mode).toBe(text)
    expect(onlyMember(pythonTarList(file, 'r:')).mode).toBe(mode)
  })

  it.each([
    ['the epoch', new Date(0), 0, '1970-01-01 00:00:00'],
    [
      'a date with milliseconds (whole seconds kept)',
      new Date('2024-05-06T07:08:09.999Z'),
      MTIME_SECONDS,
      MTIME_TEXT
    ],
    ['a date after 2038', new Date('2100-01-02T03:04:05Z'), 4102542245, '2100-01-02 03:04:05']
  ])('mtime: %s', async (_what, mtime, seconds, text) => {
    const file = await writeArchive([fileEntry('kubernetes/f', 'x', { mtime })])
    expect(gnuTarList(file)[0].mtime).toBe(text)
    expect(onlyMember(pythonTarList(file, 'r:')).mtime).toBe(seconds)
  })

  it.each([0, 1, 511, 512, 513, 70_000])('%i bytes of content read back unchanged', async size => {
    const data = Buffer.alloc(size)
    for (let i = 0; i < size; i++) data[i] = (i * 7 + 3) % 251
    const file = await writeArchive([
      fileEntry('kubernetes/data', data),
      fileEntry('kubernetes/after', 'end\n')
    ])
    const [first, second] = pythonTarList(file, 'r:')
    expect(first).toMatchObject({ name: 'kubernetes/data', size, contentHex: data.toString('hex') })
    // The next header is found where the padded data ends.
    expect(second).toMatchObject({ name: 'kubernetes/after', contentHex: hex('end\n') })
    expect(gnuTarList(file).map(e => [e.path, e.size])).toEqual([
      ['kubernetes/data', size],
      ['kubernetes/after', 4]
    ])
  })

  it('a non-root owner keeps its numbers and is not named root', async () => {
    const file = await writeArchive([fileEntry('kubernetes/f', 'x', { uid: 1000, gid: 2000 })])
    expect(gnuTarList(file, { numeric: true })[0].owner).toBe('1000/2000')
    const member = onlyMember(pythonTarList(file, 'r:'))
    expect([member.uid, member.gid]).toEqual([1000, 2000])
    expect(member.uname).not.toBe('root')
    expect(member.gname).not.toBe('root')
  })

  it('uid 0 with another gid: only the user is root', async () => {
    const file = await writeArchive([fileEntry('kubernetes/f', 'x', { uid: 0, gid: 5 })])
    expect(gnuTarList(file, { numeric: true })[0].owner).toBe('0/5')
    const member = onlyMember(pythonTarList(file, 'r:'))
    expect([member.uid, member.gid, member.uname]).toEqual([0, 5, 'root'])
    expect(member.gname).not.toBe('root')
  })

  it('an owner too big for a ustar field is a pax uid/gid record, read back intact', async () => {
    const [uid, gid] = [0o10000000, 0o10000001] // one more than 7 octal digits hold, and the next
    const file = await writeArchive([fileEntry('kubernetes/f', 'x', { uid, gid })])
    expect(gnuTarList(file, { numeric: true })[0].owner).toBe(`${uid}/${gid}`)
    const member = onlyMember(pythonTarList(file, 'r:'))
    expect([member.uid, member.gid]).toEqual([uid, gid])
    expect(member.pax).toEqual({ uid: hex(String(uid)), gid: hex(String(gid)) })
  })

  it('an owner that fits 7 octal digits stays in the ustar header', async () => {
    const file = await writeArchive([fileEntry('kubernetes/f', 'x', { uid: 0o7777777, gid: 0o7777777 })])
    const member = onlyMember(pythonTarList(file, 'r:'))
    expect([member.uid, member.gid, member.pax]).toEqual([0o7777777, 0o7777777, {}])
  })

  it('a negative owner is refused', () => {
    expect(() => encodeHeader(fileEntry('kubernetes/f', 'x', { uid: -1 }).header)).toThrow(
      'tar uid must be a non-negative integer, not -1 (kubernetes/f)'
    )
  })

  it('a size of 8 GiB (beyond 11 octal digits) is a pax size record, read back intact', async () => {
    const size = 8 * 1024 ** 3
    const header = encodeHeader(fileEntry('kubernetes/huge', '', { size }).header)
    const file = join(tmp, 'huge.tar')
    await writeFile(file, header)
    // Sparse: the content and the end-of-archive blocks are zeros.
    await truncate(file, header.length + size + padding(size) + END_OF_ARCHIVE.length)
    expect(gnuTarList(file).map(e => [e.path, e.size])).toEqual([['kubernetes/huge', size]])
    const { size: read, pax } = onlyMember(pythonTarList(file, 'r:', { content: false }))
    expect([read, pax]).toEqual([size, { size: hex(String(size)) }])
  })

  it('an mtime before 1970 is a pax mtime record, read back intact', async () => {
    const mtime = new Date('1960-02-03T04:05:06Z')
    const file = await writeArchive([fileEntry('kubernetes/f', 'x', { mtime })])
    expect(gnuTarList(file)[0].mtime).toBe('1960-02-03 04:05:06')
    const member = onlyMember(pythonTarList(file, 'r:'))
    expect([member.mtime, member.pax]).toEqual([
      mtime.getTime() / 1000,
      { mtime: hex(String(mtime.getTime() / 1000)) }
    ])
  })
})

describe('encodeHeader: directories and symlinks', () => {
  it('a directory entry (trailing slash) and a symlink with its target', async () => {
    const file = await writeArchive([
      {
        header: {
          path: 'kubernetes/addons/',
          type: 'directory',
          mode: 0o755,
          size: 0,
          mtime: MTIME,
          uid: 0,
          gid: 0
        }
      },
      {
        header: {
          path: 'kubernetes/link',
          type: 'symlink',
          mode: 0o777,
          size: 0,
          mtime: MTIME,
          uid: 0,
          gid: 0,
          linkname: 'server/bin/kubectl'
        }
      }
    ])
    expect(gnuTarList(file, { numeric: true })).toEqual([
      { mode: 'drwxr-xr-x', owner: '0/0', size: 0, mtime: MTIME_TEXT, path: 'kubernetes/addons/' },
      {
        mode: 'lrwxrwxrwx',
        owner: '0/0',
        size: 0,
        mtime: MTIME_TEXT,
        path: 'kubernetes/link',
        target: 'server/bin/kubectl'
      }
    ])
    expect(pythonTarList(file, 'r:').map(m => [m.name, m.type, m.linkname, m.uname, m.gname])).toEqual([
      ['kubernetes/addons/', 'dir', '', 'root', 'root'],
      ['kubernetes/link', 'symlink', 'server/bin/kubectl', 'root', 'root']
    ])
  })
})

describe('encodeHeader: long names (pax records)', () => {
  it.each([100, 101, 150, 255, 256, 300, 1000])(
    'a file path of %i bytes is read back intact',
    async length => {
      const path = pathOfLength(length)
      expect(Buffer.byteLength(path)).toBe(length)
      const file = await writeArchive([fileEntry(path, 'long\n'), fileEntry('kubernetes/next', 'n\n')])
      expect(gnuTarList(file).map(e => e.path)).toEqual([path, 'kubernetes/next'])
      expect(gnuTar(['-xOf', file, path])).toBe('long\n')
      const [member, next] = pythonTarList(file, 'r:')
      expect(member).toMatchObject({ name: path, type: 'file', contentHex: hex('long\n'), uname: 'root' })
      if (length > 100) expect(member.pax.path).toBe(hex(path))
      expect(next.name).toBe('kubernetes/next')
    }
  )

  it.each([150, 300])('a directory path of %i bytes is read back intact', async length => {
    const path = `${pathOfLength(length - 1)}/`
    const file = await writeArchive([
      { header: { path, type: 'directory', mode: 0o755, size: 0, mtime: MTIME, uid: 0, gid: 0 } }
    ])
    expect(gnuTarList(file).map(e => [e.path, e.mode])).toEqual([[path, 'drwxr-xr-x']])
    expect(onlyMember(pythonTarList(file, 'r:'))).toMatchObject({ name: path, type: 'dir' })
  })

  it('a path under 100 characters but over 100 bytes (UTF-8) is read back intact', async () => {
    const path = `kubernetes/${'é'.repeat(60)}`
    expect(path.length).toBeLessThan(100)
    expect(Buffer.byteLength(path)).toBeGreaterThan(100)
    const file = await writeArchive([fileEntry(path, 'x')])
    expect(gnuTarList(file).map(e => e.path)).toEqual([path])
    expect(onlyMember(pythonTarList(file, 'r:')).name).toBe(path)
  })

  it.each([101, 300])('a symlink with a %i-byte target keeps the whole target', async length => {
    const target = `../${'t'.repeat(length - 3)}`
    const file = await writeArchive([
      {
        header: {
          path: 'kubernetes/link',
          type: 'symlink',
          mode: 0o777,
          size: 0,
          mtime: MTIME,
          uid: 0,
          gid: 0,
          linkname: target
        }
      }
    ])
    expect(gnuTarList(file)).toEqual([
      { mode: 'lrwxrwxrwx', owner: 'root/root', size: 0, mtime: MTIME_TEXT, path: 'kubernetes/link', target }
    ])
    const member = onlyMember(pythonTarList(file, 'r:'))
    expect(member).toMatchObject({ name: 'kubernetes/link', type: 'symlink', linkname: target })
    expect(member.pax.linkpath).toBe(hex(target))
  })

  it('a long symlink path with a long target', async () => {
    const path = pathOfLength(200)
    const target = pathOfLength(180)
    const file = await writeArchive([
      {
        header: {
          path,
          type: 'symlink',
          mode: 0o777,
          size: 0,
          mtime: MTIME,
          uid: 0,
          gid: 0,
          linkname: target
        }
      }
    ])
    expect(gnuTarList(file).map(e => [e.path, e.target])).toEqual([[path, target]])
    expect(onlyMember(pythonTarList(file, 'r:'))).toMatchObject({ name: path, linkname: target })
  })
})

describe('encodeHeader: extended attributes', () => {
  const capabilityEntry = (path: string): Entry =>
    fileEntry(path, 'binary\n', { mode: 0o755, xattrs: { 'security.capability': CAPABILITY } })

  it('security.capability is the pax record SCHILY.xattr.security.capability with the exact bytes', async () => {
    expect(CAPABILITY).toHaveLength(20)
    const file = await writeArchive([capabilityEntry('kubernetes/server/bin/kube-apiserver')])
    const member = onlyMember(pythonTarList(file, 'r:'))
    expect(member.pax['SCHILY.xattr.security.capability']).toBe('0100000200040000000000000000000000000000')
    expect(member).toMatchObject({
      name: 'kubernetes/server/bin/kube-apiserver',
      mode: 0o755,
      uid: 0,
      gid: 0,
      uname: 'root',
      gname: 'root',
      mtime: MTIME_SECONDS,
      contentHex: hex('binary\n')
    })
  })

  it('GNU tar reads the attribute: 20 bytes of security.capability', async () => {
    const file = await writeArchive([capabilityEntry('kubernetes/server/bin/kube-apiserver')])
    const listing = gnuTarXattrListing(file)
    expect(listing).toMatch(/kubernetes\/server\/bin\/kube-apiserver\n\s+x: 20 security\.capability\n/)
    expect(gnuTarList(file, { numeric: true })).toEqual([
      {
        mode: '-rwxr-xr-x',
        owner: '0/0',
        size: 7,
        mtime: MTIME_TEXT,
        path: 'kubernetes/server/bin/kube-apiserver'
      }
    ])
  })

  it('an attribute and a long path in one entry: both kept', async () => {
    const path = pathOfLength(260)
    const file = await writeArchive([capabilityEntry(path), fileEntry('kubernetes/plain', 'p')])
    const [member, plain] = pythonTarList(file, 'r:')
    expect(member.name).toBe(path)
    expect(member.pax['SCHILY.xattr.security.capability']).toBe(CAPABILITY.toString('hex'))
    expect(member.contentHex).toBe(hex('binary\n'))
    // Pax records belong to their entry only.
    expect(plain.pax).toEqual({})
    expect(gnuTarList(file).map(e => e.path)).toEqual([path, 'kubernetes/plain'])
  })
})

// Extraction restores owners and security.* attributes only for root (as CI runs it).
describe.runIf(process.getuid?.() === 0)(
  'GNU tar extraction (as root) restores every field as written',
  () => {
    const longFile = pathOfLength(180)
    const longLink = pathOfLength(150)
    const longTarget = `../${'t'.repeat(140)}`
    const everyByte = Buffer.from(Array.from({ length: 256 }, (_, i) => i))
    // vfs_cap_data revision 2, effective, permitted bit 7 (cap_setuid): a 0x80 byte.
    const setuidCapability = Buffer.from([1, 0, 0, 2, 0x80, 0, 0, 0, ...new Array<number>(12).fill(0)])
    const header = (path: string, more: Partial<EntryHeader>): EntryHeader => ({
      path,
      type: 'file',
      mode: 0o644,
      size: 0,
      mtime: MTIME,
      uid: 0,
      gid: 0,
      ...more
    })

    it('path, linkname, type, mode, uid, gid, size, mtime and binary xattrs', async () => {
      const archive = await writeArchive([
        { header: header('kubernetes/', { type: 'directory', mode: 0o755 }) },
        { header: header('kubernetes/owned/', { type: 'directory', mode: 0o750, uid: 1234, gid: 5678 }) },
        fileEntry('kubernetes/owned/data', 'data\n', {
          mode: 0o4751,
          uid: 1000,
          gid: 2000,
          xattrs: { 'user.every-byte': everyByte, 'security.capability': setuidCapability }
        }),
        fileEntry(longFile, 'long\n', { mode: 0o604, uid: 0o10000000, gid: 7 }),
        { header: header('kubernetes/link', { type: 'symlink', mode: 0o777, linkname: longTarget, uid: 3 }) },
        { header: header(longLink, { type: 'symlink', mode: 0o777, linkname: 'owned/data', gid: 4 }) }
      ])
      const dir = join(tmp, 'x')
      await mkdir(dir)
      gnuTar(['--xattrs', '--xattrs-include=*', '--numeric-owner', '-xpf', archive, '-C', dir])

      const seconds = MTIME_SECONDS
      const read = async (path: string) => {
        const info = await lstat(join(dir, path))
        const type = info.isFile()
          ? 'file'
          : info.isDirectory()
            ? 'directory'
            : info.isSymbolicLink()
              ? 'symlink'
              : 'other'
        return {
          type,
          mode: info.mode & 0o7777,
          uid: info.uid,
          gid: info.gid,
          size: info.isFile() ? info.size : 0,
          mtime: Math.floor(info.mtimeMs / 1000)
        }
      }
      expect(await read('kubernetes/owned')).toEqual({
        type: 'directory',
        mode: 0o750,
        uid: 1234,
        gid: 5678,
        size: 0,
        mtime: seconds
      })
      expect(await read('kubernetes/owned/data')).toEqual({
        type: 'file',
        mode: 0o4751,
        uid: 1000,
        gid: 2000,
        size: 5,
        mtime: seconds
      })
      expect(await read(longFile)).toEqual({
        type: 'file',
        mode: 0o604,
        uid: 0o10000000,
        gid: 7,
        size: 5,
        mtime: seconds
      })
      expect(await read('kubernetes/link')).toEqual({
        type: 'symlink',
        mode: 0o777,
        uid: 3,
        gid: 0,
        size: 0,
        mtime: seconds
      })
      expect(await read(longLink)).toEqual({
        type: 'symlink',
        mode: 0o777,
        uid: 0,
        gid: 4,
        size: 0,
        mtime: seconds
      })
      expect(await readFile(join(dir, 'kubernetes/owned/data'), 'utf8')).toBe('data\n')
      expect(await readFile(join(dir, longFile), 'utf8')).toBe('long\n')
      expect(await readlink(join(dir, 'kubernetes/link'))).toBe(longTarget)
      expect(await readlink(join(dir, longLink))).toBe('owned/data')
      const data = join(dir, 'kubernetes/owned/data')
      expect(xattrsOf([data])[data]).toEqual({
        'user.every-byte': everyByte.toString('hex'),
        'security.capability': setuidCapability.toString('hex')
      })
    })
  }
)

describe('ustar layout (POSIX)', () => {
  /** The checksum as POSIX defines it: the header's bytes summed with the checksum field read as spaces. */
  const checksum = (block: Buffer): number => {
    const copy = Buffer.from(block)
    copy.fill(' ', 148, 156)
    return copy.reduce((sum, byte) => sum + byte, 0)
  }

  it.each([
    ['a short path', fileEntry('kubernetes/f', 'x').header],
    ['a long path with an xattr', capabilityHeader()]
  ])('%s: whole blocks, magic "ustar\\0" version "00", valid checksums', (_what, header) => {
    const bytes = encodeHeader(header)
    expect(bytes.length % BLOCK).toBe(0)
    // The entry's own header is the last block (a pax header, when any, comes first).
    const blocks = [bytes.subarray(0, BLOCK), bytes.subarray(bytes.length - BLOCK)]
    for (const block of blocks) {
      expect(block.subarray(257, 263).toString('latin1')).toBe('ustar\0')
      expect(block.subarray(263, 265).toString('latin1')).toBe('00')
      expect(parseInt(block.subarray(148, 156).toString('latin1'), 8)).toBe(checksum(block))
    }
  })

  it('padding fills data to whole 512-byte blocks', () => {
    expect([0, 1, 511, 512, 513, 1024].map(padding)).toEqual([0, 511, 1, 0, 511, 0])
  })

  it('the end of an archive is two zero blocks', () => {
    expect(END_OF_ARCHIVE).toEqual(Buffer.alloc(1024))
  })
})

function capabilityHeader(): EntryHeader {
  return {
    path: pathOfLength(150),
    type: 'file',
    mode: 0o755,
    size: 0,
    mtime: MTIME,
    uid: 0,
    gid: 0,
    xattrs: { 'security.capability': CAPABILITY }
  }
}
