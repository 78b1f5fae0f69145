// The checks every successful e2e build goes through: the tarball set and members match the spec,
// owners are 0/0, every binary is built for its platform, host binaries print the version, the
// checksum files verify.
import { execFile, execFileSync } from 'node:child_process'
import { readFile, readdir } from 'node:fs/promises'
import { join, relative } from 'node:path'
import { promisify } from 'node:util'
import { expect } from 'vitest'
import { expectedTarballs, expectedTreeTarballs } from './expected.js'
import { binaryPlatform, extractTar, tarMembers } from './helpers.js'

const run = promisify(execFile)

export function engineArch(): string {
  return execFileSync('docker', ['version', '--format', '{{.Server.Arch}}'], { encoding: 'utf8' }).trim()
}

async function licenseFiles(tree: string): Promise<string[]> {
  const dir = join(tree, 'LICENSES')
  const entries = await readdir(dir, { recursive: true, withFileTypes: true })
  return entries.filter(e => e.isFile()).map(e => relative(dir, join(e.parentPath, e.name)))
}

export interface ReleaseExpectation {
  readonly platforms: string[]
  readonly version: string
  /** Server tarballs hold image archives. */
  readonly images: boolean
  /** A whole make cross (no targets): the src, manifests, portable and final tarballs too. */
  readonly full: boolean
}

export async function checkRelease(tree: string, expected: ReleaseExpectation): Promise<void> {
  const tars = join(tree, '_output/release-tars')
  const binary = expectedTarballs(expected.platforms, {
    licenses: await licenseFiles(tree),
    images: expected.images
  })
  const copied = expected.full ? expectedTreeTarballs(tree) : new Map<string, string[]>()
  const names = [...binary.keys(), ...copied.keys()]
  expect((await readdir(tars)).sort()).toEqual(
    [...names, ...names.flatMap(n => [`${n}.sha256`, `${n}.sha512`]), 'SHA256SUMS', 'SHA512SUMS'].sort()
  )
  await run('sha256sum', ['--check', '--strict', 'SHA256SUMS'], { cwd: tars })
  await run('sha512sum', ['--check', '--strict', 'SHA512SUMS'], { cwd: tars })

  for (const [name, members] of copied) {
    const listed = await tarMembers(join(tars, name))
    expect(
      listed
        .map(m => m.path)
        .filter(p => !p.endsWith('/'))
        .sort(),
      name
    ).toEqual(members)
    expect(new Set(listed.map(m => m.owner)), name).toEqual(new Set(['0/0']))
  }
  if (expected.full) {
    const final = await extractTar(join(tars, 'kubernetes.tar.gz'))
    expect(await readFile(join(final, 'kubernetes/version'), 'utf8')).toBe(`${expected.version}\n`)
  }

  const dockerTag = expected.version.replace('+', '_')
  for (const [name, members] of binary) {
    const listed = await tarMembers(join(tars, name))
    expect(
      listed.map(m => m.path),
      name
    ).toEqual(members)
    expect(new Set(listed.map(m => m.owner)), name).toEqual(new Set(['0/0']))
    const platform = /-((?:linux|darwin|windows)-[a-z0-9]+)\.tar\.gz$/.exec(name)![1].replace('-', '/')
    const root = await extractTar(join(tars, name))
    for (const member of listed.filter(m => m.path.endsWith('.docker_tag'))) {
      expect(await readFile(join(root, member.path), 'utf8'), member.path).toBe(`${dockerTag}\n`)
    }
    const binaries = listed.filter(m => /\/bin\/[^/]+$/.test(m.path) && !/\.(tar|docker_tag)$/.test(m.path))
    for (const member of binaries) {
      expect(member.mode, member.path).toMatch(/^-rwxr-xr-x/)
      expect(await binaryPlatform(join(root, member.path)), `${name}: ${member.path}`).toBe(platform)
      if (platform === `linux/${engineArch()}`) {
        const printed = execFileSync(join(root, member.path), ['--version'], { encoding: 'utf8' }).trim()
        expect(printed, member.path).toBe(`Kubernetes ${expected.version}`)
      }
    }
  }
}
