// The layer format of Windows images, as BuildKit writes it when it builds one on Linux: every path
// under `Files/`, a `Hives` and a `Files` directory first, and the Windows file attributes, security
// descriptor and creation time of each member as pax records (util/winlayers of moby/buildkit). Pure.
import type { TarMember } from '../../archive/tar.js'

/** The directory of a Windows layer that holds the file system; registry hives sit beside it. */
export const WINDOWS_FILES_DIR = 'Files'
const HIVES_DIR = 'Hives'

const FILE_ATTRIBUTE_DIRECTORY = 16
const FILE_ATTRIBUTE_ARCHIVE = 32

// Well-known SIDs as (identifier authority, sub-authorities).
const SID = {
  builtinAdministrators: [5, [32, 544]],
  localSystem: [5, [18]],
  builtinUsers: [5, [32, 545]],
  creatorOwner: [3, [0]]
} as const satisfies Record<string, readonly [number, readonly number[]]>
type Sid = (typeof SID)[keyof typeof SID]

// ACE flags and access masks of the SDDL strings below.
const OBJECT_INHERIT = 0x01
const CONTAINER_INHERIT = 0x02
const INHERIT_ONLY = 0x08
const FILE_ALL_ACCESS = 0x1f01ff
const GENERIC_ALL = 0x10000000
const READ_AND_EXECUTE = 0x1200a9
const LIST_CHILDREN = 0x4
const DELETE_CHILD = 0x2

function encodeSid([authority, subAuthorities]: Sid): Buffer {
  const sid = Buffer.alloc(8 + 4 * subAuthorities.length)
  sid.writeUInt8(1, 0)
  sid.writeUInt8(subAuthorities.length, 1)
  sid.writeUIntBE(authority, 2, 6)
  subAuthorities.forEach((value, i) => sid.writeUInt32LE(value, 8 + 4 * i))
  return sid
}

/** An ACCESS_ALLOWED ACE. */
function allow(flags: number, mask: number, sid: Sid): Buffer {
  const encoded = encodeSid(sid)
  const ace = Buffer.alloc(8)
  ace.writeUInt8(0, 0)
  ace.writeUInt8(flags, 1)
  ace.writeUInt16LE(8 + encoded.length, 2)
  ace.writeUInt32LE(mask, 4)
  return Buffer.concat([ace, encoded])
}

/** A self-relative security descriptor: owner BA, group SY, and a DACL of these ACEs. */
function securityDescriptor(aces: readonly Buffer[]): string {
  const owner = encodeSid(SID.builtinAdministrators)
  const group = encodeSid(SID.localSystem)
  const aclBody = Buffer.concat(aces)
  const acl = Buffer.alloc(8)
  acl.writeUInt8(2, 0)
  acl.writeUInt16LE(8 + aclBody.length, 2)
  acl.writeUInt16LE(aces.length, 4)
  const header = Buffer.alloc(20)
  header.writeUInt8(1, 0)
  header.writeUInt16LE(0x8004, 2) // SE_SELF_RELATIVE | SE_DACL_PRESENT
  header.writeUInt32LE(20, 4)
  header.writeUInt32LE(20 + owner.length, 8)
  header.writeUInt32LE(20 + owner.length + group.length, 16)
  return Buffer.concat([header, owner, group, acl, aclBody]).toString('base64')
}

/** O:BAG:SYD:(A;;FA;;;BA)(A;;FA;;;SY)(A;;0x1200a9;;;BU) */
export const FILE_SECURITY_DESCRIPTOR = securityDescriptor([
  allow(0, FILE_ALL_ACCESS, SID.builtinAdministrators),
  allow(0, FILE_ALL_ACCESS, SID.localSystem),
  allow(0, READ_AND_EXECUTE, SID.builtinUsers)
])

/** O:BAG:SYD:(A;OICI;FA;;;BA)(A;OICI;FA;;;SY)(A;;FA;;;BA)(A;OICIIO;GA;;;CO)(A;OICI;0x1200a9;;;BU)(A;CI;LC;;;BU)(A;CI;DC;;;BU) */
export const DIRECTORY_SECURITY_DESCRIPTOR = securityDescriptor([
  allow(OBJECT_INHERIT | CONTAINER_INHERIT, FILE_ALL_ACCESS, SID.builtinAdministrators),
  allow(OBJECT_INHERIT | CONTAINER_INHERIT, FILE_ALL_ACCESS, SID.localSystem),
  allow(0, FILE_ALL_ACCESS, SID.builtinAdministrators),
  allow(OBJECT_INHERIT | CONTAINER_INHERIT | INHERIT_ONLY, GENERIC_ALL, SID.creatorOwner),
  allow(OBJECT_INHERIT | CONTAINER_INHERIT, READ_AND_EXECUTE, SID.builtinUsers),
  allow(CONTAINER_INHERIT, LIST_CHILDREN, SID.builtinUsers),
  allow(CONTAINER_INHERIT, DELETE_CHILD, SID.builtinUsers)
])

function windowsRecords(kind: 'dir' | 'file', created: Date, descriptor: boolean): Record<string, string> {
  const seconds = Math.floor(created.getTime() / 1000)
  const nanos = (created.getTime() % 1000) * 1_000_000
  return {
    'MSWINDOWS.fileattr': String(kind === 'dir' ? FILE_ATTRIBUTE_DIRECTORY : FILE_ATTRIBUTE_ARCHIVE),
    ...(descriptor
      ? { 'MSWINDOWS.rawsd': kind === 'dir' ? DIRECTORY_SECURITY_DESCRIPTOR : FILE_SECURITY_DESCRIPTOR }
      : {}),
    'LIBARCHIVE.creationtime': `${seconds}.${nanos}`
  }
}

/**
 * The members of a Windows layer from those of a Linux-style one whose paths already start with
 * `Files/`: the `Hives` and `Files` directories first, then each member with its Windows records.
 */
export function windowsLayerMembers(members: readonly TarMember[], created: Date): TarMember[] {
  const top = (name: string): TarMember => ({
    kind: 'dir',
    path: `${name}/`,
    paxRecords: windowsRecords('dir', created, false)
  })
  const below = members.filter(m => m.path.replace(/\/$/, '') !== WINDOWS_FILES_DIR)
  return [
    top(HIVES_DIR),
    top(WINDOWS_FILES_DIR),
    ...below.map((member): TarMember => {
      if (member.kind !== 'dir' && member.kind !== 'file') return member
      return { ...member, paxRecords: windowsRecords(member.kind, created, true) }
    })
  ]
}
