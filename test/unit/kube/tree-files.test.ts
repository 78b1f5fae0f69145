// One walk of the Kubernetes tree for the tarballs that copy parts of it (kube-build-flow.md §3.5):
// never build output or VCS data, and never the editor and Finder cruft upstream's clean_cruft deletes
// (`*~`, `#*#`, `.DS*`) before each tarball.
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { listTree, type TreeEntry } from '../../../src/kube/tree-files.js'

let root: string
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'kube-tree-files-'))
})
afterEach(async () => {
  await rm(root, { recursive: true, force: true })
})

/** Creates files (content = path), directories (trailing /) and symlinks ([path, target]). */
async function make(entries: readonly (string | readonly [string, string])[]): Promise<void> {
  for (const entry of entries) {
    if (typeof entry !== 'string') {
      await mkdir(dirname(join(root, entry[0])), { recursive: true })
      await symlink(entry[1], join(root, entry[0]))
    } else if (entry.endsWith('/')) {
      await mkdir(join(root, entry), { recursive: true })
    } else {
      await mkdir(dirname(join(root, entry)), { recursive: true })
      await writeFile(join(root, entry), entry)
    }
  }
}

const paths = (entries: TreeEntry[]): string[] => entries.map(e => e.path)

describe('listTree', () => {
  it('lists files and directories with relative POSIX paths', async () => {
    await make(['README.md', 'cluster/addons/dns/coredns.yaml', 'docs/', 'hack/lib/init.sh'])
    expect(new Set(await listTree(root))).toEqual(
      new Set([
        { kind: 'file', path: 'README.md' },
        { kind: 'dir', path: 'cluster' },
        { kind: 'dir', path: 'cluster/addons' },
        { kind: 'dir', path: 'cluster/addons/dns' },
        { kind: 'file', path: 'cluster/addons/dns/coredns.yaml' },
        { kind: 'dir', path: 'docs' },
        { kind: 'dir', path: 'hack' },
        { kind: 'dir', path: 'hack/lib' },
        { kind: 'file', path: 'hack/lib/init.sh' }
      ])
    )
  })

  it('skips _output, _tmp and .git at the top level only', async () => {
    await make([
      '_output/dockerized/bin/linux/amd64/kubectl',
      '_tmp/x',
      '.git/HEAD',
      'keep.go',
      'pkg/_output/kept',
      'pkg/_tmp/kept',
      'pkg/.git/kept'
    ])
    const listed = paths(await listTree(root))
    for (const skipped of ['_output', '_tmp', '.git']) {
      expect(
        listed.filter(p => p === skipped || p.startsWith(`${skipped}/`)),
        skipped
      ).toEqual([])
    }
    expect(listed).toEqual(
      expect.arrayContaining(['keep.go', 'pkg/_output/kept', 'pkg/_tmp/kept', 'pkg/.git/kept'])
    )
  })

  it('keeps other top-level dot and underscore entries (the src tarball filters those itself)', async () => {
    await make(['.gitignore', '.go-version', '_artifacts/x', '.github/workflows/ci.yaml'])
    expect(paths(await listTree(root))).toEqual(
      expect.arrayContaining(['.gitignore', '.go-version', '_artifacts/x', '.github/workflows/ci.yaml'])
    )
  })

  it('skips cruft anywhere: *~, #*#, .DS*', async () => {
    await make([
      'foo~',
      '#x#',
      '.DS_Store',
      'cluster/addons/addon.yaml~',
      'cluster/addons/#addon.yaml#',
      'cluster/addons/.DS_Store',
      'cluster/addons/.DSfoo',
      'cluster/addons/addon.yaml',
      'keep#me',
      '#open',
      'mid~dle'
    ])
    expect(paths(await listTree(root)).sort()).toEqual(
      ['#open', 'cluster', 'cluster/addons', 'cluster/addons/addon.yaml', 'keep#me', 'mid~dle'].sort()
    )
  })

  it('reports symlinks with their targets, without following them', async () => {
    await make([
      'build/root/Makefile',
      ['Makefile', 'build/root/Makefile'],
      ['linkdir', 'build'],
      ['dangling', 'nowhere/at/all'],
      ['abs', '/etc']
    ])
    const entries = await listTree(root)
    expect(entries.filter(e => e.kind === 'symlink')).toEqual(
      expect.arrayContaining([
        { kind: 'symlink', path: 'Makefile', target: 'build/root/Makefile' },
        { kind: 'symlink', path: 'linkdir', target: 'build' },
        { kind: 'symlink', path: 'dangling', target: 'nowhere/at/all' },
        { kind: 'symlink', path: 'abs', target: '/etc' }
      ])
    )
    expect(entries.filter(e => e.kind === 'symlink')).toHaveLength(4)
    expect(paths(entries).filter(p => p.startsWith('linkdir/') || p.startsWith('abs/'))).toEqual([])
  })

  it('the order is fixed: names sorted in each directory, a directory before what it holds', async () => {
    // Created in reverse order, so that creation order cannot pass for sorting.
    await make(['z/2', 'z/1', 'b-c/x', 'b/y', 'b/a/q', 'B', 'a', 'a.txt'])
    const listed = paths(await listTree(root))
    expect(new Set(listed)).toEqual(
      new Set(['z', 'z/1', 'z/2', 'b-c', 'b-c/x', 'b', 'b/y', 'b/a', 'b/a/q', 'B', 'a', 'a.txt'])
    )
    for (const [i, path] of listed.entries()) {
      const parent = path.includes('/') ? path.slice(0, path.lastIndexOf('/')) : null
      if (parent) expect(listed.indexOf(parent), path).toBeLessThan(i)
    }
    const siblings = (parent: string | null): string[] =>
      listed.filter(p => (p.includes('/') ? p.slice(0, p.lastIndexOf('/')) : null) === parent)
    for (const parent of [null, 'z', 'b', 'b-c', 'b/a']) {
      const names = siblings(parent)
      expect(names, String(parent)).toEqual([...names].sort())
    }
  })

  it('an empty tree lists nothing; a missing root is an error', async () => {
    expect(await listTree(root)).toEqual([])
    await expect(listTree(join(root, 'missing'))).rejects.toThrow()
  })

  it('the fixture tree: every file of it, no duplicates', async () => {
    const fixture = resolve(dirname(fileURLToPath(import.meta.url)), '../../fixtures/kube-tree')
    const entries = await listTree(fixture)
    const listed = paths(entries)
    expect(new Set(listed).size).toBe(listed.length)
    expect(entries).toEqual(
      expect.arrayContaining([
        { kind: 'file', path: 'LICENSES/vendor/example/LICENSE' },
        { kind: 'dir', path: 'cluster/gce/manifests' },
        { kind: 'file', path: 'cluster/gce/gci/configure-helper.sh' },
        { kind: 'file', path: '.go-version' }
      ])
    )
  })
})
