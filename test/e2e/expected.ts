// Release tarballs and members as kube-build-flow.md §4 and §5 describe them, written out here
// independently of src/ so the e2e tests check the pipeline against the spec, not against itself.
import { execFileSync } from 'node:child_process'
import { readdirSync, statSync, type Dirent } from 'node:fs'
import { basename, join, relative } from 'node:path'

const SERVER_PLATFORMS = ['linux/amd64', 'linux/arm64', 'linux/s390x', 'linux/ppc64le']
const NODE_PLATFORMS = [...SERVER_PLATFORMS, 'windows/amd64']
const CLIENT_PLATFORMS = [
  ...['linux/amd64', 'linux/386', 'linux/arm', 'linux/arm64', 'linux/s390x', 'linux/ppc64le'],
  ...['darwin/amd64', 'darwin/arm64', 'windows/amd64', 'windows/386', 'windows/arm64']
]
const TEST_PLATFORMS = [...SERVER_PLATFORMS, 'darwin/amd64', 'darwin/arm64', 'windows/amd64', 'windows/arm64']

export const CLIENT_BINARIES = ['kubectl', 'kubectl-convert']
export const NODE_BINARIES = ['kube-proxy', 'kubeadm', 'kubelet', 'kube-log-runner']
export const SERVER_BINARIES = [
  'kube-apiserver',
  'kube-controller-manager',
  'kube-scheduler',
  'kube-proxy',
  'kubelet',
  'kubeadm',
  'kube-log-runner',
  'kube-aggregator',
  'apiextensions-apiserver',
  'mounter'
]
export const TEST_BINARIES = ['ginkgo', 'e2e.test', 'go-runner']
export const TEST_SERVER_BINARIES = ['kubemark', 'e2e_node.test']

const exe = (platform: string, name: string): string =>
  platform.startsWith('windows/') ? `${name}.exe` : name
const tag = (platform: string): string => platform.replace('/', '-')

/** Every parent directory of the paths, with a trailing slash, plus the paths; sorted. */
function withDirs(paths: string[]): string[] {
  const all = new Set(paths)
  for (const p of paths) {
    const parts = p.split('/')
    for (let i = 1; i < parts.length; i++) all.add(`${parts.slice(0, i).join('/')}/`)
  }
  return [...all].sort()
}

export const IMAGE_BINARIES = [
  'kube-apiserver',
  'kube-controller-manager',
  'kube-scheduler',
  'kube-proxy',
  'kubectl'
]

export interface ExpectOptions {
  /** Files under the tree's LICENSES/, relative to it. */
  readonly licenses: string[]
  /** Server tarballs hold the image archives. */
  readonly images: boolean
}

/** The binary tarballs of a `make cross` over these platforms, each with its sorted member list. */
export function expectedTarballs(platforms: string[], options: ExpectOptions): Map<string, string[]> {
  const result = new Map<string, string[]>()
  const licenseMembers = [
    ...options.licenses.map(l => `kubernetes/LICENSES/${l}`),
    'kubernetes/kubernetes-src.tar.gz'
  ]
  const imageMembers = options.images
    ? IMAGE_BINARIES.flatMap(b => [`kubernetes/server/bin/${b}.tar`, `kubernetes/server/bin/${b}.docker_tag`])
    : []
  for (const p of platforms) {
    const bins = (dir: string, names: string[]): string[] => names.map(n => `kubernetes/${dir}/${exe(p, n)}`)
    if (CLIENT_PLATFORMS.includes(p))
      result.set(`kubernetes-client-${tag(p)}.tar.gz`, withDirs(bins('client/bin', CLIENT_BINARIES)))
    if (NODE_PLATFORMS.includes(p)) {
      result.set(
        `kubernetes-node-${tag(p)}.tar.gz`,
        withDirs([...bins('node/bin', [...NODE_BINARIES, ...CLIENT_BINARIES]), ...licenseMembers])
      )
    }
    if (SERVER_PLATFORMS.includes(p)) {
      result.set(
        `kubernetes-server-${tag(p)}.tar.gz`,
        withDirs([
          ...bins('server/bin', [...SERVER_BINARIES, ...CLIENT_BINARIES]),
          ...imageMembers,
          'kubernetes/addons/',
          ...licenseMembers
        ])
      )
    }
    if (TEST_PLATFORMS.includes(p)) {
      const names = SERVER_PLATFORMS.includes(p) ? [...TEST_BINARIES, ...TEST_SERVER_BINARIES] : TEST_BINARIES
      result.set(`kubernetes-test-${tag(p)}.tar.gz`, withDirs(bins('test/bin', names)))
    }
  }
  return result
}

/** The GCE manifests that gci-trusty/ holds (§3.5 "manifests"). */
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

/** Every file under `dir` of the tree, relative to the tree (directories left out). */
function filesUnder(tree: string, dir: string): string[] {
  const root = join(tree, dir)
  if (!statSync(root).isDirectory()) return [dir]
  return (readdirSync(root, { recursive: true, withFileTypes: true }) as Dirent[])
    .filter(e => !e.isDirectory())
    .map(e => relative(tree, join(e.parentPath, e.name)))
}

/** The tarballs that copy parts of the tree, with their file members (directories left out). */
export function expectedTreeTarballs(tree: string): Map<string, string[]> {
  const addons = ['cluster/addons', 'cluster/gce/addons'].flatMap(dir =>
    filesUnder(tree, dir)
      .filter(f => /(\.yaml|\.yaml\.in|\.json)$/.test(f) && !basename(f).includes('demo'))
      .map(f => `kubernetes/gci-trusty/${relative(dir, f)}`)
  )
  const manifests = [
    ...GCE_MANIFESTS.map(m => `kubernetes/gci-trusty/${m}`),
    'kubernetes/gci-trusty/gci-configure-helper.sh',
    'kubernetes/gci-trusty/configure-kubeapiserver.sh',
    'kubernetes/gci-trusty/health-monitor.sh',
    ...addons
  ]
  const portable = [
    'test/images',
    'test/e2e/testing-manifests',
    'test/kubemark',
    'hack/e2e-internal',
    'hack/get-build.sh',
    'hack/ginkgo-e2e.sh',
    'hack/lib'
  ].flatMap(dir => filesUnder(tree, dir).map(f => `kubernetes/${f}`))
  const final = [
    'kubernetes/client/README',
    ...filesUnder(tree, 'cluster').map(f => `kubernetes/${f}`),
    'kubernetes/server/kubernetes-manifests.tar.gz',
    'kubernetes/server/README',
    ...['hack/lib', 'docs', 'README.md', 'LICENSES'].flatMap(dir =>
      filesUnder(tree, dir).map(f => `kubernetes/${f}`)
    ),
    'kubernetes/version'
  ]
  const srcFiles = execFileSync('git', ['ls-files'], { cwd: tree, encoding: 'utf8' })
    .split('\n')
    .filter(Boolean)
  return new Map([
    ['kubernetes-manifests.tar.gz', manifests.sort()],
    ['kubernetes-test-portable.tar.gz', portable.sort()],
    ['kubernetes.tar.gz', final.sort()],
    ['kubernetes-src.tar.gz', srcFiles.sort()]
  ])
}
