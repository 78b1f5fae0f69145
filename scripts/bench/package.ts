// Package-stage benchmark: the fixture built for four platforms, then, in one run, the time to write
// every release tarball with the action's writer (parallel, each distinct file compressed once)
// against upstream's way: the same staged trees packed one after another with GNU `tar czf`.
// Usage: npm run bench:package [-- --rounds N]
import { execFileSync } from 'node:child_process'
import { link, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { parseArgs } from 'node:util'
import { TarGzWriter } from '../../src/archive/tar.js'
import { planBuild } from '../../src/kube/build-plan.js'
import { localBinDir } from '../../src/kube/layout.js'
import { writeGitArchive } from '../../src/kube/src-archive.js'
import {
  SRC_TARBALL,
  planBinaryTarballs,
  planFinalTarball,
  planManifests,
  planTestPortable,
  type ReleaseSources,
  type TarballPlan
} from '../../src/kube/tarballs.js'
import { listTree } from '../../src/kube/tree-files.js'

const PLATFORMS = ['linux/amd64', 'linux/arm64', 'darwin/arm64', 'windows/amd64']
const { values } = parseArgs({ options: { rounds: { type: 'string', default: '3' } } })
const rounds = Number(values.rounds)
// npm runs scripts from the repository root.
const repo = process.cwd()
const cli = (args: string[]): void => {
  execFileSync(join(repo, 'node_modules/.bin/node'), [join(repo, 'dist/cli.js'), ...args], {
    stdio: 'inherit'
  })
}

const work = await mkdtemp(join(tmpdir(), 'kube-release-bench-package-'))
const tree = join(work, 'kubernetes')
execFileSync('bash', [join(repo, 'scripts/fixture-tree.sh'), tree, 'v1.31.0'], { stdio: 'ignore' })
console.log(`building the fixture for ${PLATFORMS.join(', ')} (not timed)`)
cli([
  '--source',
  tree,
  '--mode',
  'release',
  '--run-tests',
  'false',
  '--server-images',
  'false',
  '--platforms',
  PLATFORMS.join(',')
])

const version = execFileSync('git', ['describe', '--tags'], { cwd: tree, encoding: 'utf8' }).trim()
const releaseTars = join(work, 'tars')
const sources: ReleaseSources = {
  treeRoot: tree,
  tree: await listTree(tree),
  built: planBuild(PLATFORMS, null).built,
  binRoot: localBinDir(tree),
  version,
  releaseTars,
  serverImages: new Map()
}
const mtime = new Date(
  Number(execFileSync('git', ['log', '-1', '--format=%ct'], { cwd: tree, encoding: 'utf8' })) * 1000
)

/** The action's way: src first (others embed it), manifests (final embeds it), the rest in parallel. */
async function actionPackaging(): Promise<number> {
  await rm(releaseTars, { recursive: true, force: true })
  await mkdir(releaseTars, { recursive: true })
  const started = performance.now()
  const writer = new TarGzWriter(work, { mtime })
  await writeGitArchive(tree, join(releaseTars, SRC_TARBALL), writer)
  const manifests = planManifests(sources)
  await writer.write(join(releaseTars, manifests.name), manifests.members)
  const rest = [...planBinaryTarballs(sources), planTestPortable(sources), planFinalTarball(sources)]
  await Promise.all(rest.map(plan => writer.write(join(releaseTars, plan.name), plan.members)))
  await writer.dispose()
  return (performance.now() - started) / 1000
}

/** A directory holding the plan's members as `tar czf -C dir kubernetes` would read them. */
async function stage(plan: TarballPlan, dir: string): Promise<void> {
  for (const member of plan.members) {
    const path = join(dir, member.path)
    await mkdir(member.kind === 'dir' ? path : dirname(path), { recursive: true })
    if (member.kind === 'file') await link(member.source, path)
    if (member.kind === 'data') await writeFile(path, member.data, { mode: member.mode })
    if (member.kind === 'symlink') await symlink(member.target, path)
  }
}

/** Upstream's way on the same staged trees: git archive, then one `tar czf` after another. */
async function upstreamPackaging(): Promise<number> {
  const stageRoot = join(work, 'stage')
  const out = join(work, 'upstream-tars')
  await rm(stageRoot, { recursive: true, force: true })
  await rm(out, { recursive: true, force: true })
  await mkdir(out, { recursive: true })
  const plans: TarballPlan[] = [
    planManifests(sources),
    ...planBinaryTarballs(sources),
    planTestPortable(sources),
    planFinalTarball(sources)
  ]
  for (const plan of plans) await stage(plan, join(stageRoot, plan.name))
  const started = performance.now()
  execFileSync('git', ['archive', '-o', join(out, SRC_TARBALL), 'HEAD'], { cwd: tree })
  for (const plan of plans) {
    execFileSync('tar', [
      'czf',
      join(out, plan.name),
      '-C',
      join(stageRoot, plan.name),
      'kubernetes',
      '--owner=0',
      '--group=0'
    ])
  }
  return (performance.now() - started) / 1000
}

const results: { action: number; upstream: number }[] = []
for (let round = 1; round <= rounds; round++) {
  // The action's run first: the staged node and server trees embed its src and manifests tarballs.
  const action = await actionPackaging()
  const upstream = await upstreamPackaging()
  results.push({ action, upstream })
  console.log(
    `round ${round}: action ${action.toFixed(2)} s, tar czf one after another ${upstream.toFixed(2)} s, ratio ${(action / upstream).toFixed(2)}`
  )
}
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const action = median(results.map(r => r.action))
const upstream = median(results.map(r => r.upstream))
console.log(
  `median over ${rounds} rounds: action ${action.toFixed(2)} s, upstream ${upstream.toFixed(2)} s, ratio ${(action / upstream).toFixed(2)} (target ≤ 0.40)`
)
cli(['clean', '--source', tree])
await rm(work, { recursive: true, force: true })
