// make quick-release on the real engine with each workspace strategy: the full tarball set with
// server images, byte-identical across strategies and runs, images that `docker load` accepts.
import { execFile } from 'node:child_process'
import { createHash } from 'node:crypto'
import { readFile, readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startBaseImages, type BaseImages } from './base-images.js'
import { IMAGE_BINARIES } from './expected.js'
import {
  ENGINE_SHARES_FILES,
  WORKSPACES,
  dependsOn,
  cleanTree,
  fixtureTree,
  gitDescribe,
  managedObjects,
  runCli
} from './helpers.js'
import { checkRelease, engineArch } from './release-check.js'

const run = promisify(execFile)
const trees: string[] = []
let bases: BaseImages

beforeAll(async () => {
  bases = await startBaseImages()
})
afterAll(async () => {
  for (const tree of trees) await cleanTree(tree)
  await bases?.close()
})

async function digests(tree: string): Promise<Map<string, string>> {
  const dir = join(tree, '_output/release-tars')
  const names = (await readdir(dir)).filter(n => n.endsWith('.tar.gz'))
  return new Map(
    await Promise.all(
      names.map(
        async n =>
          [
            n,
            createHash('sha256')
              .update(await readFile(join(dir, n)))
              .digest('hex')
          ] as const
      )
    )
  )
}

async function quickRelease(workspace: string): Promise<{ tree: string; stdout: string }> {
  const tree = await fixtureTree('v1.31.0')
  trees.push(tree)
  const result = await runCli([
    '--source',
    tree,
    '--mode',
    'quick-release',
    '--workspace',
    workspace,
    ...bases.args
  ])
  expect(result.code, result.stderr + result.stdout.slice(-3000)).toBe(0)
  return { tree, stdout: result.stdout }
}

const BUILDS = 'builds every tarball of the host platform with the %s workspace'

describe('quick-release', () => {
  const built = new Map<string, string>()
  const treeBuiltWith = (workspace: string): string =>
    dependsOn(built.get(workspace), BUILDS.replace('%s', workspace))

  it.each(WORKSPACES)(BUILDS, async workspace => {
    const { tree, stdout } = await quickRelease(workspace)
    built.set(workspace, tree)
    expect(stdout).toMatch(/Building go targets for linux\//)
    // A clean checkout of a tag builds exactly that version.
    const version = gitDescribe(tree)
    expect(stdout).toMatch(new RegExp(`version +${version.replace(/[.+]/g, '\\$&')}\\n`))
    await checkRelease(tree, { platforms: [`linux/${engineArch()}`], version, images: true, full: true })
    expect(managedObjects('containers', { tree })).toEqual([])
  })

  it('gives byte-identical tarballs for the same commit, whatever the workspace, run after run', async () => {
    const [volume, ...others] = WORKSPACES.map(treeBuiltWith)
    const first = await digests(volume)
    expect(first.size).toBe(8)
    for (const other of others) expect(await digests(other)).toEqual(first)
    const again = await runCli(['--source', volume, '--mode', 'quick-release', ...bases.args])
    expect(again.code, again.stderr).toBe(0)
    expect(again.stdout).toMatch(/reusing data volume kube-build-data-/)
    expect(again.stdout).toMatch(/reusing kube-build:build-/)
    expect(await digests(volume)).toEqual(first)
  })

  it.skipIf(ENGINE_SHARES_FILES)(
    'refuses the bind workspace before compiling: the engine does not see this machine`s files',
    async () => {
      const tree = await fixtureTree('v1.31.0')
      trees.push(tree)
      const result = await runCli(['--source', tree, '--mode', 'quick-release', '--workspace', 'bind'])
      expect(result.code).toBe(1)
      expect(result.stderr).toMatch(/does not see this machine's files/)
      expect(result.stdout).not.toMatch(/Building go targets/)
      expect(managedObjects('containers', { tree })).toEqual([])
    }
  )

  it('writes server images that docker load accepts, with tags, architecture and capability', async () => {
    const tree = treeBuiltWith('volume')
    const arch = engineArch()
    const tag = gitDescribe(tree).replace('+', '_')
    for (const binary of IMAGE_BINARIES) {
      const archive = join(tree, '_output/release-images', arch, `${binary}.tar`)
      const ref = `registry.k8s.io/${binary}-${arch}:${tag}`
      const { stdout } = await run('docker', ['load', '-i', archive])
      expect(stdout).toContain(`Loaded image: ${ref}`)
      try {
        const [image] = JSON.parse((await run('docker', ['image', 'inspect', ref])).stdout)
        expect(image.Architecture).toBe(arch)
        const path = binary === 'kubectl' ? '/bin/kubectl' : `/usr/local/bin/${binary}`
        if (binary === 'kubectl') expect(image.Config.Entrypoint).toEqual(['/bin/kubectl'])
        else expect(image.Config.Entrypoint ?? []).toEqual(binary === 'kube-proxy' ? [] : ['/go-runner'])
        // The binary runs from the image and reports the build's version.
        const printed = await run('docker', ['run', '--rm', '--entrypoint', path, ref, '--version'])
        expect(printed.stdout.trim()).toBe(`Kubernetes ${gitDescribe(tree)}`)
        if (binary === 'kube-apiserver')
          expect(await fileCapability(ref, path)).toBe('0100000200040000' + '0'.repeat(24))
      } finally {
        await run('docker', ['rmi', '-f', ref])
      }
    }
  })
})

/** The security.capability xattr of a file in an image, hex, as the engine stored it. */
async function fileCapability(ref: string, path: string): Promise<string> {
  const { stdout: id } = await run('docker', ['create', ref])
  try {
    const script = [
      'import sys, tarfile',
      "t = tarfile.open(fileobj=sys.stdin.buffer, mode='r|')",
      'for m in t:',
      `    if m.name == '${path.slice(1)}':`,
      "        print(m.pax_headers.get('SCHILY.xattr.security.capability', '').encode('latin-1').hex())",
      '        break'
    ].join('\n')
    const { stdout } = await run(
      'bash',
      ['-c', 'docker export "$1" | python3 -c "$2"', '_', id.trim(), script],
      {
        maxBuffer: 64 * 1024 * 1024
      }
    )
    return stdout.trim()
  } finally {
    await run('docker', ['rm', '-f', id.trim()])
  }
}
