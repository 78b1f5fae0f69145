// clean's removal of a tree's build output, as kube::build::clean removes _output (kube-build-flow.md
// §3.6): the Go module cache in it is read-only, which a plain recursive removal fails on.
import { chmod, mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { removeOutputDir } from '../../src/cleanup.js'

describe('removeOutputDir', () => {
  let root: string | undefined
  afterEach(async () => {
    if (root) await rm(root, { recursive: true, force: true })
  })

  // As root the removal needs no chmod; as any other user it does.
  it('removes a tree with read-only directories, as Go leaves its module cache', async () => {
    root = await mkdtemp(join(tmpdir(), 'kube-clean-'))
    const mod = join(root, '_output/dockerized/go/cache/mod/example.com/m@v1')
    await mkdir(mod, { recursive: true })
    await writeFile(join(mod, 'go.mod'), 'module example.com/m\n')
    await chmod(mod, 0o555)
    await chmod(join(mod, '..'), 0o555)
    expect(await removeOutputDir(join(root, '_output'))).toBe(true)
    await expect(stat(join(root, '_output'))).rejects.toThrow(/ENOENT/)
  })

  it('says so when there is nothing to remove', async () => {
    root = await mkdtemp(join(tmpdir(), 'kube-clean-'))
    expect(await removeOutputDir(join(root, '_output'))).toBe(false)
  })
})
