// The overlay model of a base image's file system (src/docker/image-archive/overlay.ts): layers
// merged as overlayfs shows them, and where a Dockerfile COPY would put a file in the result.
import { describe, expect, it } from 'vitest'
import {
  MAX_SYMLINK_HOPS,
  applyLayer,
  mergeLayers,
  placeInRootfs,
  type LayerMember,
  type Rootfs
} from '../../../../src/docker/image-archive/overlay.js'

const dir = (name: string, more: Partial<LayerMember> = {}): LayerMember => ({
  name,
  type: 'directory',
  mode: 0o755,
  uid: 0,
  gid: 0,
  linkname: '',
  ...more
})
const file = (name: string, more: Partial<LayerMember> = {}): LayerMember => ({
  ...dir(name),
  type: 'other',
  mode: 0o644,
  ...more
})
const link = (name: string, linkname: string): LayerMember => ({
  ...dir(name),
  type: 'symlink',
  mode: 0o777,
  linkname
})

/** Each path with its type, `path -> target` for symlinks, sorted. */
const listing = (rootfs: Rootfs): string[] =>
  [...rootfs]
    .map(([path, e]) => (e.type === 'symlink' ? `${path} -> ${e.linkname}` : `${path} ${e.type}`))
    .sort()

describe('merging layers', () => {
  it('member names become paths without ./, leading or trailing slashes', () => {
    const rootfs = mergeLayers([[dir('./'), dir('./usr/'), dir('/etc'), file('usr/../etc/hostname')]])
    expect(listing(rootfs)).toEqual(['etc directory', 'etc/hostname other', 'usr directory'])
  })

  it('a whiteout hides the lower path and everything below it', () => {
    const rootfs = mergeLayers([
      [dir('bin'), file('bin/old-tool'), dir('bin/sub'), file('bin/sub/x'), file('binary')],
      [file('.wh.bin')]
    ])
    expect(listing(rootfs)).toEqual(['binary other'])
  })

  it('a whiteout and a new path of the same name in one layer: the lower one goes, the new one stays', () => {
    const rootfs = mergeLayers([
      [dir('bin'), file('bin/old-tool'), dir('usr'), dir('usr/bin')],
      [file('.wh.bin'), link('bin', 'usr/bin')]
    ])
    expect(listing(rootfs)).toEqual(['bin -> usr/bin', 'usr directory', 'usr/bin directory'])
  })

  it('a whiteout in a subdirectory hides only that path', () => {
    const rootfs = mergeLayers([[dir('etc'), file('etc/a'), file('etc/ab')], [file('etc/.wh.a')]])
    expect(listing(rootfs)).toEqual(['etc directory', 'etc/ab other'])
  })

  it('an opaque whiteout empties the lower directory but keeps it and what its own layer adds', () => {
    const rootfs = mergeLayers([
      [dir('opt', { mode: 0o700, uid: 7 }), file('opt/a'), dir('opt/d'), file('opt/d/b'), file('optional')],
      [file('opt/.wh..wh..opq'), file('opt/new')]
    ])
    expect(listing(rootfs)).toEqual(['opt directory', 'opt/new other', 'optional other'])
    expect(rootfs.get('opt')).toMatchObject({ mode: 0o700, uid: 7 })
  })

  it('an opaque whiteout at the root empties the whole lower file system', () => {
    const rootfs = mergeLayers([
      [dir('etc'), file('etc/a')],
      [file('.wh..wh..opq'), dir('srv')]
    ])
    expect(listing(rootfs)).toEqual(['srv directory'])
  })

  it('a file replacing a directory hides what the directory held', () => {
    const rootfs = mergeLayers([[dir('opt'), file('opt/a'), dir('opt/d'), file('opt/d/b')], [file('opt')]])
    expect(listing(rootfs)).toEqual(['opt other'])
  })

  it('a symlink replacing a directory hides what the directory held', () => {
    const rootfs = mergeLayers([[dir('lib'), file('lib/a')], [link('lib', 'usr/lib')]])
    expect(listing(rootfs)).toEqual(['lib -> usr/lib'])
  })

  it('a directory over a directory keeps the lower contents and takes the upper metadata', () => {
    const rootfs = mergeLayers([
      [dir('etc', { mode: 0o755 }), file('etc/a')],
      [dir('etc', { mode: 0o750, gid: 4 })]
    ])
    expect(listing(rootfs)).toEqual(['etc directory', 'etc/a other'])
    expect(rootfs.get('etc')).toMatchObject({ mode: 0o750, gid: 4 })
  })

  it('applyLayer changes the map it is given', () => {
    const rootfs: Rootfs = new Map()
    applyLayer(rootfs, [dir('a')])
    applyLayer(rootfs, [file('.wh.a'), file('b')])
    expect(listing(rootfs)).toEqual(['b other'])
  })
})

describe('placing a file', () => {
  const base = (...members: LayerMember[]): Rootfs => mergeLayers([members])

  it('without symlinks: the path as given, parents with the base`s metadata or 0755 0/0 when new', () => {
    const rootfs = base(dir('usr', { mode: 0o750, uid: 1, gid: 2 }), dir('usr/local', { mode: 0o775 }))
    expect(placeInRootfs(rootfs, '/usr/local/bin/kube-apiserver')).toEqual({
      path: 'usr/local/bin/kube-apiserver',
      parents: [
        { path: 'usr', mode: 0o750, uid: 1, gid: 2 },
        { path: 'usr/local', mode: 0o775, uid: 0, gid: 0 },
        { path: 'usr/local/bin', mode: 0o755, uid: 0, gid: 0 }
      ]
    })
  })

  it('a file at the root has no parents', () => {
    expect(placeInRootfs(new Map(), '/go-runner')).toEqual({ path: 'go-runner', parents: [] })
  })

  it('through a relative directory symlink (merged /usr: bin -> usr/bin)', () => {
    const rootfs = base(dir('usr'), dir('usr/bin', { mode: 0o711 }), link('bin', 'usr/bin'))
    expect(placeInRootfs(rootfs, '/bin/kubectl')).toEqual({
      path: 'usr/bin/kubectl',
      parents: [
        { path: 'usr', mode: 0o755, uid: 0, gid: 0 },
        { path: 'usr/bin', mode: 0o711, uid: 0, gid: 0 }
      ]
    })
  })

  it('through a relative symlink in a subdirectory, resolved from the link`s directory', () => {
    const rootfs = base(dir('usr'), dir('usr/local'), link('usr/local/bin', '../bin'), dir('usr/bin'))
    expect(placeInRootfs(rootfs, '/usr/local/bin/x').path).toBe('usr/bin/x')
  })

  it('through an absolute symlink, resolved from the image root, not the host`s', () => {
    const rootfs = base(dir('usr'), dir('usr/local'), link('usr/local/bin', '/opt/bin'))
    expect(placeInRootfs(rootfs, '/usr/local/bin/x').path).toBe('opt/bin/x')
  })

  it('through chained symlinks', () => {
    const rootfs = base(link('bin', 'usr/bin'), link('usr', 'real/usr'), dir('real'), dir('real/usr'))
    expect(placeInRootfs(rootfs, '/bin/x').path).toBe('real/usr/bin/x')
  })

  it.each([
    ['a relative link climbing out of the root', '../../../../opt'],
    ['an absolute link climbing out of the root', '/../../opt'],
    ['a link with . and // parts', './../..//../opt/.']
  ])('%s stays inside the root, as in a chroot', (_what, target) => {
    const rootfs = base(dir('usr'), dir('usr/local'), link('usr/local/bin', target))
    expect(placeInRootfs(rootfs, '/usr/local/bin/x').path).toBe('opt/x')
  })

  it('a symlink loop is an error after the hop limit', () => {
    const rootfs = base(link('a', 'b'), link('b', 'a'))
    expect(() => placeInRootfs(rootfs, '/a/x')).toThrow(
      'cannot place /a/x in the base image: too many levels of symbolic links'
    )
  })

  it('a link to a path under itself grows until the hop limit, then is an error', () => {
    const rootfs = base(link('a', 'a/b'))
    expect(() => placeInRootfs(rootfs, '/a/x')).toThrow('too many levels of symbolic links')
  })

  it(`a chain of ${MAX_SYMLINK_HOPS} symlinks is followed; one more is an error`, () => {
    const chain = (length: number): Rootfs =>
      base(...Array.from({ length }, (_, i) => link(`l${i}`, i === length - 1 ? 'target' : `l${i + 1}`)))
    expect(placeInRootfs(chain(MAX_SYMLINK_HOPS), '/l0/x').path).toBe('target/x')
    expect(() => placeInRootfs(chain(MAX_SYMLINK_HOPS + 1), '/l0/x')).toThrow(
      'too many levels of symbolic links'
    )
  })

  it('a parent that is a file in the base is an error naming it', () => {
    const rootfs = base(dir('usr'), file('usr/local'))
    expect(() => placeInRootfs(rootfs, '/usr/local/bin/x')).toThrow(
      'cannot place /usr/local/bin/x in the base image: /usr/local is not a directory there'
    )
  })

  it('a symlink to a file as a parent is an error naming the file', () => {
    const rootfs = base(dir('etc'), file('etc/hostname'), link('bin', 'etc/hostname'))
    expect(() => placeInRootfs(rootfs, '/bin/x')).toThrow('/etc/hostname is not a directory there')
  })

  it('a dangling directory symlink: the file goes where it points, the directories made new', () => {
    const rootfs = base(link('bin', 'usr/bin'))
    expect(placeInRootfs(rootfs, '/bin/x')).toEqual({
      path: 'usr/bin/x',
      parents: [
        { path: 'usr', mode: 0o755, uid: 0, gid: 0 },
        { path: 'usr/bin', mode: 0o755, uid: 0, gid: 0 }
      ]
    })
  })
})
