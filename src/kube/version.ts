// The version computation of hack/lib/version.sh (kube-build-flow.md §3.3.6), done on the host.
import { InputError } from '../errors.js'
import { readFile } from 'node:fs/promises'
import { git } from './git.js'
import { VERSION_FILE_NAME } from './layout.js'

export interface KubeVersion {
  readonly commit: string
  readonly treeState: 'clean' | 'dirty' | 'archive'
  readonly version: string
  readonly major: string
  readonly minor: string
}

const SEMVER = /^v([0-9]+)\.([0-9]+)(\.[0-9]+)?(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$/

/**
 * Turns `git describe --tags --abbrev=14` output into semver: `-N-g<hash>` after a pre-release
 * becomes `.N+<hash>`, after a release `-N+<hash>`; a dirty tree gets `-dirty`.
 */
export function describeToSemver(describe: string, dirty: boolean): string {
  const dashes = describe.replace(/[^-]/g, '')
  let version = describe
  if (dashes === '---') version = describe.replace(/-([0-9]+)-g([0-9a-f]{14})$/, '.$1+$2')
  else if (dashes === '--') version = describe.replace(/-g([0-9a-f]{14})$/, '+$1')
  return dirty ? `${version}-dirty` : version
}

/** Major and minor as upstream reports them: the minor gets `+` when anything follows the release. */
export function majorMinor(version: string): { major: string; minor: string } {
  const m = /^v([0-9]+)\.([0-9]+)(\.[0-9]+)?([-].*)?([+].*)?$/.exec(version)
  if (!m) return { major: '', minor: '' }
  return { major: m[1], minor: m[4] ? `${m[2]}+` : m[2] }
}

export function assertSemver(version: string): void {
  if (!SEMVER.test(version)) {
    throw new InputError(`KUBE_GIT_VERSION should be a valid Semantic Version. Current value: ${version}`)
  }
}

/** The file the container reads through KUBE_GIT_VERSION_FILE: five single-quoted assignments. */
export function versionFileContent(v: KubeVersion): string {
  return [
    `KUBE_GIT_COMMIT='${v.commit}'`,
    `KUBE_GIT_TREE_STATE='${v.treeState}'`,
    `KUBE_GIT_VERSION='${v.version}'`,
    `KUBE_GIT_MAJOR='${v.major}'`,
    `KUBE_GIT_MINOR='${v.minor}'`,
    ''
  ].join('\n')
}

/** Reads a version file (KUBE_GIT_VERSION_FILE) back: `KEY='value'` or `KEY=value` lines. */
export function parseVersionFile(text: string): Partial<Record<string, string>> {
  const vars: Record<string, string> = {}
  for (const line of text.split('\n')) {
    const m = /^\s*(?:export\s+)?(KUBE_GIT_[A-Z_]+)=(?:'([^']*)'|"([^"]*)"|(\S*))\s*$/.exec(line)
    if (m) vars[m[1]] = m[2] ?? m[3] ?? m[4] ?? ''
  }
  return vars
}

/** clean when `git status` lists nothing; dirty otherwise, and when git cannot tell (as upstream). */
async function gitTreeState(root: string): Promise<'clean' | 'dirty'> {
  try {
    // Our own version file is written into the tree; it must not make the tree dirty.
    const status = await trimmedGit(root, [
      'status',
      '--porcelain',
      '--',
      '.',
      `:(exclude)${VERSION_FILE_NAME}`
    ])
    return status === '' ? 'clean' : 'dirty'
  } catch {
    return 'dirty'
  }
}

/** `git args` in `root`, its output without the trailing newline. */
const trimmedGit = async (root: string, args: string[]): Promise<string> => (await git(root, args)).trim()

/**
 * The tree's version. KUBE_GIT_VERSION_FILE wins; KUBE_GIT_COMMIT / KUBE_GIT_TREE_STATE /
 * KUBE_GIT_VERSION override the git detection one by one, as upstream.
 */
export async function computeVersion(root: string, env: NodeJS.ProcessEnv): Promise<KubeVersion> {
  if (env.KUBE_GIT_VERSION_FILE) {
    const vars = parseVersionFile(await readFile(env.KUBE_GIT_VERSION_FILE, 'utf8'))
    return fromParts(vars.KUBE_GIT_COMMIT ?? '', vars.KUBE_GIT_TREE_STATE ?? '', vars.KUBE_GIT_VERSION ?? '')
  }
  try {
    const commit = env.KUBE_GIT_COMMIT || (await trimmedGit(root, ['rev-parse', 'HEAD^{commit}']))
    const treeState = env.KUBE_GIT_TREE_STATE || (await gitTreeState(root))
    // A preset version goes through the same rewrite and -dirty suffix as git's own.
    const describe =
      env.KUBE_GIT_VERSION ||
      (await trimmedGit(root, ['describe', '--tags', '--match=v*', '--abbrev=14', `${commit}^{commit}`]))
    return fromParts(commit, treeState, describeToSemver(describe, treeState === 'dirty'))
  } catch (err) {
    if (err instanceof InputError) throw err
    const detail = (err as { stderr?: string }).stderr?.trim() || (err as Error).message
    throw new InputError(
      `cannot compute the version of ${root} from git (${detail}); the tree needs git history with a ` +
        `v* tag, or set KUBE_GIT_VERSION (and KUBE_GIT_COMMIT) or KUBE_GIT_VERSION_FILE`
    )
  }
}

/**
 * SOURCE_DATE_EPOCH for reproducible output: the variable when set, else the commit time, else
 * (no git) the current time.
 */
export async function sourceDateEpoch(root: string, env: NodeJS.ProcessEnv): Promise<number> {
  if (env.SOURCE_DATE_EPOCH !== undefined && env.SOURCE_DATE_EPOCH !== '') {
    if (!/^[0-9]+$/.test(env.SOURCE_DATE_EPOCH)) {
      throw new InputError(`SOURCE_DATE_EPOCH must be a number of seconds, not '${env.SOURCE_DATE_EPOCH}'`)
    }
    return Number(env.SOURCE_DATE_EPOCH)
  }
  try {
    return Number(await trimmedGit(root, ['log', '-1', '--format=%ct', 'HEAD']))
  } catch {
    return Math.floor(Date.now() / 1000)
  }
}

function fromParts(commit: string, treeState: string, version: string): KubeVersion {
  assertSemver(version)
  if (treeState !== 'clean' && treeState !== 'dirty' && treeState !== 'archive') {
    throw new InputError(`KUBE_GIT_TREE_STATE must be clean, dirty or archive, not '${treeState}'`)
  }
  return { commit, treeState, version, ...majorMinor(version) }
}
