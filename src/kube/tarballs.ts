// Which release tarballs a build yields and their members (kube-build-flow.md §3.5 and §5):
// rooted at kubernetes/, binaries from _output/dockerized/bin/<os>/<arch>/.
import { join } from 'node:path'
import type { TarMember } from '../archive/tar.js'
import type { BuildPlan } from './build-plan.js'
import type { TargetGroupName } from './targets.js'
import { binaryFileName } from './targets.js'

export interface TarballPlan {
  readonly name: string
  readonly platform: string
  readonly members: readonly TarMember[]
}

interface TarballKind {
  readonly kind: 'client' | 'node' | 'server' | 'test'
  /** The tarball exists on a platform where any of these groups was built. */
  readonly groups: readonly TargetGroupName[]
  /** Binaries of these groups built on the platform are added too. */
  readonly extras: readonly TargetGroupName[]
  readonly binDir: string
  readonly licenses: boolean
  readonly addons: boolean
}

const KINDS: readonly TarballKind[] = [
  { kind: 'client', groups: ['client'], extras: [], binDir: 'client/bin', licenses: false, addons: false },
  { kind: 'node', groups: ['node'], extras: ['client'], binDir: 'node/bin', licenses: true, addons: false },
  {
    kind: 'server',
    groups: ['server'],
    extras: ['client'],
    binDir: 'server/bin',
    licenses: true,
    addons: true
  },
  {
    kind: 'test',
    groups: ['test', 'test-server'],
    extras: [],
    binDir: 'test/bin',
    licenses: false,
    addons: false
  }
]

const ROOT = 'kubernetes'

/** Adds every parent directory of the members and sorts by path, as a stable member order. */
function withDirectories(members: TarMember[]): TarMember[] {
  const dirs = new Set<string>()
  for (const member of members) {
    const parts = member.path.split('/').slice(0, -1)
    for (let i = 1; i <= parts.length; i++) dirs.add(`${parts.slice(0, i).join('/')}/`)
    if (member.kind === 'dir') dirs.add(member.path)
  }
  const files = members.filter(m => m.kind !== 'dir')
  const all: TarMember[] = [...[...dirs].map(path => ({ kind: 'dir' as const, path })), ...files]
  return all.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
}

/**
 * @param binRoot   the host's _output/dockerized/bin
 * @param licenses  files under the tree's LICENSES/, relative to it
 * @param treeRoot  the tree, where LICENSES/ is read
 */
export function planTarballs(
  built: BuildPlan['built'],
  binRoot: string,
  licenses: readonly string[],
  treeRoot: string
): TarballPlan[] {
  const plans: TarballPlan[] = []
  for (const [platform, groups] of built) {
    for (const kind of KINDS) {
      if (!kind.groups.some(g => groups.has(g))) continue
      const binaries = [...new Set([...kind.groups, ...kind.extras].flatMap(g => groups.get(g) ?? []))]
      const members: TarMember[] = binaries.map(binary => {
        const file = binaryFileName(binary, platform)
        return { kind: 'file', path: `${ROOT}/${kind.binDir}/${file}`, source: join(binRoot, platform, file) }
      })
      if (kind.addons) members.push({ kind: 'dir', path: `${ROOT}/addons/` })
      if (kind.licenses) {
        for (const license of licenses) {
          members.push({
            kind: 'file',
            path: `${ROOT}/LICENSES/${license}`,
            source: join(treeRoot, 'LICENSES', license)
          })
        }
      }
      plans.push({
        name: `kubernetes-${kind.kind}-${platform.replace('/', '-')}.tar.gz`,
        platform,
        members: withDirectories(members)
      })
    }
  }
  return plans.sort((a, b) => (a.name < b.name ? -1 : 1))
}
