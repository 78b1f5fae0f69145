// SHA256SUMS / SHA512SUMS and a .sha256 / .sha512 per file, as krel publishes them next to the release
// tarballs (kube-build-flow.md §5 "Checksums"), checked with coreutils' `sha256sum -c` / `sha512sum -c`.
import { execFileSync, spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { writeChecksums } from '../../../src/archive/checksums.js'

let dir: string
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kube-sums-'))
})
afterEach(async () => {
  await rm(dir, { recursive: true, force: true })
})

// Given out of order on purpose; code-unit order puts kubernetes-… before kubernetes.tar.gz.
const NAMES = [
  'kubernetes.tar.gz',
  'kubernetes-test-portable.tar.gz',
  'kubernetes-client-linux-amd64.tar.gz',
  'kubernetes-src.tar.gz',
  'kubernetes-client-darwin-arm64.tar.gz',
  'kubernetes-manifests.tar.gz'
]
const SORTED = [
  'kubernetes-client-darwin-arm64.tar.gz',
  'kubernetes-client-linux-amd64.tar.gz',
  'kubernetes-manifests.tar.gz',
  'kubernetes-src.tar.gz',
  'kubernetes-test-portable.tar.gz',
  'kubernetes.tar.gz'
]

async function makeFiles(names: readonly string[]): Promise<void> {
  for (const [i, name] of names.entries()) await writeFile(join(dir, name), randomBytes(1000 + i * 70_001))
}

/** `<tool> -c <file>` in the directory; status and output. */
function check(tool: 'sha256sum' | 'sha512sum', file: string): { status: number | null; out: string } {
  const r = spawnSync(tool, ['-c', file], {
    cwd: dir,
    encoding: 'utf8',
    env: { ...process.env, LC_ALL: 'C' }
  })
  return { status: r.status, out: r.stdout + r.stderr }
}

/** The digest as coreutils computes it. */
function coreutils(tool: 'sha256sum' | 'sha512sum', name: string): string {
  return execFileSync(tool, ['--', name], { cwd: dir, encoding: 'utf8' }).split(' ')[0]
}

describe('writeChecksums', () => {
  it.each([
    ['sha256sum', 'SHA256SUMS'],
    ['sha512sum', 'SHA512SUMS']
  ] as const)('%s -c %s verifies every file, listed once each in sorted order', async (tool, sums) => {
    await makeFiles(NAMES)
    await writeChecksums(dir, NAMES)
    const { status, out } = check(tool, sums)
    expect(status, out).toBe(0)
    expect(out.trim().split('\n')).toEqual(SORTED.map(n => `${n}: OK`))
    const lines = (await readFile(join(dir, sums), 'utf8')).split('\n')
    expect(lines.pop()).toBe('')
    expect(lines.map(l => l.slice(l.indexOf('  ') + 2))).toEqual(SORTED)
  })

  it.each([
    ['sha256sum', 'sha256', 64],
    ['sha512sum', 'sha512', 128]
  ] as const)('every file has a .%s that %s -c verifies: "<hex>  <name>"', async (tool, ext, hexLength) => {
    await makeFiles(NAMES)
    await writeChecksums(dir, NAMES)
    for (const name of NAMES) {
      const { status, out } = check(tool, `${name}.${ext}`)
      expect(status, out).toBe(0)
      expect(out.trim()).toBe(`${name}: OK`)
      const text = await readFile(join(dir, `${name}.${ext}`), 'utf8')
      expect(text).toBe(`${coreutils(tool, name)}  ${name}\n`)
      expect(text.indexOf(' ')).toBe(hexLength)
    }
  })

  it('returns both digests per file, sorted by name, equal to coreutils', async () => {
    await makeFiles(NAMES)
    const digests = await writeChecksums(dir, NAMES)
    expect(digests).toEqual(
      SORTED.map(name => ({
        name,
        sha256: coreutils('sha256sum', name),
        sha512: coreutils('sha512sum', name)
      }))
    )
  })

  it('writes exactly the two lists and two files per name, and leaves the inputs alone', async () => {
    await makeFiles(NAMES)
    const before = await Promise.all(NAMES.map(n => readFile(join(dir, n))))
    await writeChecksums(dir, NAMES)
    expect((await readdir(dir)).sort()).toEqual(
      [...NAMES, 'SHA256SUMS', 'SHA512SUMS', ...NAMES.flatMap(n => [`${n}.sha256`, `${n}.sha512`])].sort()
    )
    const after = await Promise.all(NAMES.map(n => readFile(join(dir, n))))
    for (const [i, name] of NAMES.entries()) expect(after[i].equals(before[i]), name).toBe(true)
  })

  it('only the named files are listed, not others in the directory', async () => {
    await makeFiles([...NAMES, 'stray.txt'])
    await writeChecksums(dir, NAMES)
    expect(await readFile(join(dir, 'SHA256SUMS'), 'utf8')).not.toContain('stray.txt')
    expect((await readdir(dir)).filter(n => n.startsWith('stray.txt'))).toEqual(['stray.txt'])
  })

  it('a file changed afterwards fails the check (the lists are real digests)', async () => {
    await makeFiles(NAMES)
    await writeChecksums(dir, NAMES)
    await writeFile(join(dir, 'kubernetes-src.tar.gz'), 'tampered')
    const all = check('sha256sum', 'SHA256SUMS')
    expect(all.status).not.toBe(0)
    expect(all.out).toContain('kubernetes-src.tar.gz: FAILED')
    expect(check('sha512sum', 'kubernetes-src.tar.gz.sha512').status).not.toBe(0)
    expect(check('sha512sum', 'kubernetes.tar.gz.sha512').status).toBe(0)
  })

  it('an empty file and a name with a space', async () => {
    await writeFile(join(dir, 'empty'), '')
    await writeFile(join(dir, 'with space.tar.gz'), 'x')
    await writeChecksums(dir, ['with space.tar.gz', 'empty'])
    expect(check('sha256sum', 'SHA256SUMS')).toEqual({ status: 0, out: 'empty: OK\nwith space.tar.gz: OK\n' })
    expect(await readFile(join(dir, 'empty.sha256'), 'utf8')).toBe(
      'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855  empty\n'
    )
  })

  it('digests given by the caller are written as given, without reading the file', async () => {
    const given = { sha256: 'a'.repeat(64), sha512: 'b'.repeat(128) }
    const asked: string[] = []
    const digests = await writeChecksums(dir, ['not-here.tar.gz'], async name => {
      asked.push(name)
      return given
    })
    expect(asked).toEqual(['not-here.tar.gz'])
    expect(digests).toEqual([{ name: 'not-here.tar.gz', ...given }])
    expect(await readFile(join(dir, 'SHA512SUMS'), 'utf8')).toBe(`${given.sha512}  not-here.tar.gz\n`)
    expect(await readFile(join(dir, 'not-here.tar.gz.sha256'), 'utf8')).toBe(
      `${given.sha256}  not-here.tar.gz\n`
    )
  })

  it('a missing file is an error', async () => {
    await makeFiles(NAMES)
    await expect(writeChecksums(dir, [...NAMES, 'missing.tar.gz'])).rejects.toThrow('missing.tar.gz')
  })
})
