// What goes wrong must say so clearly and leave nothing behind.
import { appendFile, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { REPO_ROOT, cleanTree, fixtureTree, managedObjects, runCli } from './helpers.js'

const trees: string[] = []
afterAll(async () => {
  for (const tree of trees) await cleanTree(tree)
})

async function tree(): Promise<string> {
  const dir = await fixtureTree()
  trees.push(dir)
  return dir
}

describe('a failing compile', () => {
  it('fails the run with the compiler message and no leftover container', async () => {
    const dir = await tree()
    // An undefined name in kubectl: Go reports file, line and the name.
    await appendFile(join(dir, 'cmd/kubectl/kubectl.go'), '\nvar broken = undefinedName\n')
    const result = await runCli(['--source', dir, '--mode', 'quick-release', '--targets', 'client'])
    expect(result.code).toBe(1)
    expect(result.stdout).toMatch(/cmd\/kubectl\/kubectl\.go:\d+:\d+: undefined: undefinedName/)
    expect(result.stderr).toMatch(
      /'make all WHAT=cmd\/kubectl cmd\/kubectl-convert KUBE_BUILD_PLATFORMS=linux\/\w+' failed with exit code [1-9]/
    )
    expect(result.stderr).toContain('undefined: undefinedName')
    expect(result.stdout).toMatch(/build\s+[0-9.]+ s\s+failed/)
    expect(managedObjects('containers', { tree: dir })).toEqual([])
  })
})

describe('the command line', () => {
  it("prints package.json's version with --version, and the usage with --help", async () => {
    const { version } = JSON.parse(await readFile(join(REPO_ROOT, 'package.json'), 'utf8')) as {
      version: string
    }
    const printed = await runCli(['--version'])
    expect(printed.code).toBe(0)
    expect(printed.stdout).toBe(`kube-release ${version}\n`)
    const usage = await runCli(['--help'])
    expect(usage.code).toBe(0)
    expect(usage.stdout).toMatch(/^usage: kube-release /)
    expect(usage.stdout).toContain('--version')
  })
})

describe('bad input', () => {
  it.each([
    [['--mode', 'fast'], /input 'mode': 'fast' is not one of release, quick-release/],
    [
      ['--platforms', 'linux/amd64,plan9/mips'],
      /input 'platforms': unsupported platform 'plan9\/mips'; use os\/arch from: linux\/amd64,/
    ],
    [['--platforms', 'linux'], /input 'platforms': malformed platform 'linux'/],
    [
      ['--targets', 'kubectl,kube-foo'],
      /input 'targets': unknown target 'kube-foo'; use a group \(server, node, client, test\)/
    ],
    [['--workspace', 'tmpfs'], /input 'workspace': 'tmpfs' is not one of volume, bind/],
    [['--run-tests', 'maybe'], /input 'run-tests': 'maybe' is not a boolean/]
  ])('%j is refused before anything starts', async (args, message) => {
    const dir = await tree()
    const result = await runCli(['--source', dir, ...args])
    expect(result.code).toBe(2)
    expect(result.stderr).toMatch(message)
    expect(result.stdout).not.toContain('==> prereqs')
    expect(managedObjects('containers', { tree: dir })).toEqual([])
    expect(managedObjects('volumes', { tree: dir })).toEqual([])
  })

  it('refuses a directory that is not a Kubernetes tree', async () => {
    const dir = await tree()
    const result = await runCli(['--source', join(dir, 'cmd')])
    expect(result.code).toBe(2)
    expect(result.stderr).toMatch(
      /input 'source': '.*\/cmd' is not a Kubernetes tree: build\/build-image\/cross\/VERSION is missing/
    )
  })

  it('names the image and the input when kube-cross cannot be had', async () => {
    const dir = await tree()
    // Nothing listens on port 1: the pull fails at once, as it would with no registry access.
    const result = await runCli([
      '--source',
      dir,
      '--mode',
      'quick-release',
      '--kube-cross-image',
      '127.0.0.1:1/kube-cross:v0'
    ])
    expect(result.code).toBe(1)
    expect(result.stderr).toMatch(
      /the kube-cross image 127\.0\.0\.1:1\/kube-cross:v0 is not on the engine and could not be pulled: .*input 'kube-cross-image'/s
    )
    expect(managedObjects('containers', { tree: dir })).toEqual([])
  })
})
