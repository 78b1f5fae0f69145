// A reader of security.capability values as the kernel reads them (security/commoncap.c,
// get_vfs_caps_from_disk) and getcap shows them: the revision decides the size and how many 32-bit
// words each set has; the effective flag applies to every permitted capability. Not a test file.

const VFS_CAP_REVISION_MASK = 0xff000000
const VFS_CAP_FLAGS_EFFECTIVE = 0x000001
/** Revision → [attribute size, 32-bit words per set]. */
const REVISIONS = new Map([
  [0x01000000, [12, 1]],
  [0x02000000, [20, 2]],
  [0x03000000, [24, 2]]
])

export interface FileCapabilities {
  /** 1, 2 or 3. */
  readonly revision: number
  readonly effective: boolean
  readonly permitted: number[]
  readonly inheritable: number[]
}

export function readVfsCapData(data: Buffer): FileCapabilities {
  if (data.length < 4) throw new Error(`security.capability of ${data.length} bytes`)
  const magic = data.readUInt32LE(0)
  const revision = (magic & VFS_CAP_REVISION_MASK) >>> 0
  const layout = REVISIONS.get(revision)
  if (!layout) throw new Error(`unknown vfs_cap_data revision 0x${revision.toString(16)}`)
  const [size, words] = layout
  if (data.length !== size)
    throw new Error(`revision ${revision >>> 24} needs ${size} bytes, got ${data.length}`)
  const set = (offset: number): number[] => {
    const caps: number[] = []
    for (let word = 0; word < words; word++) {
      const bits = data.readUInt32LE(4 + word * 8 + offset)
      for (let bit = 0; bit < 32; bit++) if ((bits >>> bit) & 1) caps.push(word * 32 + bit)
    }
    return caps
  }
  return {
    revision: revision >>> 24,
    effective: (magic & VFS_CAP_FLAGS_EFFECTIVE) !== 0,
    permitted: set(0),
    inheritable: set(4)
  }
}
