// Package-stage benchmark: the fixture built for four platforms, then, in one run, the time to write
// every release tarball with the action's writer (gzip pieces on every core, each distinct piece
// compressed once) cold (no piece kept) and warm (the pieces of the cold run kept), against
// upstream's way: the same staged trees packed one after another with GNU `tar czf`; and the cold
// time against the limit: the distinct bytes compressed / (cores × one core's deflate rate at
// level 6, measured with Node's zlib on the same bytes) and, as busy machines make wall times
// noisy, in CPU time: the share of the run's CPU time that deflate alone would need.
// With --images, each linux server binary also gets an image archive (a small made-up base layer
// and the binary's layer, written here without an engine, not timed) in its server tarball.
// With --source DIR, a tree of one's own (a scale tree from npm run scale-tree) is built and packaged
// instead of a fresh fixture; it is cleaned afterwards but kept. --platforms a,b sets what is built.
// Usage: npm run bench:package [-- --rounds N] [--images] [--source DIR] [--platforms a,b]
import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { link, lstat, mkdir, mkdtemp, open, rm, symlink, writeFile } from 'node:fs/promises'
import { availableParallelism, tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { parseArgs } from 'node:util'
import { gzipSync } from 'node:zlib'
import { PIECE_BYTES, type PieceStats } from '../../src/archive/pieces.js'
import { TarGzWriter } from '../../src/archive/tar-gz.js'
import { writeDockerArchive, writeLayer } from '../../src/docker/image-archive/docker-archive.js'
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
import { SERVER_IMAGE_BINARIES, dockerTag } from '../../src/kube/server-images.js'
import { listTree } from '../../src/kube/tree-files.js'

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    images: { type: 'boolean', default: false },
    source: { type: 'string' },
    platforms: { type: 'string', default: 'linux/amd64,linux/arm64,darwin/arm64,windows/amd64' }
  }
})
const PLATFORMS = values.platforms.split(',')
const rounds = Number(values.rounds)
const cores = availableParallelism()
// npm runs scripts from the repository root.
const repo = process.cwd()
const cli = (args: string[]): void => {
  execFileSync(join(repo, 'node_modules/.bin/node'), [join(repo, 'dist/cli.js'), ...args], {
    stdio: 'inherit'
  })
}

const work = await mkdtemp(join(tmpdir(), 'kube-release-bench-package-'))
const tree = values.source ?? join(work, 'kubernetes')
if (!values.source)
  execFileSync('bash', [join(repo, 'scripts/fixture-tree.sh'), tree, 'v1.31.0'], { stdio: 'ignore' })
console.log(`building ${tree} for ${PLATFORMS.join(', ')} (not timed)`)
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
const built = planBuild(PLATFORMS, null).built
const mtime = new Date(
  Number(execFileSync('git', ['log', '-1', '--format=%ct'], { cwd: tree, encoding: 'utf8' })) * 1000
)

/** An image archive per linux server binary: a base layer shared by the platform's images, and the binary's. */
async function imageArchives(): Promise<ReleaseSources['serverImages']> {
  const images = new Map<string, { binary: string; archive: string; dockerTag: string }[]>()
  for (const platform of PLATFORMS.filter(p => p.startsWith('linux/'))) {
    const dir = join(work, 'images', platform)
    await mkdir(dir, { recursive: true })
    const baseFile = join(dir, 'libbase.so')
    await writeFile(baseFile, randomBytes(2 * 1024 * 1024))
    const base = await writeLayer(
      join(dir, 'base.tar'),
      [{ kind: 'file', path: 'usr/lib/libbase.so', source: baseFile, mode: 0o644 }],
      mtime
    )
    for (const binary of SERVER_IMAGE_BINARIES) {
      const top = await writeLayer(
        join(dir, `${binary}-layer.tar`),
        [
          {
            kind: 'file',
            path: `usr/local/bin/${binary}`,
            source: join(localBinDir(tree), platform, binary),
            mode: 0o755
          }
        ],
        mtime
      )
      const archive = join(dir, `${binary}.tar`)
      await writeDockerArchive(
        archive,
        { layers: [base, top], config: Buffer.from('{}'), tags: [`${binary}:bench`] },
        mtime
      )
      images.set(platform, [
        ...(images.get(platform) ?? []),
        { binary, archive, dockerTag: dockerTag(version) }
      ])
    }
  }
  return images
}

const withoutImages: ReleaseSources = {
  treeRoot: tree,
  tree: await listTree(tree),
  built,
  binRoot: localBinDir(tree),
  version,
  releaseTars,
  serverImages: new Map()
}
/** What the tarballs are made of: without image archives, then (with --images) with them. */
let sources = withoutImages
const piecesDir = join(work, 'gzip-pieces')

/** The action's way: src first (others embed it), manifests (final embeds it), the rest in parallel. */
async function actionPackaging(): Promise<{ seconds: number; cpuSeconds: number; stats: PieceStats }> {
  await rm(releaseTars, { recursive: true, force: true })
  await mkdir(releaseTars, { recursive: true })
  const started = performance.now()
  const cpu = process.cpuUsage()
  const writer = new TarGzWriter(piecesDir, { mtime })
  await writeGitArchive(tree, join(releaseTars, SRC_TARBALL), writer)
  const manifests = planManifests(sources)
  await writer.write(join(releaseTars, manifests.name), manifests.members)
  const rest = [...planBinaryTarballs(sources), planTestPortable(sources), planFinalTarball(sources)]
  await Promise.all(rest.map(plan => writer.write(join(releaseTars, plan.name), plan.members)))
  await writer.prune()
  await writer.dispose()
  // Every thread of the process: the worker threads' compression included.
  const cpuSeconds = cpuTime(process.cpuUsage(cpu))
  return { seconds: (performance.now() - started) / 1000, cpuSeconds, stats: writer.stats }
}

const cpuTime = (usage: NodeJS.CpuUsage): number => (usage.user + usage.system) / 1e6

/**
 * One core's deflate rate at level 6 with Node's zlib, in bytes per second of wall time and of CPU
 * time, on the biggest binaries the tarballs hold (up to 128 MiB of them), in pieces as the writer
 * compresses them. On a busy machine the wall rate falls with the share of a core the bench gets;
 * the CPU rate does not.
 */
async function oneCoreRate(): Promise<{ wall: number; cpu: number }> {
  const files = new Map<string, number>()
  for (const plan of [...planBinaryTarballs(sources), planTestPortable(sources)])
    for (const m of plan.members)
      if (m.kind === 'file' && m.source.startsWith(sources.binRoot))
        files.set(m.source, (await lstat(m.source)).size)
  let bytes = 0
  let seconds = 0
  let cpuSeconds = 0
  for (const [path] of [...files].sort((a, b) => b[1] - a[1])) {
    const file = await open(path, 'r')
    try {
      for (let offset = 0; bytes < 128 * 2 ** 20; offset += PIECE_BYTES) {
        const { bytesRead, buffer } = await file.read(Buffer.alloc(PIECE_BYTES), 0, PIECE_BYTES, offset)
        if (bytesRead === 0) break
        const started = performance.now()
        const cpu = process.cpuUsage()
        gzipSync(buffer.subarray(0, bytesRead), { level: 6 })
        cpuSeconds += cpuTime(process.cpuUsage(cpu))
        seconds += (performance.now() - started) / 1000
        bytes += bytesRead
      }
    } finally {
      await file.close()
    }
    if (bytes >= 128 * 2 ** 20) break
  }
  return { wall: bytes / seconds, cpu: bytes / cpuSeconds }
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

const mib = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(1)} MiB`
const rate = await oneCoreRate()
console.log(
  `one core of Node's zlib at level 6: ${mib(rate.wall)}/s of wall time, ${mib(rate.cpu)}/s of CPU time; ${cores} cores`
)
for (const images of values.images ? [false, true] : [false]) {
  sources = images ? { ...withoutImages, serverImages: await imageArchives() } : withoutImages
  const variant = images ? 'with image archives' : 'without image archives'
  const results: { cold: number; warm: number; upstream: number; limit: number }[] = []
  for (let round = 1; round <= rounds; round++) {
    // The action's runs first: the staged node and server trees embed its src and manifests tarballs.
    await rm(piecesDir, { recursive: true, force: true })
    const cold = await actionPackaging()
    const warm = await actionPackaging()
    const upstream = await upstreamPackaging()
    const limit = cold.stats.compressed.bytes / (cores * rate.wall)
    // Load-independent: the CPU time deflate alone needs for these bytes against what the run spent.
    const cpuShare = cold.stats.compressed.bytes / rate.cpu / cold.cpuSeconds
    results.push({ cold: cold.seconds, warm: warm.seconds, upstream, limit })
    console.log(
      `${variant}, round ${round}: cold ${cold.seconds.toFixed(2)} s (${mib(cold.stats.compressed.bytes)} compressed, ` +
        `${mib(cold.stats.reused.bytes)} reused; limit ${limit.toFixed(2)} s, share of limit: ${Math.round((100 * limit) / cold.seconds)} %; ` +
        `CPU ${cold.cpuSeconds.toFixed(2)} s, deflate's share of it ${Math.round(100 * cpuShare)} %), ` +
        `warm ${warm.seconds.toFixed(2)} s (${warm.stats.compressed.pieces} pieces compressed, ${warm.stats.reused.pieces} reused), ` +
        `tar czf one after another ${upstream.toFixed(2)} s, cold/upstream ${(cold.seconds / upstream).toFixed(2)}`
    )
  }
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
  const cold = median(results.map(r => r.cold))
  const warm = median(results.map(r => r.warm))
  const upstream = median(results.map(r => r.upstream))
  const limit = median(results.map(r => r.limit))
  console.log(
    `${variant}: median over ${rounds} rounds: cold ${cold.toFixed(2)} s, warm ${warm.toFixed(2)} s, ` +
      `upstream ${upstream.toFixed(2)} s, cold/upstream ${(cold / upstream).toFixed(2)} (target ≤ 0.40)`
  )
  console.log(
    `${variant}: limit ${limit.toFixed(2)} s on ${cores} cores; share of limit: ${Math.round((100 * limit) / cold)} %`
  )
}
cli(['clean', '--source', tree])
await rm(work, { recursive: true, force: true })
