// The images beyond the five server images (kube-build-flow.md §3.5): the conformance image of each
// linux server platform, as test/conformance/image/Makefile builds it, and kube-proxy for Windows
// (KUBE_BUILD_WINDOWS, build/lib/release.sh at 3b0cec3). What each is made from; pure but for reads.
import { readFile, readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { ReleaseError } from '../errors.js'
import { expandVariables } from './dockerfile.js'
import { UPSTREAM_REGISTRY, dockerTag } from './server-images.js'

export const CONFORMANCE_IMAGE_DIR = 'test/conformance/image'

/** The conformance image's archive in release-images/<arch>/ and its one tag (the Makefile's REGISTRY). */
export function conformanceImage(arch: string, version: string): { file: string; tag: string } {
  return {
    file: `conformance-${arch}.tar`,
    tag: `${UPSTREAM_REGISTRY}/conformance-${arch}:${dockerTag(version)}`
  }
}

/**
 * The variables of a Makefile's simple assignments as make sees them with `env` in its environment:
 * `?=` keeps a value the environment gives, `=` and `:=` replace it. `$(shell …)` is not run.
 */
export function makeVariables(
  text: string,
  env: Readonly<Record<string, string | undefined>>
): Map<string, string> {
  const vars = new Map(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined))
  const lookup = (name: string): string | undefined => vars.get(name)
  for (const line of text.split('\n')) {
    const match = /^([A-Za-z_][A-Za-z0-9_]*)\s*([?:]?=)\s*(.*?)\s*$/.exec(line)
    if (!match) continue
    const [, name, operator, raw] = match
    if (operator === '?=' && vars.has(name)) continue
    // make writes $(VAR) as often as ${VAR}; $(shell …) and the like stay unexpanded.
    const value = expandVariables(raw.replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, '${$1}'), lookup)
    vars.set(name, value)
  }
  return vars
}

/**
 * The build arguments test/conformance/image/Makefile passes (RUNNERIMAGE, and BASEIMAGE in older
 * trees), as `ARCH=<arch> REGISTRY=registry.k8s.io VERSION=<tag> make -C test/conformance/image build`
 * gets them; the environment's RUNNERIMAGE or BASEIMAGE win over the Makefile's defaults.
 */
export async function conformanceBuildArgs(
  treeRoot: string,
  arch: string,
  version: string,
  env: NodeJS.ProcessEnv
): Promise<Record<string, string>> {
  const makefile = join(treeRoot, CONFORMANCE_IMAGE_DIR, 'Makefile')
  const text = await readFile(makefile, 'utf8').catch(() => {
    throw new ReleaseError(
      `the conformance image needs ${CONFORMANCE_IMAGE_DIR}/Makefile, which the tree does not have`,
      {
        fix: 'Turn the conformance image off (conformance-image: false)'
      }
    )
  })
  const vars = makeVariables(text, {
    ...env,
    ARCH: arch,
    REGISTRY: UPSTREAM_REGISTRY,
    VERSION: dockerTag(version)
  })
  const args: Record<string, string> = {}
  for (const name of ['RUNNERIMAGE', 'BASEIMAGE']) {
    const value = vars.get(name)
    if (value === undefined || !new RegExp(`--build-arg\\s+${name}=`).test(text)) continue
    if (value.includes('$('))
      throw new ReleaseError(`${makefile}: ${name} is '${value}', which only make can expand`)
    args[name] = value
  }
  if (!args.RUNNERIMAGE)
    throw new ReleaseError(`${makefile} gives no RUNNERIMAGE for the conformance image's base`)
  return args
}

/**
 * What the Makefile copies into its build context, by name: the directory's files (`cp -r ./*`, so no
 * dot files), ginkgo, kubectl, e2e.test, go-runner as gorunner (made a+rx), and the tree's cluster/.
 */
export async function conformanceContext(
  treeRoot: string,
  binDir: string
): Promise<Map<string, { readonly path: string; readonly mode?: number }>> {
  const dir = join(treeRoot, CONFORMANCE_IMAGE_DIR)
  const context = new Map<string, { path: string; mode?: number }>()
  for (const name of await readdir(dir))
    if (!name.startsWith('.')) context.set(name, { path: join(dir, name) })
  const executable = 0o755
  for (const [name, binary] of [
    ['ginkgo', 'ginkgo'],
    ['kubectl', 'kubectl'],
    ['e2e.test', 'e2e.test'],
    ['gorunner', 'go-runner']
  ]) {
    context.set(name, { path: join(binDir, binary), mode: executable })
  }
  context.set('cluster', { path: join(treeRoot, 'cluster') })
  return context
}

/** KUBE_PROXY_WINDOWS_BASE_IMAGE's default (build/common.sh at 3b0cec3). */
export const DEFAULT_KUBE_PROXY_WINDOWS_BASE_IMAGE =
  'mcr.microsoft.com/oss/kubernetes/windows-host-process-containers-base-image:v1.0.0'

/** The windows kube-proxy's archive in release-images/<arch>/: upstream names it after the .exe. */
export const WINDOWS_KUBE_PROXY_FILE = 'kube-proxy.exe.tar'

/** The Dockerfile upstream picks for a windows image of `binary`: Dockerfile_windows, its own, the generic one. */
export function windowsDockerfileCandidates(binary: string): string[] {
  return [
    `build/server-image/${binary}/Dockerfile_windows`,
    `build/server-image/${binary}/Dockerfile`,
    'build/server-image/Dockerfile'
  ]
}
