// The checks every successful e2e build goes through: the tarball set and members match the spec,
// owners are 0/0, every binary is built for its platform, host binaries print the version.
import { execFileSync } from 'node:child_process'
import { readdir } from 'node:fs/promises'
import { join, relative } from 'node:path'
import { expect } from 'vitest'
import { expectedTarballs } from './expected.js'
import { binaryPlatform, extractTar, tarMembers } from './helpers.js'

export function engineArch(): string {
  return execFileSync('docker', ['version', '--format', '{{.Server.Arch}}'], { encoding: 'utf8' }).trim()
}

async function licenseFiles(tree: string): Promise<string[]> {
  const dir = join(tree, 'LICENSES')
  const entries = await readdir(dir, { recursive: true, withFileTypes: true })
  return entries.filter(e => e.isFile()).map(e => relative(dir, join(e.parentPath, e.name)))
}

export async function checkRelease(tree: string, platforms: string[], version: string): Promise<void> {
  const tars = join(tree, '_output/release-tars')
  const expected = expectedTarballs(platforms, await licenseFiles(tree))
  expect((await readdir(tars)).sort()).toEqual([...expected.keys()].sort())
  for (const [name, members] of expected) {
    const listed = await tarMembers(join(tars, name))
    expect(
      listed.map(m => m.path),
      name
    ).toEqual(members)
    expect(new Set(listed.map(m => m.owner)), name).toEqual(new Set(['0/0']))
    const platform = /-((?:linux|darwin|windows)-[a-z0-9]+)\.tar\.gz$/.exec(name)![1].replace('-', '/')
    const root = await extractTar(join(tars, name))
    for (const member of listed.filter(m => /\/bin\/[^/]+$/.test(m.path))) {
      expect(member.mode, member.path).toMatch(/^-rwxr-xr-x/)
      expect(await binaryPlatform(join(root, member.path)), `${name}: ${member.path}`).toBe(platform)
      if (platform === `linux/${engineArch()}`) {
        const printed = execFileSync(join(root, member.path), ['--version'], { encoding: 'utf8' }).trim()
        expect(printed, member.path).toBe(`Kubernetes ${version}`)
      }
    }
  }
}
