// Tar archives from member plans: in-memory tars (tarBuffer) and release .tar.gz files (TarGzWriter),
// read back with GNU tar, python3's tarfile and gzip, as upstream's `tar czf … --owner=0 --group=0`
// archives would be (kube-build-flow.md §3.5 create_tarball; §6 SOURCE_DATE_EPOCH for fixed mtimes).
import { execFileSync } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { mkdirSync } from 'node:fs'
import {
  appendFile,
  chmod,
  mkdir,
  mkdtemp,
  readFile,
  readdir,
  readlink,
  rm,
  stat,
  symlink,
  truncate,
  utimes,
  writeFile
} from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { PIECE_HASH } from '../../../src/archive/gzip-pool.js'
import { TarGzWriter } from '../../../src/archive/tar-gz.js'
import { tarBlocks, tarBuffer, type StreamedTarMember, type TarMember } from '../../../src/archive/tar.js'
import { gnuTar, gnuTarList, gzipMembers, gzipTest, gunzip, pythonTarList } from './readers.js'

// Test hooks in the file system calls the archive code makes: something to do right after a file was
// stat'ed (to change it while it is being archived), and every path opened for writing.
const fsHooks = vi.hoisted(() => ({
  afterLstat: new Map<string, () => Promise<void>>(),
  openedForWriting: [] as string[]
}))
vi.mock('node:fs/promises', async importOriginal => {
  const actual = await importOriginal<typeof import('node:fs/promises')>()
  const lstat = (async (path: string, ...rest: unknown[]) => {
    const info = await (actual.lstat as (...args: unknown[]) => Promise<unknown>)(path, ...rest)
    await fsHooks.afterLstat.get(String(path))?.()
    return info
  }) as typeof actual.lstat
  return { ...actual, lstat, default: { ...actual, lstat } }
})
vi.mock('node:fs', async importOriginal => {
  const actual = await importOriginal<typeof import('node:fs')>()
  const createWriteStream = ((path: string, ...rest: unknown[]) => {
    fsHooks.openedForWriting.push(String(path))
    return (actual.createWriteStream as (...args: unknown[]) => unknown)(path, ...rest)
  }) as typeof actual.createWriteStream
  return { ...actual, createWriteStream, default: { ...actual, createWriteStream } }
})

let tmp: string
let srcDir: string
let workDir: string
let outDir: string
beforeEach(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'kube-tar-'))
  srcDir = join(tmp, 'src')
  workDir = join(tmp, 'work')
  outDir = join(tmp, 'out')
  await Promise.all([srcDir, workDir, outDir].map(d => mkdir(d)))
  fsHooks.afterLstat.clear()
  fsHooks.openedForWriting.length = 0
})
afterEach(async () => {
  fsHooks.afterLstat.clear()
  await rm(tmp, { recursive: true, force: true })
})

const MTIME = new Date('2024-05-06T07:08:09Z')
const MTIME_TEXT = '2024-05-06 07:08:09'
const MTIME_SECONDS = 1714979289

async function sourceFile(
  name: string,
  content: string | Buffer,
  mode = 0o644,
  mtime?: Date
): Promise<string> {
  const path = join(srcDir, name)
  await writeFile(path, content)
  await chmod(path, mode)
  if (mtime) await utimes(path, mtime, mtime)
  return path
}

function extract(archive: string, gzip: boolean): string {
  const dir = join(tmp, `x-${Math.random().toString(36).slice(2)}`)
  mkdirSync(dir, { recursive: true })
  gnuTar([gzip ? '-xzf' : '-xf', archive, '-C', dir])
  return dir
}

describe('tarBuffer', () => {
  let members: TarMember[]
  let script: string
  beforeEach(async () => {
    script = await sourceFile('script.sh', '#!/bin/sh\necho hi\n', 0o750, new Date('2020-01-02T03:04:05Z'))
    members = [
      { kind: 'dir', path: 'ctx/' },
      { kind: 'data', path: 'ctx/Dockerfile', data: 'FROM scratch\n', mode: 0o644 },
      { kind: 'data', path: 'ctx/run.sh', data: Buffer.from('#!/bin/sh\n'), mode: 0o755 },
      { kind: 'file', path: 'ctx/script.sh', source: script },
      { kind: 'symlink', path: 'ctx/link', target: 'script.sh' }
    ]
  })

  const list = (buf: Buffer, numeric = true) => gnuTarList('-', { numeric, input: buf })

  it('is an uncompressed tar of the members in order, owned by 0/0 (root/root) by default', async () => {
    const buf = await tarBuffer(members)
    expect(buf.subarray(0, 2).equals(Buffer.from([0x1f, 0x8b]))).toBe(false)
    expect(list(buf).map(e => [e.path, e.owner, e.mode])).toEqual([
      ['ctx/', '0/0', 'drwxr-xr-x'],
      ['ctx/Dockerfile', '0/0', '-rw-r--r--'],
      ['ctx/run.sh', '0/0', '-rwxr-xr-x'],
      ['ctx/script.sh', '0/0', '-rwxr-x---'],
      ['ctx/link', '0/0', 'lrwxrwxrwx']
    ])
    expect(new Set(list(buf, false).map(e => e.owner))).toEqual(new Set(['root/root']))
    expect(list(buf).find(e => e.path === 'ctx/link')?.target).toBe('script.sh')
  })

  it('contents read back unchanged', async () => {
    const buf = await tarBuffer(members)
    expect(gnuTar(['-xOf', '-', 'ctx/Dockerfile'], buf)).toBe('FROM scratch\n')
    expect(gnuTar(['-xOf', '-', 'ctx/run.sh'], buf)).toBe('#!/bin/sh\n')
    expect(gnuTar(['-xOf', '-', 'ctx/script.sh'], buf)).toBe('#!/bin/sh\necho hi\n')
  })

  it('an owner option sets uid and gid of every member', async () => {
    const buf = await tarBuffer(members, { owner: { uid: 1001, gid: 127 } })
    expect(new Set(list(buf).map(e => e.owner))).toEqual(new Set(['1001/127']))
    const file = join(tmp, 'b.tar')
    await writeFile(file, buf)
    for (const m of pythonTarList(file, 'r:')) {
      expect([m.uid, m.gid, m.uname], m.name).not.toContain('root')
      expect([m.uid, m.gid], m.name).toEqual([1001, 127])
    }
  })

  it('an mtime option sets the mtime of every member: files, directories, data and symlinks', async () => {
    const buf = await tarBuffer(members, { mtime: MTIME })
    expect(new Set(list(buf).map(e => e.mtime))).toEqual(new Set([MTIME_TEXT]))
  })

  it('without an mtime option a file keeps its own mtime, and the rest get the current time', async () => {
    const before = Date.now()
    const buf = await tarBuffer(members)
    const listed = new Map(list(buf).map(e => [e.path, e]))
    expect(listed.get('ctx/script.sh')?.mtime).toBe('2020-01-02 03:04:05')
    for (const path of ['ctx/', 'ctx/Dockerfile', 'ctx/link']) {
      const at = Date.parse(`${listed.get(path)?.mtime.replace(' ', 'T')}Z`)
      expect(at, path).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000)
      expect(at, path).toBeLessThanOrEqual(Date.now())
    }
  })

  it.each([
    ['a directory', (dir: string) => mkdir(dir)],
    ['a symlink', (path: string) => symlink('/etc/hostname', path)]
  ])('a file member whose source is %s is refused', async (_what, make) => {
    const source = join(srcDir, 'odd')
    await make(source)
    await expect(tarBuffer([{ kind: 'file', path: 'x', source }])).rejects.toThrow(source)
  })

  it('a file that grows after it was measured is an error', async () => {
    fsHooks.afterLstat.set(script, () => appendFile(script, 'more\n'))
    await expect(tarBuffer(members)).rejects.toThrow(script)
  })
})

describe('tarBlocks with a streamed member', () => {
  const blocks = async (members: Parameters<typeof tarBlocks>[0]): Promise<Buffer> => {
    const parts: Buffer[] = []
    for await (const block of tarBlocks(members, { mtime: MTIME })) parts.push(block)
    return Buffer.concat(parts)
  }
  const streamed = (size: number, chunks: readonly Buffer[]): StreamedTarMember => ({
    kind: 'stream',
    path: 'a/layer.tar',
    mode: 0o644,
    size,
    content: async function* () {
      yield* chunks
    }
  })

  it('holds the content as given, chunk after chunk, with its mode and a following member', async () => {
    const content = randomBytes(1500)
    const chunks = [content.subarray(0, 700), content.subarray(700)]
    const file = join(tmp, 'streamed.tar')
    await writeFile(
      file,
      await blocks([
        streamed(content.length, chunks),
        { kind: 'data', path: 'b', data: 'after', mode: 0o600 }
      ])
    )
    expect(gnuTarList(file, { numeric: true }).map(e => [e.path, e.mode, e.owner, e.size, e.mtime])).toEqual([
      ['a/layer.tar', '-rw-r--r--', '0/0', 1500, MTIME_TEXT],
      ['b', '-rw-------', '0/0', 5, MTIME_TEXT]
    ])
    expect(pythonTarList(file, 'r:')[0].contentHex).toBe(content.toString('hex'))
  })

  it.each([
    ['fewer', 400],
    ['more', 600]
  ])('content of %s bytes than announced is an error naming the member', async (_what, given) => {
    await expect(blocks([streamed(500, [Buffer.alloc(given)])])).rejects.toThrow(
      `a/layer.tar: 500 bytes announced, ${given} given`
    )
  })
})

// Readers run as processes for every tarball: slow on a busy machine.
describe('TarGzWriter', { timeout: 60_000 }, () => {
  let big: Buffer
  let bigPath: string
  let client: TarMember[]
  let node: TarMember[]
  /** Path in the archive → expected content, per tarball. */
  let expected: Record<'client' | 'node', Map<string, Buffer>>
  const LONG = `kubernetes/LICENSES/vendor/github.com/${'some-org'.repeat(10)}/${'a'.repeat(120)}/LICENSE`

  beforeEach(async () => {
    big = randomBytes(300 * 1024)
    bigPath = await sourceFile('kubectl', big, 0o755, MTIME)
    const convert = Buffer.from('#!/bin/sh\nconvert\n')
    const kubelet = randomBytes(5000)
    const license = Buffer.from('Apache License\n')
    const convertPath = await sourceFile('kubectl-convert', convert, 0o755)
    const kubeletPath = await sourceFile('kubelet', kubelet, 0o750)
    const licensePath = await sourceFile('LICENSE', license, 0o644)
    const emptyPath = await sourceFile('empty', '', 0o644)
    client = [
      { kind: 'dir', path: 'kubernetes/' },
      { kind: 'dir', path: 'kubernetes/client/' },
      { kind: 'dir', path: 'kubernetes/client/bin/' },
      { kind: 'file', path: 'kubernetes/client/bin/kubectl', source: bigPath },
      { kind: 'file', path: 'kubernetes/client/bin/kubectl-convert', source: convertPath }
    ]
    node = [
      { kind: 'dir', path: 'kubernetes/' },
      { kind: 'file', path: LONG, source: licensePath },
      { kind: 'file', path: 'kubernetes/empty', source: emptyPath },
      { kind: 'dir', path: 'kubernetes/node/' },
      { kind: 'dir', path: 'kubernetes/node/bin/' },
      { kind: 'file', path: 'kubernetes/node/bin/kubectl', source: bigPath },
      { kind: 'file', path: 'kubernetes/node/bin/kubelet', source: kubeletPath },
      { kind: 'symlink', path: 'kubernetes/node/bin/kc', target: 'kubectl' },
      { kind: 'data', path: 'kubernetes/version', data: 'v1.35.0\n', mode: 0o644 }
    ]
    expected = {
      client: new Map([
        ['kubernetes/client/bin/kubectl', big],
        ['kubernetes/client/bin/kubectl-convert', convert]
      ]),
      node: new Map([
        [LONG, license],
        ['kubernetes/empty', Buffer.alloc(0)],
        ['kubernetes/node/bin/kubectl', big],
        ['kubernetes/node/bin/kubelet', kubelet],
        ['kubernetes/version', Buffer.from('v1.35.0\n')]
      ])
    }
  })

  async function writeBoth(writer: TarGzWriter): Promise<{ client: string; node: string }> {
    const dests = { client: join(outDir, 'client.tar.gz'), node: join(outDir, 'node.tar.gz') }
    await Promise.all([writer.write(dests.client, client), writer.write(dests.node, node)])
    return dests
  }

  it('two tarballs sharing a big file: GNU tar extracts byte-identical contents of both', async () => {
    const writer = new TarGzWriter(workDir, { mtime: MTIME })
    const dests = await writeBoth(writer)
    await writer.dispose()
    for (const kind of ['client', 'node'] as const) {
      const plan = kind === 'client' ? client : node
      expect(gnuTarList(dests[kind], { gzip: true }).map(e => e.path)).toEqual(plan.map(m => m.path))
      const dir = extract(dests[kind], true)
      for (const [path, content] of expected[kind]) {
        expect((await readFile(join(dir, path))).equals(content), `${kind}: ${path}`).toBe(true)
      }
    }
    const dir = extract(dests.node, true)
    expect(await readlink(join(dir, 'kubernetes/node/bin/kc'))).toBe('kubectl')
    expect((await stat(join(dir, 'kubernetes/node/bin/kubelet'))).mode & 0o777).toBe(0o750)
    expect((await stat(join(dir, 'kubernetes/node/bin/kubectl'))).mode & 0o777).toBe(0o755)
  })

  it('python tarfile (r:gz) reads the same members and contents', async () => {
    const writer = new TarGzWriter(workDir, { mtime: MTIME })
    const dests = await writeBoth(writer)
    await writer.dispose()
    for (const kind of ['client', 'node'] as const) {
      const plan = kind === 'client' ? client : node
      const members = pythonTarList(dests[kind], 'r:gz')
      expect(members.map(m => m.name)).toEqual(plan.map(m => m.path))
      for (const m of members) {
        expect([m.uid, m.gid, m.uname, m.gname, m.mtime], m.name).toEqual([
          0,
          0,
          'root',
          'root',
          MTIME_SECONDS
        ])
        const content = expected[kind].get(m.name)
        if (content) expect(m.contentHex, m.name).toBe(content.toString('hex'))
      }
    }
    expect(pythonTarList(dests.node, 'r:gz').find(m => m.type === 'symlink')).toMatchObject({
      name: 'kubernetes/node/bin/kc',
      linkname: 'kubectl'
    })
  })

  it('the output passes gzip -t and is several gzip members that decompress to one tar stream', async () => {
    const writer = new TarGzWriter(workDir, { mtime: MTIME })
    const dests = await writeBoth(writer)
    await writer.dispose()
    for (const file of [dests.client, dests.node]) {
      gzipTest(file)
      const { members, bytes } = gzipMembers(file)
      // At least: the headers before the big file, the big file, and what follows it.
      expect(members, file).toBeGreaterThanOrEqual(3)
      const tar = gunzip(file)
      expect(bytes).toBe(tar.length)
      expect(tar.length % 512).toBe(0)
      expect(tar.subarray(tar.length - 1024).equals(Buffer.alloc(1024))).toBe(true)
    }
  })

  it('every member is owned by 0/0, named root/root', async () => {
    const writer = new TarGzWriter(workDir)
    const dests = await writeBoth(writer)
    await writer.dispose()
    for (const file of [dests.client, dests.node]) {
      expect(new Set(gnuTarList(file, { gzip: true, numeric: true }).map(e => e.owner))).toEqual(
        new Set(['0/0'])
      )
      expect(new Set(gnuTarList(file, { gzip: true }).map(e => e.owner))).toEqual(new Set(['root/root']))
    }
  })

  it('a fixed mtime applies to every member; without it files keep their own', async () => {
    const fixed = new TarGzWriter(workDir, { mtime: new Date('2001-02-03T04:05:06Z') })
    const dest = join(outDir, 'fixed.tar.gz')
    await fixed.write(dest, node)
    await fixed.dispose()
    expect(new Set(gnuTarList(dest, { gzip: true }).map(e => e.mtime))).toEqual(
      new Set(['2001-02-03 04:05:06'])
    )

    const own = new TarGzWriter(workDir)
    await own.write(dest, client)
    await own.dispose()
    expect(
      gnuTarList(dest, { gzip: true }).find(e => e.path === 'kubernetes/client/bin/kubectl')?.mtime
    ).toBe(MTIME_TEXT)
  })

  it('the big file is compressed once, kept under the hash of its bytes, and copied into both tarballs', async () => {
    const writer = new TarGzWriter(workDir, { mtime: MTIME })
    const dests = await writeBoth(writer)
    const piece = join(workDir, `${createHash(PIECE_HASH).update(big).digest('hex')}-6.gz`)
    const compressed = await readFile(piece)
    // The piece holds the file's content and nothing else.
    expect(execFileSync('gzip', ['-dc'], { input: compressed }).equals(big)).toBe(true)
    for (const file of [dests.client, dests.node]) {
      expect((await readFile(file)).indexOf(compressed), file).toBeGreaterThanOrEqual(0)
    }
    // A third tarball of the same members compresses nothing more.
    const before = writer.stats
    await writer.write(join(outDir, 'third.tar.gz'), client)
    expect(writer.stats).toEqual(before)
    await writer.dispose()
  })

  it.each([65535, 65536, 65536 + 512, 65536 + 1])('a %i-byte file reads back intact', async size => {
    const content = randomBytes(size)
    const source = await sourceFile('sized', content)
    const writer = new TarGzWriter(workDir, { mtime: MTIME })
    const dest = join(outDir, 'sized.tar.gz')
    await writer.write(dest, [
      { kind: 'file', path: 'kubernetes/sized', source },
      { kind: 'data', path: 'kubernetes/after', data: 'after\n', mode: 0o644 }
    ])
    await writer.dispose()
    const members = pythonTarList(dest, 'r:gz')
    expect(members.map(m => [m.name, m.size])).toEqual([
      ['kubernetes/sized', size],
      ['kubernetes/after', 6]
    ])
    expect(members[0].contentHex).toBe(content.toString('hex'))
    expect(members[1].contentHex).toBe(Buffer.from('after\n').toString('hex'))
  })

  it('the same inputs with a fixed mtime give byte-identical output, from one writer or two', async () => {
    const first = new TarGzWriter(workDir, { mtime: MTIME })
    const a = join(outDir, 'a.tar.gz')
    const b = join(outDir, 'b.tar.gz')
    await first.write(a, node)
    await first.write(b, node)
    await first.dispose()
    const otherWork = join(tmp, 'work2')
    await mkdir(otherWork)
    const second = new TarGzWriter(otherWork, { mtime: MTIME })
    const c = join(outDir, 'c.tar.gz')
    await second.write(c, node)
    await second.dispose()
    const bytes = await Promise.all([a, b, c].map(f => readFile(f)))
    expect(bytes[1].equals(bytes[0])).toBe(true)
    expect(bytes[2].equals(bytes[0])).toBe(true)
  })

  it('writes only <dest>.partial and renames it: no other file is opened for writing in the output dir', async () => {
    const writer = new TarGzWriter(workDir, { mtime: MTIME })
    const dests = await writeBoth(writer)
    await writer.dispose()
    const inOut = fsHooks.openedForWriting.filter(p => p.startsWith(outDir)).sort()
    expect(inOut).toEqual([`${dests.client}.partial`, `${dests.node}.partial`])
    expect(await readdir(outDir)).toEqual(['client.tar.gz', 'node.tar.gz'])
  })

  it('replaces an existing file at dest', async () => {
    const dest = join(outDir, 'client.tar.gz')
    await writeFile(dest, 'old')
    const writer = new TarGzWriter(workDir)
    await writer.write(dest, [{ kind: 'data', path: 'kubernetes/version', data: 'v1\n', mode: 0o644 }])
    await writer.dispose()
    expect(gnuTarList(dest, { gzip: true }).map(e => e.path)).toEqual(['kubernetes/version'])
  })

  it.each([
    ['a small file grows', 'small', 1000, (p: string) => appendFile(p, 'more')],
    ['a small file shrinks', 'small', 1000, (p: string) => truncate(p, 10)],
    ['a big file grows', 'big', 200 * 1024, (p: string) => appendFile(p, 'more')],
    ['a big file shrinks', 'big', 200 * 1024, (p: string) => truncate(p, 1000)]
  ])(
    '%s while archived: an error naming it, nothing at dest, no .partial left',
    async (_what, name, size, change) => {
      const source = await sourceFile(name, randomBytes(size))
      fsHooks.afterLstat.set(source, () => change(source))
      const writer = new TarGzWriter(workDir, { mtime: MTIME })
      const dest = join(outDir, 'changed.tar.gz')
      await expect(
        writer.write(dest, [...client, { kind: 'file', path: 'kubernetes/changing', source }])
      ).rejects.toThrow(source)
      expect(await readdir(outDir)).toEqual([])
      await writer.dispose()
      expect((await readdir(workDir)).filter(name => !name.endsWith('-6.gz'))).toEqual([])
    }
  )

  // Node (default --unhandled-rejections=throw) ends the process on an unhandled rejection: the
  // write's own rejection, the caller's cleanup and the run report would never happen.
  it('a big file changing while many members follow: write() rejects, no rejection goes unhandled', async () => {
    const unhandled: unknown[] = []
    const onUnhandled = (reason: unknown): void => void unhandled.push(reason)
    process.on('unhandledRejection', onUnhandled)
    try {
      const source = await sourceFile('changing', randomBytes(200 * 1024))
      fsHooks.afterLstat.set(source, () => appendFile(source, 'more'))
      const many: TarMember[] = []
      for (let i = 0; i < 300; i++) {
        many.push({
          kind: 'file',
          path: `kubernetes/small/${i}`,
          source: await sourceFile(`s${i}`, `${i}\n`)
        })
      }
      const writer = new TarGzWriter(workDir)
      const dest = join(outDir, 'changed.tar.gz')
      await expect(
        writer.write(dest, [{ kind: 'file', path: 'kubernetes/changing', source }, ...many])
      ).rejects.toThrow(source)
      await new Promise(resolve => setTimeout(resolve, 50))
      await writer.dispose()
      expect(await readdir(outDir)).toEqual([])
    } finally {
      process.off('unhandledRejection', onUnhandled)
    }
    expect(unhandled).toEqual([])
  })

  it('a missing source rejects, leaving nothing at dest', async () => {
    const writer = new TarGzWriter(workDir)
    const dest = join(outDir, 'bad.tar.gz')
    await expect(
      writer.write(dest, [...node, { kind: 'file', path: 'kubernetes/nope', source: join(srcDir, 'nope') }])
    ).rejects.toThrow()
    await writer.dispose()
    expect(await readdir(outDir)).toEqual([])
  })

  it('a failed write does not spoil the writer for the next tarball', async () => {
    const writer = new TarGzWriter(workDir, { mtime: MTIME })
    await expect(
      writer.write(join(outDir, 'bad.tar.gz'), [{ kind: 'file', path: 'x', source: join(srcDir, 'nope') }])
    ).rejects.toThrow()
    const dests = await writeBoth(writer)
    await writer.dispose()
    expect(pythonTarList(dests.node, 'r:gz').map(m => m.name)).toEqual(node.map(m => m.path))
  })

  it('prune removes the pieces no tarball of the writer used, and keeps the ones it did', async () => {
    const first = new TarGzWriter(workDir, { mtime: MTIME })
    await writeBoth(first)
    await first.dispose()
    const second = new TarGzWriter(workDir, { mtime: MTIME })
    await second.write(join(outDir, 'node-again.tar.gz'), node)
    expect(await second.prune()).toBeGreaterThan(0)
    await second.dispose()
    const { reused, compressed } = second.stats
    expect(compressed.pieces).toBe(0)
    expect((await readdir(workDir)).length).toBe(reused.pieces)
    const third = new TarGzWriter(workDir, { mtime: MTIME })
    await third.write(join(outDir, 'node-third.tar.gz'), node)
    await third.dispose()
    expect(third.stats.compressed.pieces).toBe(0)
  })

  it('ten tarballs written at once all share the member and read back', async () => {
    const writer = new TarGzWriter(workDir, { mtime: MTIME })
    const dests = Array.from({ length: 10 }, (_, i) => join(outDir, `t${i}.tar.gz`))
    await Promise.all(dests.map((d, i) => writer.write(d, i % 2 ? client : node)))
    await writer.dispose()
    const once = new TarGzWriter(join(tmp, 'once'), { mtime: MTIME })
    await writeBoth(once)
    await once.dispose()
    expect(writer.stats.compressed).toEqual(once.stats.compressed)
    for (const [i, d] of dests.entries()) {
      const kind = i % 2 ? 'client' : 'node'
      const dir = extract(d, true)
      for (const [path, content] of expected[kind]) {
        expect((await readFile(join(dir, path))).equals(content), `${d}: ${path}`).toBe(true)
      }
    }
  })
})
