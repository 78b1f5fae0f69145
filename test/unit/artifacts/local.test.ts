// The CLI's --artifacts-dir DIR: the release copied to DIR/<artifact-name>/ (bundle) or DIR/<file> (per-file).
import { mkdir, mkdtemp, readFile, readdir, realpath, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { LocalArtifactStore } from '../../../src/artifacts/local.js'

let tmp: string
let release: string
let dir: string
beforeEach(async () => {
  tmp = await realpath(await mkdtemp(join(tmpdir(), 'kube-local-artifacts-')))
  release = join(tmp, 'release-tars')
  dir = join(tmp, 'artifacts')
  await mkdir(join(release, 'nested', 'deeper'), { recursive: true })
  await writeFile(join(release, 'kubernetes-client-linux-amd64.tar.gz'), 'client bytes')
  await writeFile(join(release, 'SHA256SUMS'), 'sums')
  await writeFile(join(release, 'nested', 'deeper', 'file.txt'), 'nested bytes')
})
afterEach(async () => {
  await rm(tmp, { recursive: true, force: true })
})

/** Every file under `root`, relative to it, sorted. */
async function listFiles(root: string): Promise<string[]> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true })
  return entries
    .filter(e => e.isFile())
    .map(e => relative(root, join(e.parentPath, e.name)))
    .sort()
}

const FILES = ['kubernetes-client-linux-amd64.tar.gz', 'SHA256SUMS', 'nested/deeper/file.txt']

describe('LocalArtifactStore', () => {
  it('describes itself by the directory, made absolute', () => {
    const store = new LocalArtifactStore(relative(process.cwd(), dir))
    expect(store.description).toContain(dir)
  })

  describe('uploadBundle', () => {
    it('copies every file, nested ones at their relative path, to DIR/<name>/', async () => {
      const store = new LocalArtifactStore(dir)
      const result = await store.uploadBundle('my-release', release, FILES)
      expect(await listFiles(join(dir, 'my-release'))).toEqual([...FILES].sort())
      expect(await readFile(join(dir, 'my-release', 'kubernetes-client-linux-amd64.tar.gz'), 'utf8')).toBe(
        'client bytes'
      )
      expect(await readFile(join(dir, 'my-release', 'nested/deeper/file.txt'), 'utf8')).toBe('nested bytes')
      expect(result.name).toBe('my-release')
      expect(result.location).toBe(join(dir, 'my-release'))
    })

    it('copies only the files named', async () => {
      const store = new LocalArtifactStore(dir)
      await store.uploadBundle('only-sums', release, ['SHA256SUMS'])
      expect(await listFiles(join(dir, 'only-sums'))).toEqual(['SHA256SUMS'])
    })

    it('replaces an earlier copy of the same name: no stale file stays', async () => {
      const store = new LocalArtifactStore(dir)
      await store.uploadBundle('my-release', release, FILES)
      await writeFile(join(release, 'SHA256SUMS'), 'new sums')
      await store.uploadBundle('my-release', release, ['SHA256SUMS'])
      expect(await listFiles(join(dir, 'my-release'))).toEqual(['SHA256SUMS'])
      expect(await readFile(join(dir, 'my-release', 'SHA256SUMS'), 'utf8')).toBe('new sums')
    })

    it('leaves bundles of other names alone', async () => {
      const store = new LocalArtifactStore(dir)
      await store.uploadBundle('first', release, FILES)
      await store.uploadBundle('second', release, ['SHA256SUMS'])
      expect(await listFiles(join(dir, 'first'))).toEqual([...FILES].sort())
      expect(await listFiles(join(dir, 'second'))).toEqual(['SHA256SUMS'])
    })

    it('leaves the release directory as it was', async () => {
      const store = new LocalArtifactStore(dir)
      await store.uploadBundle('my-release', release, FILES)
      expect(await listFiles(release)).toEqual([...FILES].sort())
    })

    it('a missing file fails the upload', async () => {
      const store = new LocalArtifactStore(dir)
      await expect(store.uploadBundle('x', release, ['missing.tar.gz'])).rejects.toThrow()
    })
  })

  describe('uploadFile', () => {
    it('copies the file to DIR/<name> (the file itself) and returns where it is', async () => {
      const store = new LocalArtifactStore(dir)
      const result = await store.uploadFile(
        'kubernetes-client-linux-amd64.tar.gz',
        join(release, 'kubernetes-client-linux-amd64.tar.gz')
      )
      expect(await readFile(join(dir, 'kubernetes-client-linux-amd64.tar.gz'), 'utf8')).toBe('client bytes')
      expect(result.name).toBe('kubernetes-client-linux-amd64.tar.gz')
      expect(result.location).toBe(join(dir, 'kubernetes-client-linux-amd64.tar.gz'))
    })

    it('names the copy by the name given, not by the source file', async () => {
      const store = new LocalArtifactStore(dir)
      const result = await store.uploadFile('prefix-SHA256SUMS', join(release, 'SHA256SUMS'))
      expect(await listFiles(dir)).toEqual(['prefix-SHA256SUMS'])
      expect(await readFile(join(dir, 'prefix-SHA256SUMS'), 'utf8')).toBe('sums')
      expect(result.location).toBe(join(dir, 'prefix-SHA256SUMS'))
    })

    it('one file per call, all in DIR', async () => {
      const store = new LocalArtifactStore(dir)
      for (const file of ['kubernetes-client-linux-amd64.tar.gz', 'SHA256SUMS'])
        await store.uploadFile(file, join(release, file))
      expect(await listFiles(dir)).toEqual(['SHA256SUMS', 'kubernetes-client-linux-amd64.tar.gz'])
    })

    it('replaces an earlier copy of the same name', async () => {
      const store = new LocalArtifactStore(dir)
      await store.uploadFile('SHA256SUMS', join(release, 'SHA256SUMS'))
      await writeFile(join(release, 'SHA256SUMS'), 'new sums')
      await store.uploadFile('SHA256SUMS', join(release, 'SHA256SUMS'))
      expect(await readFile(join(dir, 'SHA256SUMS'), 'utf8')).toBe('new sums')
    })
  })
})
