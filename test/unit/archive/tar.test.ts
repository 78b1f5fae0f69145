// Tar archives read back with GNU tar, as upstream's `tar czf … --owner=0 --group=0` archives
// would be (kube-build-flow.md §3.5 create_tarball).
import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { chmod, mkdir, mkdtemp, readFile, readdir, rm, stat, utimes, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { ROOT_OWNER, tarBuffer, writeTarGz, type TarMember } from '../../../src/archive/tar.js'

interface Listed {
  mode: string
  owner: string
  size: number
  mtime: string
  path: string
}

/** `tar -tv` output, one entry per line: `drwxr-xr-x root/root 0 2024-01-02 03:04:05 path`. */
function gnuTarList(args: string[], input?: Buffer): Listed[] {
  const out = execFileSync('tar', ['--full-time', '--utc', ...args], {
    input,
    encoding: 'utf8',
    env: { ...process.env, LC_ALL: 'C', TZ: 'UTC' }
  })
  return out
    .split('\n')
    .filter(l => l !== '')
    .map(line => {
      const m = /^(\S{10})\s+(\S+)\s+(\d+)\s+(\S+ \S+)\s+(.*)$/.exec(line)
      expect(m, line).not.toBeNull()
      const [, mode, owner, size, mtime, path] = m as RegExpExecArray
      return { mode, owner, size: Number(size), mtime, path }
    })
}

let tmp: string
beforeEach(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'kube-tar-'))
})
afterEach(async () => {
  await rm(tmp, { recursive: true, force: true })
})

async function sourceFile(
  name: string,
  content: string | Buffer,
  mode: number,
  mtime?: Date
): Promise<string> {
  const path = join(tmp, 'src', name)
  await mkdir(join(tmp, 'src'), { recursive: true })
  await writeFile(path, content)
  await chmod(path, mode)
  if (mtime) await utimes(path, mtime, mtime)
  return path
}

const LONG_NAME = `${'a'.repeat(120)}.txt`
const LONG_DIR = `kubernetes/LICENSES/vendor/github.com/${'some-org'.repeat(8)}/`

describe('writeTarGz', () => {
  let members: TarMember[]
  let sources: Record<string, { content: Buffer; mode: number }>
  const mtime = new Date('2024-05-06T07:08:09Z')

  beforeEach(async () => {
    const big = randomBytes(3 * 1024 * 1024 + 17)
    sources = {
      'kubernetes/client/bin/kubectl': { content: big, mode: 0o755 },
      'kubernetes/client/bin/kubectl.sh': { content: Buffer.from('#!/bin/sh\necho hi\n'), mode: 0o750 },
      'kubernetes/README.md': { content: Buffer.from('# kubernetes\n'), mode: 0o644 },
      'kubernetes/secret': { content: Buffer.from('s\n'), mode: 0o600 },
      'kubernetes/empty': { content: Buffer.alloc(0), mode: 0o644 },
      [`${LONG_DIR}${LONG_NAME}`]: { content: Buffer.from('long\n'), mode: 0o644 }
    }
    const files: TarMember[] = []
    let i = 0
    for (const [path, { content, mode }] of Object.entries(sources)) {
      files.push({ kind: 'file', path, source: await sourceFile(`f${i++}`, content, mode, mtime) })
    }
    members = [
      { kind: 'dir', path: 'kubernetes/' },
      { kind: 'dir', path: 'kubernetes/addons/' },
      { kind: 'dir', path: 'kubernetes/client/' },
      { kind: 'dir', path: 'kubernetes/client/bin/' },
      ...files,
      { kind: 'data', path: 'kubernetes/version', data: 'v1.2.3\n', mode: 0o644 },
      { kind: 'data', path: 'kubernetes/run.sh', data: Buffer.from('#!/bin/sh\n'), mode: 0o755 }
    ]
  })

  it('writes a gzip file that GNU tar lists with every member, in order', async () => {
    const dest = join(tmp, 'out.tar.gz')
    await writeTarGz(dest, members)
    const head = (await readFile(dest)).subarray(0, 2)
    expect([...head]).toEqual([0x1f, 0x8b])
    expect(gnuTarList(['-tvzf', dest]).map(e => e.path)).toEqual(members.map(m => m.path))
  })

  it('every entry is owned by root/root, numerically 0/0', async () => {
    const dest = join(tmp, 'out.tar.gz')
    await writeTarGz(dest, members)
    for (const e of gnuTarList(['-tvzf', dest])) expect(e.owner, e.path).toBe('root/root')
    for (const e of gnuTarList(['--numeric-owner', '-tvzf', dest])) expect(e.owner, e.path).toBe('0/0')
  })

  it('directories are directory entries with mode 755', async () => {
    const dest = join(tmp, 'out.tar.gz')
    await writeTarGz(dest, members)
    const dirs = gnuTarList(['-tvzf', dest]).filter(e => e.path.endsWith('/'))
    expect(dirs.map(e => e.path)).toEqual(members.filter(m => m.kind === 'dir').map(m => m.path))
    for (const d of dirs) expect(d.mode, d.path).toBe('drwxr-xr-x')
  })

  it('files keep their source mode, size and mtime; data members their given mode', async () => {
    const dest = join(tmp, 'out.tar.gz')
    await writeTarGz(dest, members)
    const listed = new Map(gnuTarList(['-tvzf', dest]).map(e => [e.path, e]))
    const perms = (mode: number): string =>
      '-' +
      [6, 3, 0].map(s => ['r', 'w', 'x'].map((c, i) => ((mode >> s) & (4 >> i) ? c : '-')).join('')).join('')
    for (const [path, { content, mode }] of Object.entries(sources)) {
      const e = listed.get(path)
      expect(e, path).toBeDefined()
      expect(e?.mode, path).toBe(perms(mode))
      expect(e?.size, path).toBe(content.length)
      expect(e?.mtime, path).toBe('2024-05-06 07:08:09')
    }
    expect(listed.get('kubernetes/version')?.mode).toBe('-rw-r--r--')
    expect(listed.get('kubernetes/version')?.size).toBe(7)
    expect(listed.get('kubernetes/run.sh')?.mode).toBe('-rwxr-xr-x')
  })

  it('extracted contents are byte-identical to the sources and data', async () => {
    const dest = join(tmp, 'out.tar.gz')
    await writeTarGz(dest, members)
    const out = join(tmp, 'x')
    await mkdir(out)
    execFileSync('tar', ['-xpzf', dest, '-C', out])
    for (const [path, { content, mode }] of Object.entries(sources)) {
      expect((await readFile(join(out, path))).equals(content), path).toBe(true)
      expect((await stat(join(out, path))).mode & 0o777, path).toBe(mode)
    }
    expect(await readFile(join(out, 'kubernetes/version'), 'utf8')).toBe('v1.2.3\n')
    expect(await readFile(join(out, 'kubernetes/run.sh'), 'utf8')).toBe('#!/bin/sh\n')
    expect(await readdir(join(out, 'kubernetes/addons'))).toEqual([])
  })

  it('a path longer than 100 characters survives intact', async () => {
    const dest = join(tmp, 'out.tar.gz')
    await writeTarGz(dest, members)
    const path = `${LONG_DIR}${LONG_NAME}`
    expect(path.length).toBeGreaterThan(200)
    expect(gnuTarList(['-tvzf', dest]).map(e => e.path)).toContain(path)
    expect(execFileSync('tar', ['-xzOf', dest, path], { encoding: 'utf8' })).toBe('long\n')
  })

  it('a missing source rejects, leaving neither the archive nor a partial file', async () => {
    const dest = join(tmp, 'bad.tar.gz')
    const bad: TarMember[] = [
      ...members,
      { kind: 'file', path: 'kubernetes/nope', source: join(tmp, 'nope') }
    ]
    await expect(writeTarGz(dest, bad)).rejects.toThrow()
    const left = (await readdir(tmp)).filter(n => n.startsWith('bad.tar.gz'))
    expect(left).toEqual([])
  })

  it('replaces an existing archive of the same name', async () => {
    const dest = join(tmp, 'out.tar.gz')
    await writeFile(dest, 'old')
    await writeTarGz(dest, [{ kind: 'data', path: 'kubernetes/version', data: 'v1\n', mode: 0o644 }])
    expect(gnuTarList(['-tvzf', dest]).map(e => e.path)).toEqual(['kubernetes/version'])
  })
})

describe('tarBuffer', () => {
  const members: TarMember[] = [
    { kind: 'dir', path: 'ctx/' },
    { kind: 'data', path: 'ctx/Dockerfile', data: 'FROM scratch\n', mode: 0o644 },
    { kind: 'data', path: 'ctx/rsyncd.sh', data: '#!/bin/sh\n', mode: 0o755 }
  ]

  it('is an uncompressed tar, owned by root by default', async () => {
    const buf = await tarBuffer(members)
    const listed = gnuTarList(['-tvf', '-'], buf)
    expect(listed.map(e => [e.path, e.owner, e.mode])).toEqual([
      ['ctx/', 'root/root', 'drwxr-xr-x'],
      ['ctx/Dockerfile', 'root/root', '-rw-r--r--'],
      ['ctx/rsyncd.sh', 'root/root', '-rwxr-xr-x']
    ])
    expect(ROOT_OWNER).toEqual({ uid: 0, gid: 0 })
  })

  it('respects a non-root owner', async () => {
    const buf = await tarBuffer(members, { uid: 1001, gid: 127 })
    for (const e of gnuTarList(['--numeric-owner', '-tvf', '-'], buf))
      expect(e.owner, e.path).toBe('1001/127')
    // No user or group name is recorded for them, so tar shows the numbers.
    for (const e of gnuTarList(['-tvf', '-'], buf)) expect(e.owner, e.path).toBe('1001/127')
  })

  it('a root uid with another gid keeps both', async () => {
    const buf = await tarBuffer(members, { uid: 0, gid: 999 })
    for (const e of gnuTarList(['--numeric-owner', '-tvf', '-'], buf)) expect(e.owner, e.path).toBe('0/999')
  })

  it('extracts the data unchanged', async () => {
    const buf = await tarBuffer(members)
    expect(execFileSync('tar', ['-xOf', '-', 'ctx/Dockerfile'], { input: buf, encoding: 'utf8' })).toBe(
      'FROM scratch\n'
    )
  })
})
