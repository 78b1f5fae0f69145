// Windows image layers as BuildKit writes them on Linux (moby/buildkit util/winlayers): its security
// descriptors are the reference bytes, and the layout is Hives/, Files/, then everything under Files/.
import { describe, expect, it } from 'vitest'
import type { TarMember } from '../../../../src/archive/tar.js'
import {
  DIRECTORY_SECURITY_DESCRIPTOR,
  FILE_SECURITY_DESCRIPTOR,
  windowsLayerMembers
} from '../../../../src/docker/image-archive/windows-layer.js'

// The values util/winlayers/differ.go writes as MSWINDOWS.rawsd.
const BUILDKIT_FILE_SD =
  'AQAEgBQAAAAkAAAAAAAAADAAAAABAgAAAAAABSAAAAAgAgAAAQEAAAAAAAUSAAAAAgBMAAMAAAAAABgA/wEfAAECAAAAAAAFIAAAACACAAAAABQA/wEfAAEBAAAAAAAFEgAAAAAAGACpABIAAQIAAAAAAAUgAAAAIQIAAA=='
const BUILDKIT_DIR_SD =
  'AQAEgBQAAAAkAAAAAAAAADAAAAABAgAAAAAABSAAAAAgAgAAAQEAAAAAAAUSAAAAAgCoAAcAAAAAAxgA/wEfAAECAAAAAAAFIAAAACACAAAAAxQA/wEfAAEBAAAAAAAFEgAAAAAAGAD/AR8AAQIAAAAAAAUgAAAAIAIAAAALFAAAAAAQAQEAAAAAAAMAAAAAAAMYAKkAEgABAgAAAAAABSAAAAAhAgAAAAIYAAQAAAABAgAAAAAABSAAAAAhAgAAAAIYAAIAAAABAgAAAAAABSAAAAAhAgAA'

describe('Windows layers', () => {
  it('the security descriptors, encoded from their SDDL, are the bytes BuildKit writes', () => {
    expect(FILE_SECURITY_DESCRIPTOR).toBe(BUILDKIT_FILE_SD)
    expect(DIRECTORY_SECURITY_DESCRIPTOR).toBe(BUILDKIT_DIR_SD)
  })

  it('Hives and Files first, then each member with its attributes, descriptor and creation time', () => {
    const created = new Date('2024-08-13T10:20:30.5Z')
    const members: TarMember[] = [
      { kind: 'dir', path: 'Files/', mode: 0o755 },
      { kind: 'dir', path: 'Files/kube-proxy/', mode: 0o755 },
      { kind: 'file', path: 'Files/kube-proxy/kube-proxy.exe', source: '/bin/kube-proxy.exe', mode: 0o755 }
    ]
    const creation = { 'LIBARCHIVE.creationtime': '1723544430.500000000' }
    expect(windowsLayerMembers(members, created)).toEqual([
      { kind: 'dir', path: 'Hives/', paxRecords: { 'MSWINDOWS.fileattr': '16', ...creation } },
      { kind: 'dir', path: 'Files/', paxRecords: { 'MSWINDOWS.fileattr': '16', ...creation } },
      {
        ...members[1],
        paxRecords: { 'MSWINDOWS.fileattr': '16', 'MSWINDOWS.rawsd': BUILDKIT_DIR_SD, ...creation }
      },
      {
        ...members[2],
        paxRecords: { 'MSWINDOWS.fileattr': '32', 'MSWINDOWS.rawsd': BUILDKIT_FILE_SD, ...creation }
      }
    ])
  })
})
