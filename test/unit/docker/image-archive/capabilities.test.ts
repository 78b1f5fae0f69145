// security.capability values (src/docker/image-archive/capabilities.ts) read back the way the kernel
// and getcap read them, for every capability the kernel knows (0 cap_chown … 40 cap_checkpoint_restore).
import { describe, expect, it } from 'vitest'
import { vfsCapData } from '../../../../src/docker/image-archive/capabilities.js'
import { readVfsCapData } from './vfs-cap-data.js'

/** CAP_LAST_CAP of the kernels this runs on (linux/capability.h). */
const CAP_LAST_CAP = 40
const EVERY_CAPABILITY = Array.from({ length: CAP_LAST_CAP + 1 }, (_, cap) => cap)

describe('vfsCapData', () => {
  it.each(EVERY_CAPABILITY)('capability %i is permitted and effective, nothing inheritable', cap => {
    expect(readVfsCapData(vfsCapData([cap]))).toEqual({
      revision: 2,
      effective: true,
      permitted: [cap],
      inheritable: []
    })
  })

  it('every capability at once, and bytes of 0x80 and above among them', () => {
    const data = vfsCapData(EVERY_CAPABILITY)
    expect(readVfsCapData(data).permitted).toEqual(EVERY_CAPABILITY)
    expect(data.some(byte => byte >= 0x80)).toBe(true)
  })

  it('several capabilities in any order, repeated ones once', () => {
    expect(readVfsCapData(vfsCapData([40, 10, 7, 31, 10, 32])).permitted).toEqual([7, 10, 31, 32, 40])
  })

  it('the highest capability revision 2 can hold', () => {
    expect(readVfsCapData(vfsCapData([63])).permitted).toEqual([63])
  })

  it.each([-1, 64, 1.5, Number.NaN])('capability %s is refused', cap => {
    expect(() => vfsCapData([cap])).toThrow(`invalid capability ${cap}: expected 0–63`)
  })

  it('no capabilities is refused', () => {
    expect(() => vfsCapData([])).toThrow('no capabilities to encode')
  })
})
