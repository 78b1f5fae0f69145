// File capabilities as the kernel stores them in the `security.capability` extended attribute
// (linux/capability.h: struct vfs_cap_data). Pure: capability numbers in, attribute bytes out.
import { ReleaseError } from '../../errors.js'

export const CAPABILITY_XATTR = 'security.capability'

// Revision 2: a little-endian magic_etc word, then {permitted, inheritable} for each of two 32-bit words.
const VFS_CAP_REVISION_2 = 0x02000000
const VFS_CAP_FLAGS_EFFECTIVE = 0x000001
const VFS_CAP_U32_2 = 2
const XATTR_CAPS_SZ_2 = 4 * (1 + 2 * VFS_CAP_U32_2)
/** Revision 2 has room for capabilities 0–63. */
const MAX_CAPABILITY = 32 * VFS_CAP_U32_2 - 1

/**
 * The attribute `setcap <caps>=+ep` writes: the capabilities permitted, the effective flag set,
 * nothing inheritable, no namespace root (revision 3 is only for user namespaces).
 */
export function vfsCapData(capabilities: readonly number[]): Buffer {
  if (capabilities.length === 0) throw new ReleaseError('no capabilities to encode')
  const data = Buffer.alloc(XATTR_CAPS_SZ_2)
  data.writeUInt32LE(VFS_CAP_REVISION_2 | VFS_CAP_FLAGS_EFFECTIVE, 0)
  for (const cap of capabilities) {
    if (!Number.isInteger(cap) || cap < 0 || cap > MAX_CAPABILITY) {
      throw new ReleaseError(`invalid capability ${cap}: expected 0–${MAX_CAPABILITY}`)
    }
    const permitted = 4 + Math.floor(cap / 32) * 8
    data.writeUInt32LE((data.readUInt32LE(permitted) | (1 << (cap % 32))) >>> 0, permitted)
  }
  return data
}
