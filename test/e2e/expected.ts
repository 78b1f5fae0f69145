// Release tarballs and members as kube-build-flow.md §4 and §5 describe them, written out here
// independently of src/ so the e2e tests check the pipeline against the spec, not against itself.

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

/** The tarballs of a `make cross` over these platforms, each with its sorted member list. */
export function expectedTarballs(platforms: string[], licenses: string[]): Map<string, string[]> {
  const result = new Map<string, string[]>()
  const licenseMembers = licenses.map(l => `kubernetes/LICENSES/${l}`)
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
