// The tar format itself (POSIX ustar, with pax records for what ustar cannot hold), so that archives
// can be assembled piece by piece: a header here, file data compressed elsewhere.

export const BLOCK = 512

export interface EntryHeader {
  readonly path: string
  readonly type: 'file' | 'directory' | 'symlink'
  readonly mode: number
  readonly size: number
  readonly mtime: Date
  readonly uid: number
  readonly gid: number
  readonly linkname?: string
  /** Extended attributes as pax SCHILY.xattr records (e.g. security.capability). */
  readonly xattrs?: Readonly<Record<string, Buffer>>
  /** Other pax records, written as they are. */
  readonly paxRecords?: Readonly<Record<string, string>>
}

const TYPE_FLAGS = { file: '0', directory: '5', symlink: '2' } as const

/** Bytes of zero padding after `size` bytes of data. */
export const padding = (size: number): number => (BLOCK - (size % BLOCK)) % BLOCK

/** The two zero blocks that end an archive. */
export const END_OF_ARCHIVE = Buffer.alloc(2 * BLOCK)

function octal(value: number, width: number): string {
  return `${value.toString(8).padStart(width - 1, '0')}\0`
}

/** Whether a number fits an octal field of `width` bytes (its digits and a NUL). */
const fitsOctal = (value: number, width: number): boolean => value >= 0 && value < 8 ** (width - 1)

function ustarBlock(fields: {
  name: string
  mode: number
  uid: number
  gid: number
  size: number
  mtime: number
  type: string
  linkname: string
  uname: string
  gname: string
}): Buffer {
  const block = Buffer.alloc(BLOCK)
  block.write(fields.name, 0, 100, 'utf8')
  block.write(octal(fields.mode & 0o7777, 8), 100, 'ascii')
  block.write(octal(fields.uid, 8), 108, 'ascii')
  block.write(octal(fields.gid, 8), 116, 'ascii')
  block.write(octal(fields.size, 12), 124, 'ascii')
  block.write(octal(fields.mtime, 12), 136, 'ascii')
  block.write(fields.type, 156, 'ascii')
  block.write(fields.linkname, 157, 100, 'utf8')
  block.write('ustar\u000000', 257, 'binary')
  block.write(fields.uname, 265, 32, 'utf8')
  block.write(fields.gname, 297, 32, 'utf8')
  block.write(octal(0, 8), 329, 'ascii')
  block.write(octal(0, 8), 337, 'ascii')
  // The checksum is computed with its own field read as spaces.
  block.fill(' ', 148, 156)
  let sum = 0
  for (const byte of block) sum += byte
  block.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'ascii')
  return block
}

/** One pax record: "<length> <key>=<value>\n", the length counting itself. */
function paxRecord(key: string, value: Buffer): Buffer {
  const body = Buffer.concat([Buffer.from(` ${key}=`), value, Buffer.from('\n')])
  let length = body.length + 1
  while (String(length).length + body.length !== length) length = String(length).length + body.length
  return Buffer.concat([Buffer.from(String(length)), body])
}

/** The header blocks of one entry: a pax header first when ustar cannot hold a field or xattrs are set. */
export function encodeHeader(entry: EntryHeader): Buffer {
  for (const [field, value] of [
    ['uid', entry.uid],
    ['gid', entry.gid],
    ['size', entry.size]
  ] as const) {
    if (!Number.isSafeInteger(value) || value < 0)
      throw new Error(`tar ${field} must be a non-negative integer, not ${value} (${entry.path})`)
  }
  const records: Buffer[] = []
  // Numbers too big for their octal field (or an mtime before 1970) are pax records, the ustar field
  // left 0, as GNU tar and python's tarfile write them in pax format.
  const numeric = (key: string, value: number, width: number): number => {
    if (fitsOctal(value, width)) return value
    records.push(paxRecord(key, Buffer.from(String(value))))
    return 0
  }
  const uid = numeric('uid', entry.uid, 8)
  const gid = numeric('gid', entry.gid, 8)
  const size = numeric('size', entry.type === 'file' ? entry.size : 0, 12)
  const mtime = numeric('mtime', Math.floor(entry.mtime.getTime() / 1000), 12)
  const owner = { uid, gid, uname: entry.uid === 0 ? 'root' : '', gname: entry.gid === 0 ? 'root' : '' }
  const linkname = entry.linkname ?? ''
  if (Buffer.byteLength(entry.path) > 100) records.push(paxRecord('path', Buffer.from(entry.path)))
  if (Buffer.byteLength(linkname) > 100) records.push(paxRecord('linkpath', Buffer.from(linkname)))
  for (const [name, value] of Object.entries(entry.xattrs ?? {}))
    records.push(paxRecord(`SCHILY.xattr.${name}`, value))
  for (const [key, value] of Object.entries(entry.paxRecords ?? {}))
    records.push(paxRecord(key, Buffer.from(value)))
  const main = ustarBlock({
    name: entry.path.slice(0, 100),
    mode: entry.mode,
    ...owner,
    size,
    mtime,
    type: TYPE_FLAGS[entry.type],
    linkname: linkname.slice(0, 100)
  })
  if (records.length === 0) return main
  const pax = Buffer.concat(records)
  const paxHeader = ustarBlock({
    name: `PaxHeaders/${entry.path.split('/').filter(Boolean).pop() ?? 'entry'}`.slice(0, 100),
    mode: 0o644,
    ...owner,
    size: pax.length,
    mtime,
    type: 'x',
    linkname: ''
  })
  return Buffer.concat([paxHeader, pax, Buffer.alloc(padding(pax.length)), main])
}
