// The scale tree generator: the same scale gives the same tree (files, modes and the git commit),
// and another scale a different one. A small scale keeps it to a second or two.
import { createHash } from 'node:crypto'
import { execFileSync } from 'node:child_process'
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { ensureScaleTree } from '../../../scripts/scale-tree/generate.js'

const FIXTURE = join(process.cwd(), 'test/fixtures/kube-tree')
const SCALE = 0.02
const dirs: string[] = []

afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true })
})

/** sha256 over every work-tree file's path, mode and content, .git left out. */
async function treeHash(root: string): Promise<string> {
  const hash = createHash('sha256')
  const entries = await readdir(root, { recursive: true, withFileTypes: true })
  const files = entries
    .filter(e => e.isFile())
    .map(e => join(e.parentPath, e.name))
    .filter(path => !relative(root, path).startsWith('.git/'))
    .sort()
  for (const path of files) {
    hash.update(`${relative(root, path)}\0${(await stat(path)).mode.toString(8)}\0`)
    hash.update(await readFile(path))
  }
  return hash.digest('hex')
}

const head = (root: string): string =>
  execFileSync('git', ['-C', root, 'rev-parse', 'HEAD'], { encoding: 'utf8' }).trim()

async function make(scale: number): Promise<{ root: string; reused: boolean }> {
  const out = await mkdtemp(join(tmpdir(), 'scale-tree-test-'))
  dirs.push(out)
  return ensureScaleTree(FIXTURE, out, scale)
}

describe('scale tree', () => {
  it('two runs at one scale make the same files and the same commit; another scale does not', async () => {
    const [first, second, other] = [await make(SCALE), await make(SCALE), await make(SCALE * 2)]
    const firstHash = await treeHash(first.root)
    expect(await treeHash(second.root)).toBe(firstHash)
    expect(head(second.root)).toBe(head(first.root))
    expect(await treeHash(other.root)).not.toBe(firstHash)
    expect(head(other.root)).not.toBe(head(first.root))
  }, 120_000)

  it('leaves a clean work tree, and reuses a tree made by this version at this scale', async () => {
    const made = await make(SCALE)
    expect(made.reused).toBe(false)
    expect(execFileSync('git', ['-C', made.root, 'status', '--porcelain'], { encoding: 'utf8' })).toBe('')
    const again = await ensureScaleTree(FIXTURE, join(made.root, '..'), SCALE)
    expect(again.reused).toBe(true)
  }, 120_000)
})
