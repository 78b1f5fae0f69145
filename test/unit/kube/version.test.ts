// The version computation of hack/lib/version.sh, checked against kube-build-flow.md §3.3.6 and §3.1
// (the version file), with real temporary git repositories.
import { execFileSync } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import {
  assertSemver,
  computeVersion,
  describeToSemver,
  majorMinor,
  parseVersionFile,
  sourceDateEpoch,
  versionFileContent,
  type KubeVersion
} from '../../../src/kube/version.js'
import { InputError } from '../../../src/errors.js'

describe('describeToSemver', () => {
  it.each([
    // three dashes: distance to a pre-release tag → .N+<hash>
    ['v1.35.0-alpha.1-149-ge21082468a3b49', false, 'v1.35.0-alpha.1.149+e21082468a3b49'],
    ['v1.1.0-alpha.0-6-g84c76d1142ea4d', false, 'v1.1.0-alpha.0.6+84c76d1142ea4d'],
    ['v1.30.0-rc.2-1-g0123456789abcd', false, 'v1.30.0-rc.2.1+0123456789abcd'],
    // two dashes: distance to a release tag → -N+<hash>
    ['v1.1.0-1-g84c76d1142ea4d', false, 'v1.1.0-1+84c76d1142ea4d'],
    ['v1.31.2-42-gabcdefabcdef01', false, 'v1.31.2-42+abcdefabcdef01'],
    // exactly on a tag: unchanged
    ['v1.2.3', false, 'v1.2.3'],
    ['v1.35.0-alpha.1', false, 'v1.35.0-alpha.1'],
    // a dirty tree appends -dirty, after the rewrite
    ['v1.2.3', true, 'v1.2.3-dirty'],
    ['v1.35.0-alpha.1', true, 'v1.35.0-alpha.1-dirty'],
    ['v1.1.0-1-g84c76d1142ea4d', true, 'v1.1.0-1+84c76d1142ea4d-dirty'],
    ['v1.35.0-alpha.1-149-ge21082468a3b49', true, 'v1.35.0-alpha.1.149+e21082468a3b49-dirty']
  ])('%s (dirty %s) → %s', (describe, dirty, expected) => {
    expect(describeToSemver(describe, dirty)).toBe(expected)
  })

  it('leaves a hash that is not 14 hex digits alone (upstream matches --abbrev=14 only)', () => {
    expect(describeToSemver('v1.1.0-1-g84c76d1', false)).toBe('v1.1.0-1-g84c76d1')
  })

  it('every rewritten describe output is valid semver', () => {
    for (const d of ['v1.35.0-alpha.1-149-ge21082468a3b49', 'v1.1.0-1-g84c76d1142ea4d', 'v1.2.3']) {
      for (const dirty of [false, true]) expect(() => assertSemver(describeToSemver(d, dirty))).not.toThrow()
    }
  })
})

describe('majorMinor', () => {
  it.each([
    ['v1.2.3', '1', '2'],
    ['v1.31.0', '1', '31'],
    ['v1.2', '1', '2'],
    // a pre-release or extra part after the release: the minor gets a trailing +
    ['v1.35.0-alpha.1', '1', '35+'],
    ['v1.35.0-alpha.1.149+e21082468a3b49', '1', '35+'],
    ['v1.1.0-1+84c76d1142ea4d', '1', '1+'],
    ['v1.2.3-dirty', '1', '2+'],
    ['v2.0.0-rc.0', '2', '0+'],
    // not a version: both empty, as upstream leaves them unset
    ['1.2.3', '', ''],
    ['banana', '', '']
  ])('%s → major %j minor %j', (version, major, minor) => {
    expect(majorMinor(version)).toEqual({ major, minor })
  })
})

describe('assertSemver', () => {
  it.each([
    'v1.2.3',
    'v1.2',
    'v0.0.0',
    'v1.35.0-alpha.1',
    'v1.35.0-alpha.1.149+e21082468a3b49',
    'v1.1.0-1+84c76d1142ea4d',
    'v1.1.0-1+84c76d1142ea4d-dirty',
    'v1.2.3-dirty',
    'v10.20.30-rc.1+build.5'
  ])('accepts %s', version => {
    expect(() => assertSemver(version)).not.toThrow()
  })

  it.each([
    '',
    '1.2.3',
    'v1',
    'v1.',
    'v1.2.3.4',
    'vx.y.z',
    'v1.2.3-',
    'v1.2.3+',
    'v1.2.3 ',
    'v1.2.3-a_b',
    'main'
  ])('rejects %j with upstream’s message', version => {
    expect(() => assertSemver(version)).toThrow(InputError)
    expect(() => assertSemver(version)).toThrow(
      `KUBE_GIT_VERSION should be a valid Semantic Version. Current value: ${version}`
    )
  })
})

describe('version file', () => {
  const v: KubeVersion = {
    commit: 'e21082468a3b49d0b2c4e6f8a0b2c4e6f8a0b2c4',
    treeState: 'dirty',
    version: 'v1.35.0-alpha.1.149+e21082468a3b49-dirty',
    major: '1',
    minor: '35+'
  }

  it('holds the five single-quoted assignments of save_version_vars', () => {
    const lines = versionFileContent(v)
      .split('\n')
      .filter(l => l !== '')
    expect(lines.sort()).toEqual(
      [
        `KUBE_GIT_COMMIT='${v.commit}'`,
        `KUBE_GIT_TREE_STATE='dirty'`,
        `KUBE_GIT_VERSION='${v.version}'`,
        `KUBE_GIT_MAJOR='1'`,
        `KUBE_GIT_MINOR='35+'`
      ].sort()
    )
  })

  it('is sourceable by bash and gives the same values', () => {
    const out = execFileSync(
      'bash',
      [
        '-c',
        'eval "$(cat)"; printf "%s|%s|%s|%s|%s" "$KUBE_GIT_COMMIT" "$KUBE_GIT_TREE_STATE" "$KUBE_GIT_VERSION" "$KUBE_GIT_MAJOR" "$KUBE_GIT_MINOR"'
      ],
      { input: versionFileContent(v), encoding: 'utf8' }
    )
    expect(out).toBe([v.commit, v.treeState, v.version, v.major, v.minor].join('|'))
  })

  it('round-trips through parseVersionFile', () => {
    expect(parseVersionFile(versionFileContent(v))).toEqual({
      KUBE_GIT_COMMIT: v.commit,
      KUBE_GIT_TREE_STATE: v.treeState,
      KUBE_GIT_VERSION: v.version,
      KUBE_GIT_MAJOR: v.major,
      KUBE_GIT_MINOR: v.minor
    })
  })

  it.each([
    ["KUBE_GIT_VERSION='v1.2.3'", 'v1.2.3'],
    ['KUBE_GIT_VERSION="v1.2.3"', 'v1.2.3'],
    ['KUBE_GIT_VERSION=v1.2.3', 'v1.2.3'],
    ["export KUBE_GIT_VERSION='v1.2.3'", 'v1.2.3'],
    ["  KUBE_GIT_VERSION='v1.2.3'  ", 'v1.2.3'],
    ["KUBE_GIT_VERSION=''", '']
  ])('parses %j', (line, value) => {
    expect(parseVersionFile(`# a comment\n${line}\nOTHER=1\n`)).toEqual({ KUBE_GIT_VERSION: value })
  })
})

// ---- computeVersion against real repositories ----

const GIT_ENV = {
  GIT_AUTHOR_NAME: 'n',
  GIT_AUTHOR_EMAIL: 'a@b',
  GIT_COMMITTER_NAME: 'n',
  GIT_COMMITTER_EMAIL: 'a@b',
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null'
}

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', ['-c', 'user.email=a@b', '-c', 'user.name=n', ...args], {
    cwd,
    env: { ...process.env, ...GIT_ENV },
    encoding: 'utf8'
  }).trim()
}

let dir: string
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kube-version-'))
})
afterEach(async () => {
  await rm(dir, { recursive: true, force: true })
})

/** A repository with one commit tagged v1.2.3. */
async function taggedRepo(): Promise<string> {
  git(dir, 'init', '-q')
  await writeFile(join(dir, 'Makefile'), 'all:\n')
  git(dir, 'add', '.')
  git(dir, 'commit', '-q', '-m', 'one')
  git(dir, 'tag', '-a', '-m', 'v1.2.3', 'v1.2.3')
  return git(dir, 'rev-parse', 'HEAD')
}

async function commitAnother(): Promise<string> {
  await writeFile(join(dir, 'README.md'), 'two\n')
  git(dir, 'add', '.')
  git(dir, 'commit', '-q', '-m', 'two')
  return git(dir, 'rev-parse', 'HEAD')
}

describe('computeVersion', () => {
  it('exactly on a tag, clean: v1.2.3', async () => {
    const commit = await taggedRepo()
    expect(await computeVersion(dir, {})).toEqual({
      commit,
      treeState: 'clean',
      version: 'v1.2.3',
      major: '1',
      minor: '2'
    })
  })

  it('one commit after the tag: v1.2.3-1+<14 hex of the commit>', async () => {
    await taggedRepo()
    const commit = await commitAnother()
    const v = await computeVersion(dir, {})
    expect(v.version).toBe(`v1.2.3-1+${commit.slice(0, 14)}`)
    expect(v.version).toMatch(/^v1\.2\.3-1\+[0-9a-f]{14}$/)
    expect(v).toMatchObject({ commit, treeState: 'clean', major: '1', minor: '2+' })
  })

  it('after a pre-release tag: v1.35.0-alpha.1.N+<hash>', async () => {
    git(dir, 'init', '-q')
    await writeFile(join(dir, 'Makefile'), 'all:\n')
    git(dir, 'add', '.')
    git(dir, 'commit', '-q', '-m', 'one')
    git(dir, 'tag', 'v1.35.0-alpha.1')
    await commitAnother()
    await writeFile(join(dir, 'x'), 'x\n')
    git(dir, 'add', '.')
    git(dir, 'commit', '-q', '-m', 'three')
    const commit = git(dir, 'rev-parse', 'HEAD')
    const v = await computeVersion(dir, {})
    expect(v.version).toBe(`v1.35.0-alpha.1.2+${commit.slice(0, 14)}`)
    expect(v.minor).toBe('35+')
  })

  it('only v* tags count (--match=v*)', async () => {
    await taggedRepo()
    await commitAnother()
    git(dir, 'tag', 'other-tag')
    expect((await computeVersion(dir, {})).version).toMatch(/^v1\.2\.3-1\+[0-9a-f]{14}$/)
  })

  it('an untracked file makes the tree dirty', async () => {
    await taggedRepo()
    await writeFile(join(dir, 'new.go'), 'package x\n')
    expect(await computeVersion(dir, {})).toMatchObject({
      treeState: 'dirty',
      version: 'v1.2.3-dirty',
      minor: '2+'
    })
  })

  it('a modified tracked file makes the tree dirty', async () => {
    await taggedRepo()
    await writeFile(join(dir, 'Makefile'), 'all: changed\n')
    expect(await computeVersion(dir, {})).toMatchObject({ treeState: 'dirty', version: 'v1.2.3-dirty' })
  })

  it('dirty after a commit: v1.2.3-1+<hash>-dirty', async () => {
    await taggedRepo()
    const commit = await commitAnother()
    await writeFile(join(dir, 'README.md'), 'changed\n')
    expect((await computeVersion(dir, {})).version).toBe(`v1.2.3-1+${commit.slice(0, 14)}-dirty`)
  })

  it('the .dockerized-kube-version-defs file alone does not make the tree dirty', async () => {
    await taggedRepo()
    await writeFile(join(dir, '.dockerized-kube-version-defs'), "KUBE_GIT_VERSION='v9.9.9'\n")
    expect(await computeVersion(dir, {})).toMatchObject({ treeState: 'clean', version: 'v1.2.3' })
  })

  it('the version file next to another change still leaves the tree dirty', async () => {
    await taggedRepo()
    await writeFile(join(dir, '.dockerized-kube-version-defs'), "KUBE_GIT_VERSION='v9.9.9'\n")
    await writeFile(join(dir, 'other'), 'x\n')
    expect((await computeVersion(dir, {})).treeState).toBe('dirty')
  })

  it('KUBE_GIT_VERSION overrides git describe', async () => {
    const commit = await taggedRepo()
    expect(await computeVersion(dir, { KUBE_GIT_VERSION: 'v1.40.0-beta.0' })).toEqual({
      commit,
      treeState: 'clean',
      version: 'v1.40.0-beta.0',
      major: '1',
      minor: '40+'
    })
  })

  it('KUBE_GIT_COMMIT and KUBE_GIT_TREE_STATE override the detection one by one', async () => {
    await taggedRepo()
    await writeFile(join(dir, 'untracked'), 'x\n')
    const v = await computeVersion(dir, {
      KUBE_GIT_COMMIT: git(dir, 'rev-parse', 'HEAD'),
      KUBE_GIT_TREE_STATE: 'clean'
    })
    expect(v).toMatchObject({ treeState: 'clean', version: 'v1.2.3' })
  })

  // Upstream (version.sh) runs the describe rewrite and the -dirty suffix on KUBE_GIT_VERSION whether it
  // was preset or came from git describe: `if [[ -n ${KUBE_GIT_VERSION-} ]] || KUBE_GIT_VERSION=$(git
  // describe …); then …; if dirty then KUBE_GIT_VERSION+="-dirty"`. §3.3.6 lists both under KUBE_GIT_VERSION.
  it('a preset KUBE_GIT_VERSION in a dirty tree gets -dirty, as upstream', async () => {
    await taggedRepo()
    await writeFile(join(dir, 'untracked'), 'x\n')
    const v = await computeVersion(dir, { KUBE_GIT_VERSION: 'v1.40.0' })
    expect(v.treeState).toBe('dirty')
    expect(v.version).toBe('v1.40.0-dirty')
  })

  it('rejects a KUBE_GIT_VERSION that is not semver', async () => {
    await taggedRepo()
    await expect(computeVersion(dir, { KUBE_GIT_VERSION: '1.2.3' })).rejects.toThrow(
      'KUBE_GIT_VERSION should be a valid Semantic Version. Current value: 1.2.3'
    )
  })

  it('rejects a KUBE_GIT_TREE_STATE other than clean, dirty or archive', async () => {
    await taggedRepo()
    await expect(computeVersion(dir, { KUBE_GIT_TREE_STATE: 'weird' })).rejects.toThrow(InputError)
  })

  it('KUBE_GIT_VERSION_FILE wins over git and the other variables', async () => {
    await taggedRepo()
    const file = join(dir, 'defs')
    await writeFile(
      file,
      versionFileContent({
        commit: 'abc123',
        treeState: 'clean',
        version: 'v1.33.1-rc.0+deadbeef',
        major: 'ignored',
        minor: 'ignored'
      })
    )
    const v = await computeVersion(dir, { KUBE_GIT_VERSION_FILE: file, KUBE_GIT_VERSION: 'v9.9.9' })
    // major/minor are derived from the version, as upstream's save/load round trip would give them.
    expect(v).toEqual({
      commit: 'abc123',
      treeState: 'clean',
      version: 'v1.33.1-rc.0+deadbeef',
      major: '1',
      minor: '33+'
    })
  })

  it('KUBE_GIT_VERSION_FILE works without any git repository', async () => {
    const file = join(dir, 'defs')
    await writeFile(
      file,
      "KUBE_GIT_COMMIT='c0ffee'\nKUBE_GIT_TREE_STATE='archive'\nKUBE_GIT_VERSION='v1.2.3'\n"
    )
    expect(await computeVersion(dir, { KUBE_GIT_VERSION_FILE: file })).toMatchObject({
      commit: 'c0ffee',
      treeState: 'archive',
      version: 'v1.2.3'
    })
  })

  it('a missing KUBE_GIT_VERSION_FILE is an error', async () => {
    await expect(computeVersion(dir, { KUBE_GIT_VERSION_FILE: join(dir, 'nope') })).rejects.toThrow()
  })

  it('no git repository: InputError mentioning KUBE_GIT_VERSION', async () => {
    const err = await computeVersion(dir, {}).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(InputError)
    expect((err as Error).message).toContain('KUBE_GIT_VERSION')
    expect((err as Error).message).toContain(dir)
  })

  it('a repository without any v* tag: InputError', async () => {
    git(dir, 'init', '-q')
    await writeFile(join(dir, 'Makefile'), 'all:\n')
    git(dir, 'add', '.')
    git(dir, 'commit', '-q', '-m', 'one')
    git(dir, 'tag', 'release-1')
    await expect(computeVersion(dir, {})).rejects.toThrow(InputError)
  })

  it('no git repository, but all three variables set: no git needed', async () => {
    const v = await computeVersion(dir, {
      KUBE_GIT_VERSION: 'v1.2.3',
      KUBE_GIT_COMMIT: 'abc',
      KUBE_GIT_TREE_STATE: 'clean'
    })
    expect(v).toEqual({ commit: 'abc', treeState: 'clean', version: 'v1.2.3', major: '1', minor: '2' })
  })

  // The error above advises "set KUBE_GIT_VERSION (and KUBE_GIT_COMMIT)". Upstream, with KUBE_GIT_COMMIT
  // preset, a failing `git status` means tree state dirty (never an abort).
  it('no git repository, KUBE_GIT_VERSION and KUBE_GIT_COMMIT set (as the error advises): succeeds, dirty', async () => {
    const v = await computeVersion(dir, { KUBE_GIT_VERSION: 'v1.2.3', KUBE_GIT_COMMIT: 'abc' })
    expect(v.commit).toBe('abc')
    expect(v.treeState).toBe('dirty')
  })
})

// §6: SOURCE_DATE_EPOCH drives buildDate; CI uses the commit timestamp. The variable wins when set.
describe('sourceDateEpoch', () => {
  /** A commit whose committer time is `committed` and author time something else. */
  function commitAt(message: string, committed: number, authored = committed - 86400): void {
    execFileSync('git', ['commit', '-q', '--allow-empty', '-m', message], {
      cwd: dir,
      env: {
        ...process.env,
        ...GIT_ENV,
        GIT_AUTHOR_DATE: `@${authored} +0000`,
        GIT_COMMITTER_DATE: `@${committed} +0200`
      }
    })
  }

  it('the commit time of HEAD (committer time, in seconds since the epoch)', async () => {
    git(dir, 'init', '-q')
    commitAt('one', 1600000000)
    expect(await sourceDateEpoch(dir, {})).toBe(1600000000)
  })

  it('follows HEAD: a later commit, then a checkout of the earlier one', async () => {
    git(dir, 'init', '-q')
    commitAt('one', 1600000000)
    const first = git(dir, 'rev-parse', 'HEAD')
    commitAt('two', 1650000000)
    expect(await sourceDateEpoch(dir, {})).toBe(1650000000)
    git(dir, 'checkout', '-q', first)
    expect(await sourceDateEpoch(dir, {})).toBe(1600000000)
  })

  it('uncommitted changes do not move it', async () => {
    git(dir, 'init', '-q')
    commitAt('one', 1600000000)
    await writeFile(join(dir, 'new'), 'x\n')
    expect(await sourceDateEpoch(dir, {})).toBe(1600000000)
  })

  it.each(['1700000000', '0', '1'])('SOURCE_DATE_EPOCH=%s wins over the commit time', async value => {
    git(dir, 'init', '-q')
    commitAt('one', 1600000000)
    expect(await sourceDateEpoch(dir, { SOURCE_DATE_EPOCH: value })).toBe(Number(value))
  })

  it('SOURCE_DATE_EPOCH needs no git repository', async () => {
    expect(await sourceDateEpoch(dir, { SOURCE_DATE_EPOCH: '1234567890' })).toBe(1234567890)
  })

  it('an empty SOURCE_DATE_EPOCH counts as unset (upstream passes ${SOURCE_DATE_EPOCH:-})', async () => {
    git(dir, 'init', '-q')
    commitAt('one', 1600000000)
    expect(await sourceDateEpoch(dir, { SOURCE_DATE_EPOCH: '' })).toBe(1600000000)
  })

  it.each(['yesterday', '-5', '1.5', '17e8', ' 12', '0x10', '12abc'])(
    'SOURCE_DATE_EPOCH=%j is not a number of seconds: InputError naming it',
    async value => {
      const err = await sourceDateEpoch(dir, { SOURCE_DATE_EPOCH: value }).catch((e: unknown) => e)
      expect(err).toBeInstanceOf(InputError)
      expect((err as Error).message).toContain('SOURCE_DATE_EPOCH')
      expect((err as Error).message).toContain(value)
    }
  )

  it('no git repository: the current time, in whole seconds', async () => {
    const before = Math.floor(Date.now() / 1000)
    const epoch = await sourceDateEpoch(dir, {})
    const after = Math.ceil(Date.now() / 1000)
    expect(Number.isInteger(epoch)).toBe(true)
    expect(epoch).toBeGreaterThanOrEqual(before)
    expect(epoch).toBeLessThanOrEqual(after)
  })

  it('a repository without commits: the current time', async () => {
    git(dir, 'init', '-q')
    const before = Math.floor(Date.now() / 1000)
    const epoch = await sourceDateEpoch(dir, {})
    expect(epoch).toBeGreaterThanOrEqual(before)
    expect(epoch).toBeLessThanOrEqual(Math.ceil(Date.now() / 1000))
  })
})
