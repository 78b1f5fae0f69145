// Which release tarballs a build yields and their members (kube-build-flow.md §3.5 and §5).
// Everything is rooted at kubernetes/ except the clean-tree src tarball, which git archive writes.
import { ReleaseError } from '../errors.js'
import { posix } from 'node:path'
import type { TarMember } from '../archive/tar.js'
import type { BuildPlan } from './build-plan.js'
import type { TreeEntry } from './tree-files.js'
import { binaryFileName, type TargetGroupName } from './targets.js'

export const SRC_TARBALL = 'kubernetes-src.tar.gz'
export const MANIFESTS_TARBALL = 'kubernetes-manifests.tar.gz'
export const PORTABLE_TARBALL = 'kubernetes-test-portable.tar.gz'
export const FINAL_TARBALL = 'kubernetes.tar.gz'

const ROOT = 'kubernetes'

/** A release tarball as written: what the outputs and the summary list. */
export interface ReleaseTarball {
  readonly name: string
  readonly path: string
  readonly bytes: number
  readonly sha256: string
}

export interface TarballPlan {
  readonly name: string
  readonly members: readonly TarMember[]
}

/** An image archive made for a server tarball: server/bin/<binary>.tar and .docker_tag. */
export interface ServerImageFile {
  readonly binary: string
  readonly archive: string
  readonly dockerTag: string
}

export interface ReleaseSources {
  readonly treeRoot: string
  /** The tree's files (see tree-files.ts): what the src, manifests, portable and final tarballs copy. */
  readonly tree: readonly TreeEntry[]
  readonly built: BuildPlan['built']
  /** _output/dockerized/bin on the host. */
  readonly binRoot: string
  readonly version: string
  /** Where the src and manifests tarballs are written, to be embedded in others. */
  readonly releaseTars: string
  /** Image archives per linux server platform. */
  readonly serverImages: ReadonlyMap<string, readonly ServerImageFile[]>
}

interface BinaryTarball {
  readonly kind: 'client' | 'node' | 'server' | 'test'
  /** Written for a platform where any of these groups was built. */
  readonly groups: readonly TargetGroupName[]
  /** Binaries of these groups built on the platform are added too. */
  readonly extras: readonly TargetGroupName[]
  readonly binDir: string
  /** LICENSES/ and the src tarball. */
  readonly withSource: boolean
}

const BINARY_TARBALLS: readonly BinaryTarball[] = [
  { kind: 'client', groups: ['client'], extras: [], binDir: 'client/bin', withSource: false },
  { kind: 'node', groups: ['node'], extras: ['client'], binDir: 'node/bin', withSource: true },
  { kind: 'server', groups: ['server'], extras: ['client'], binDir: 'server/bin', withSource: true },
  { kind: 'test', groups: ['test', 'test-server'], extras: [], binDir: 'test/bin', withSource: false }
]

/** The gci-trusty selection of cluster/gce/manifests. */
const GCE_MANIFESTS = [
  'kube-proxy.manifest',
  'cluster-autoscaler.manifest',
  'etcd.manifest',
  'kube-scheduler.manifest',
  'kube-apiserver.manifest',
  'konnectivity-server.yaml',
  'abac-authz-policy.jsonl',
  'cloud-controller-manager.manifest',
  'kube-controller-manager.manifest',
  'kube-addon-manager.yaml',
  'glbc.manifest'
]
/** cluster/gce/gci scripts and their names in gci-trusty/; the gke one only when present. */
const GCI_SCRIPTS: readonly (readonly [string, string, boolean])[] = [
  ['configure-helper.sh', 'gci-configure-helper.sh', true],
  ['configure-kubeapiserver.sh', 'configure-kubeapiserver.sh', true],
  ['gke-internal-configure-helper.sh', 'gke-internal-configure-helper.sh', false],
  ['health-monitor.sh', 'health-monitor.sh', true]
]
const ADDON_DIRS = ['cluster/addons', 'cluster/gce/addons']
/** KUBE_TEST_PORTABLE, after test/images. */
const TEST_PORTABLE = [
  'test/images',
  'test/e2e/testing-manifests',
  'test/kubemark',
  'hack/e2e-internal',
  'hack/get-build.sh',
  'hack/ginkgo-e2e.sh',
  'hack/lib'
]
const SRC_EXCLUDED_TOP_LEVEL = /^(_|\.git|\.config|\.gsutil)/

const BINARIES_MOVED = 'Run cluster/get-kube-binaries.sh to download client and server binaries.\n'
const CLIENT_README = `Client binaries are no longer included in the Kubernetes final tarball.\n\n${BINARIES_MOVED}`
const SERVER_README = `Server binary tarballs are no longer included in the Kubernetes final tarball.\n\n${BINARIES_MOVED}`

/** Adds every parent directory of the members and sorts by path: a stable, complete member list. */
export function withDirectories(members: readonly TarMember[]): TarMember[] {
  const byPath = new Map<string, TarMember>()
  for (const member of members) {
    const parts = member.path.replace(/\/$/, '').split('/')
    for (let i = 1; i < parts.length; i++) {
      const dir = `${parts.slice(0, i).join('/')}/`
      if (!byPath.has(dir)) byPath.set(dir, { kind: 'dir', path: dir })
    }
    byPath.set(member.path, member)
  }
  return [...byPath.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
}

function isUnder(path: string, prefix: string): boolean {
  return prefix === '' || path === prefix || path.startsWith(`${prefix}/`)
}

/** The tree entries at or under `from`, placed under `to` in the archive. */
function copyTree(sources: ReleaseSources, from: string, to: string): TarMember[] {
  return sources.tree
    .filter(entry => isUnder(entry.path, from))
    .map(entry => {
      const path = posix.join(to, posix.relative(from, entry.path))
      if (entry.kind === 'dir') return { kind: 'dir', path: `${path}/` }
      if (entry.kind === 'symlink') return { kind: 'symlink', path, target: entry.target }
      return { kind: 'file', path, source: posix.join(sources.treeRoot, entry.path) }
    })
}

function requireEntry(sources: ReleaseSources, path: string, tarball: string): void {
  if (!sources.tree.some(e => e.path === path)) {
    throw new ReleaseError(`${tarball} needs ${path}, which the tree does not have`)
  }
}

const embedded = (sources: ReleaseSources, name: string, at: string): TarMember => ({
  kind: 'file',
  path: at,
  source: posix.join(sources.releaseTars, name)
})

/**
 * The dirty-tree form of the src tarball: every top-level entry but _*, .git*, .config*, .gsutil*.
 * Upstream hands tar those entries, not the tree's directory, so there is no `kubernetes/` member.
 */
export function planDirtySrc(sources: ReleaseSources): TarballPlan {
  const kept = sources.tree.filter(e => !SRC_EXCLUDED_TOP_LEVEL.test(e.path.split('/')[0]))
  const members = withDirectories(copyTree({ ...sources, tree: kept }, '', ROOT))
  return { name: SRC_TARBALL, members: members.filter(m => m.path !== `${ROOT}/`) }
}

/** The client, node, server and test tarballs of every platform this run built. */
export function planBinaryTarballs(sources: ReleaseSources): TarballPlan[] {
  const plans: TarballPlan[] = []
  for (const [platform, groups] of sources.built) {
    for (const tarball of BINARY_TARBALLS) {
      if (!tarball.groups.some(g => groups.has(g))) continue
      const binaries = [...new Set([...tarball.groups, ...tarball.extras].flatMap(g => groups.get(g) ?? []))]
      const members: TarMember[] = binaries.map(binary => {
        const file = binaryFileName(binary, platform)
        return {
          kind: 'file',
          path: `${ROOT}/${tarball.binDir}/${file}`,
          source: posix.join(sources.binRoot, platform, file)
        }
      })
      if (tarball.kind === 'server') {
        members.push({ kind: 'dir', path: `${ROOT}/addons/` })
        for (const image of sources.serverImages.get(platform) ?? []) {
          members.push({
            kind: 'file',
            path: `${ROOT}/server/bin/${image.binary}.tar`,
            source: image.archive
          })
          members.push({
            kind: 'data',
            path: `${ROOT}/server/bin/${image.binary}.docker_tag`,
            data: `${image.dockerTag}\n`,
            mode: 0o644
          })
        }
      }
      if (tarball.withSource) {
        members.push(...copyTree(sources, 'LICENSES', `${ROOT}/LICENSES`))
        members.push(embedded(sources, SRC_TARBALL, `${ROOT}/${SRC_TARBALL}`))
      }
      plans.push({
        name: `kubernetes-${tarball.kind}-${platform.replace('/', '-')}.tar.gz`,
        members: withDirectories(members)
      })
    }
  }
  return plans
}

/** kubernetes-manifests.tar.gz: the GCE manifests and scripts, and the addons (no *demo*). */
export function planManifests(sources: ReleaseSources): TarballPlan {
  const dir = `${ROOT}/gci-trusty`
  const members: TarMember[] = []
  const manifests = sources.tree.filter(
    e =>
      e.kind !== 'dir' &&
      posix.dirname(e.path) === 'cluster/gce/manifests' &&
      (GCE_MANIFESTS.includes(posix.basename(e.path)) || posix.basename(e.path).startsWith('internal-'))
  )
  for (const name of GCE_MANIFESTS) requireEntry(sources, `cluster/gce/manifests/${name}`, MANIFESTS_TARBALL)
  for (const entry of manifests)
    members.push(...copyTree(sources, entry.path, `${dir}/${posix.basename(entry.path)}`))
  for (const [from, to, required] of GCI_SCRIPTS) {
    const path = `cluster/gce/gci/${from}`
    if (required) requireEntry(sources, path, MANIFESTS_TARBALL)
    members.push(...copyTree(sources, path, `${dir}/${to}`))
  }
  for (const addons of ADDON_DIRS) {
    const selected = sources.tree.filter(
      e =>
        e.kind !== 'dir' &&
        isUnder(e.path, addons) &&
        /(\.yaml|\.yaml\.in|\.json)$/.test(e.path) &&
        !posix.basename(e.path).includes('demo')
    )
    for (const entry of selected)
      members.push(...copyTree(sources, entry.path, posix.join(dir, posix.relative(addons, entry.path))))
  }
  return { name: MANIFESTS_TARBALL, members: withDirectories(members) }
}

/** kubernetes-test-portable.tar.gz: what e2e runs need besides binaries. */
export function planTestPortable(sources: ReleaseSources): TarballPlan {
  const members = TEST_PORTABLE.flatMap(path => {
    requireEntry(sources, path, PORTABLE_TARBALL)
    return copyTree(sources, path, `${ROOT}/${path}`)
  })
  return { name: PORTABLE_TARBALL, members: withDirectories(members) }
}

/** kubernetes.tar.gz: cluster scripts, manifests, docs, licenses and the version. */
export function planFinalTarball(sources: ReleaseSources): TarballPlan {
  for (const path of ['cluster', 'hack/lib', 'docs', 'README.md', 'LICENSES'])
    requireEntry(sources, path, FINAL_TARBALL)
  const members: TarMember[] = [
    { kind: 'data', path: `${ROOT}/client/README`, data: CLIENT_README, mode: 0o644 },
    ...copyTree(sources, 'cluster', `${ROOT}/cluster`),
    embedded(sources, MANIFESTS_TARBALL, `${ROOT}/server/${MANIFESTS_TARBALL}`),
    { kind: 'data', path: `${ROOT}/server/README`, data: SERVER_README, mode: 0o644 },
    ...copyTree(sources, 'hack/lib', `${ROOT}/hack/lib`),
    ...copyTree(sources, 'docs', `${ROOT}/docs`),
    ...copyTree(sources, 'README.md', `${ROOT}/README.md`),
    ...copyTree(sources, 'LICENSES', `${ROOT}/LICENSES`),
    { kind: 'data', path: `${ROOT}/version`, data: `${sources.version}\n`, mode: 0o644 }
  ]
  return { name: FINAL_TARBALL, members: withDirectories(members) }
}
