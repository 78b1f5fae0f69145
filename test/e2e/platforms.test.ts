// A four-platform release build: every binary in its tarball, built for the right OS and CPU.
import { afterAll, expect, it } from 'vitest'
import { checkRelease } from './release-check.js'
import { cleanTree, fixtureTree, gitDescribe, managedObjects, runCli } from './helpers.js'

const PLATFORMS = ['linux/amd64', 'linux/arm64', 'darwin/arm64', 'windows/amd64']
let tree: string

afterAll(async () => {
  if (tree) await cleanTree(tree)
})

it('builds linux, darwin and windows tarballs in one run', async () => {
  tree = await fixtureTree('v1.31.2')
  const result = await runCli([
    '--source',
    tree,
    '--mode',
    'release',
    '--run-tests',
    'false',
    '--platforms',
    PLATFORMS.join(',')
  ])
  expect(result.code, result.stderr + result.stdout.slice(-3000)).toBe(0)
  await checkRelease(tree, PLATFORMS, gitDescribe(tree))
  expect(managedObjects('containers', tree)).toEqual([])
})
