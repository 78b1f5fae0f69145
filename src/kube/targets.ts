// Target groups of hack/lib/golang.sh and hack/make-rules/cross.sh (kube-build-flow.md §4).
import { InputError } from '../errors.js'
import {
  CLIENT_PLATFORMS,
  NODE_PLATFORMS,
  SERVER_PLATFORMS,
  TEST_PLATFORMS,
  quoteSome,
  splitList,
  unique
} from './platforms.js'

/** A Go main package (or test package) and the binary it produces. */
export interface Target {
  readonly path: string
  readonly binary: string
}

export type TargetGroupName = 'server' | 'node' | 'client' | 'test' | 'test-server'
/** cross.sh's groups, and `images`: binaries built only for an image (conformance, windows kube-proxy). */
export type BuiltGroupName = TargetGroupName | 'images'

export interface TargetGroup {
  readonly name: TargetGroupName
  readonly targets: readonly Target[]
  readonly platforms: readonly string[]
}

const t = (path: string, binary = path.split('/').pop() as string): Target => ({ path, binary })

const KUBE_PROXY = t('cmd/kube-proxy')
const KUBEADM = t('cmd/kubeadm')
const KUBELET = t('cmd/kubelet')
const KUBE_LOG_RUNNER = t('staging/src/k8s.io/component-base/logs/kube-log-runner')
// cross.sh lists ginkgo by its short name; build.sh resolves it to the vendored package.
const GINKGO = t('ginkgo')
const PATH_ALIASES: Record<string, string> = { 'github.com/onsi/ginkgo/v2/ginkgo': 'ginkgo' }

/** In cross.sh's order: each group is one `make all` over its own platform list. */
export const TARGET_GROUPS: readonly TargetGroup[] = [
  {
    name: 'server',
    platforms: SERVER_PLATFORMS,
    targets: [
      KUBE_PROXY,
      t('cmd/kube-apiserver'),
      t('cmd/kube-controller-manager'),
      KUBELET,
      KUBEADM,
      t('cmd/kube-scheduler'),
      KUBE_LOG_RUNNER,
      t('staging/src/k8s.io/kube-aggregator'),
      t('staging/src/k8s.io/apiextensions-apiserver'),
      t('cluster/gce/gci/mounter')
    ]
  },
  { name: 'node', platforms: NODE_PLATFORMS, targets: [KUBE_PROXY, KUBEADM, KUBELET, KUBE_LOG_RUNNER] },
  { name: 'client', platforms: CLIENT_PLATFORMS, targets: [t('cmd/kubectl'), t('cmd/kubectl-convert')] },
  {
    name: 'test',
    platforms: TEST_PLATFORMS,
    targets: [GINKGO, t('test/e2e/e2e.test'), t('test/conformance/image/go-runner')]
  },
  {
    name: 'test-server',
    platforms: SERVER_PLATFORMS,
    targets: [t('cmd/kubemark'), GINKGO, t('test/e2e_node/e2e_node.test')]
  }
]

/** Every known target once, in group order. */
export const ALL_TARGETS: readonly Target[] = unique(TARGET_GROUPS.flatMap(g => g.targets))

const known = (path: string): Target => ALL_TARGETS.find(x => x.path === path)!

/** KUBE_SERVER_IMAGE_TARGETS: the binaries of the five server images. */
export const SERVER_IMAGE_TARGETS: readonly Target[] = [
  'cmd/kube-apiserver',
  'cmd/kube-controller-manager',
  'cmd/kube-scheduler',
  'cmd/kube-proxy',
  'cmd/kubectl'
].map(known)

/** KUBE_CONFORMANCE_IMAGE_TARGETS: what test/conformance/image/Makefile copies into the image. */
export const CONFORMANCE_IMAGE_TARGETS: readonly Target[] = [
  'ginkgo',
  'test/e2e/e2e.test',
  'test/conformance/image/go-runner',
  'cmd/kubectl'
].map(known)

/** The one binary with a Windows image, and its platform (KUBE_BUILD_WINDOWS). */
export const WINDOWS_IMAGE_TARGET: Target = known('cmd/kube-proxy')
export const WINDOWS_IMAGE_PLATFORM = 'windows/amd64'

/** Names a user may give in `targets` for a group; `test` also covers the test-server binaries. */
const GROUP_WORDS: Record<string, TargetGroupName[]> = {
  server: ['server'],
  node: ['node'],
  client: ['client'],
  test: ['test', 'test-server']
}

/**
 * Parses the `targets` input: group names, Go package paths (`cmd/kubectl`, `vendor/` prefix
 * allowed) or binary names (`kubectl`, `ginkgo`). Empty means everything `make cross` builds (null).
 */
export function parseTargets(text: string): Target[] | null {
  const words = splitList(text)
  if (words.length === 0) return null
  const chosen: Target[] = []
  const unknown: string[] = []
  for (const word of words) {
    const groups = GROUP_WORDS[word]
    if (groups) {
      chosen.push(...TARGET_GROUPS.filter(g => groups.includes(g.name)).flatMap(g => g.targets))
      continue
    }
    const bare = word.replace(/^vendor\//, '').replace(/^\.\//, '')
    const path = PATH_ALIASES[bare] ?? bare
    const target = ALL_TARGETS.find(x => x.path === path || x.binary === word)
    if (target) chosen.push(target)
    else unknown.push(word)
  }
  if (unknown.length > 0) {
    throw new InputError(
      `unknown target${unknown.length > 1 ? 's' : ''} ${quoteSome(unknown)}; ` +
        `use a group (${Object.keys(GROUP_WORDS).join(', ')}), a package path ` +
        `(${ALL_TARGETS.map(x => x.path).join(', ')}) or a binary name`
    )
  }
  return unique(chosen)
}

/** The binary's file name on a platform: `.exe` on windows. */
export function binaryFileName(binary: string, platform: string): string {
  return platform.startsWith('windows/') ? `${binary}.exe` : binary
}
