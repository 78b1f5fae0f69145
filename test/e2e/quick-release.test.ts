// make quick-release on the real engine with each workspace strategy, twice each: the second run
// reuses the kube-build image and the caches.
import { afterAll, describe, expect, it } from 'vitest'
import { checkRelease, engineArch } from './release-check.js'
import { cleanTree, fixtureTree, gitDescribe, managedObjects, runCli } from './helpers.js'

const trees: string[] = []
afterAll(async () => {
  for (const tree of trees) await cleanTree(tree)
})

describe.each(['volume', 'bind'])('quick-release, %s workspace', workspace => {
  it('builds the host platform tarballs and leaves no container', async () => {
    const tree = await fixtureTree('v1.31.0')
    trees.push(tree)
    const first = await runCli(['--source', tree, '--mode', 'quick-release', '--workspace', workspace])
    expect(first.code, first.stderr + first.stdout.slice(-3000)).toBe(0)
    expect(first.stdout).toMatch(/==> build/)
    expect(first.stdout).toMatch(/Building go targets for linux\//)
    // A clean checkout of a tag builds exactly that version.
    const version = gitDescribe(tree)
    expect(first.stdout).toContain(`version    ${version}`)
    await checkRelease(tree, [`linux/${engineArch()}`], version)
    expect(managedObjects('containers', tree)).toEqual([])

    const second = await runCli(['--source', tree, '--mode', 'quick-release', '--workspace', workspace])
    expect(second.code, second.stderr).toBe(0)
    if (workspace === 'volume') {
      expect(second.stdout).toMatch(/reusing data volume kube-build-data-/)
      expect(second.stdout).toMatch(/reusing kube-build:build-/)
    }
    await checkRelease(tree, [`linux/${engineArch()}`], version)
    expect(managedObjects('containers', tree)).toEqual([])
  })
})

describe('clean', () => {
  it('removes the data volume kept for a tree', async () => {
    const tree = await fixtureTree('v1.31.0')
    const result = await runCli(['--source', tree, '--mode', 'quick-release', '--targets', 'kubectl'])
    expect(result.code, result.stderr).toBe(0)
    expect(managedObjects('volumes', tree)).toHaveLength(1)
    await cleanTree(tree)
    expect(managedObjects('volumes', tree)).toEqual([])
  })
})
