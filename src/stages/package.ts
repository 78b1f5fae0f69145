// Stage 6b (kube::release::package_tarballs): every release tarball of the platforms this run built,
// plus checksums. Tarballs are written in parallel and share compressed pieces, kept between runs (archive/tar.ts); every
// mtime is SOURCE_DATE_EPOCH and members are sorted, so the same commit gives the same bytes.
import { mkdir, rm, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { writeChecksums, type FileDigests } from '../archive/checksums.js'
import type { PieceStats } from '../archive/pieces.js'
import { TarGzWriter } from '../archive/tar-gz.js'
import { ReleaseError, errorMessage } from '../errors.js'
import { writeGitArchive } from '../kube/src-archive.js'
import {
  SRC_TARBALL,
  planBinaryTarballs,
  planDirtySrc,
  planFinalTarball,
  planManifests,
  planTestPortable,
  type ReleaseSources,
  type TarballPlan
} from '../kube/tarballs.js'
import { listTree } from '../kube/tree-files.js'
import type { RunContext } from '../run/context.js'
import type { Stage } from '../run/stage.js'
import type { Binaries, Prerequisites, Release, ServerImages } from '../run/state.js'

type Needs = Prerequisites & Binaries & ServerImages

const mib = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(1)} MiB`

/** Whether the clean tree's src tarball came from git archive or from the pieces of an earlier run of the same commit. */
function gitArchiveSummary(streams: PieceStats['streams']): string {
  if (streams.reused > 0) return 'git archive not run (src tarball of the same commit reused)'
  return streams.read > 0 ? 'git archive run' : 'no git archive (dirty tree or no src tarball)'
}

/** Writes the tarballs and their checksums into `dir`; returns the tarballs' digests. */
async function writeTarballs(ctx: RunContext, state: Needs, dir: string): Promise<FileDigests[]> {
  const { config, log } = ctx
  const root = config.tree.root
  // Compressed pieces are kept between runs of the tree (removed by clean), keyed by content.
  const piecesDir = join(config.outputDir, 'release-stage', 'gzip-pieces')
  const writer = new TarGzWriter(piecesDir, { mtime: new Date(state.sourceDateEpoch * 1000) })
  const written: string[] = []
  const write = async (plan: TarballPlan): Promise<void> => {
    await writer.write(join(dir, plan.name), plan.members)
    written.push(plan.name)
    log.info(`wrote ${plan.name}`)
  }
  try {
    const sources: ReleaseSources = {
      treeRoot: root,
      tree: await listTree(root),
      built: state.plan.built,
      binRoot: state.binDir,
      version: state.version.version,
      releaseTars: dir,
      serverImages: state.serverImages
    }
    const binaryTarballs = planBinaryTarballs(sources)
    // A build restricted by targets yields only the tarballs of its binaries (and the src tarball they embed).
    const everything = config.targets === null
    if (everything || binaryTarballs.some(p => p.members.some(m => m.path.endsWith(`/${SRC_TARBALL}`)))) {
      if (state.version.treeState === 'clean') await writeGitArchive(root, join(dir, SRC_TARBALL), writer)
      else await writer.write(join(dir, SRC_TARBALL), planDirtySrc(sources).members)
      written.push(SRC_TARBALL)
      log.info(`wrote ${SRC_TARBALL} (${state.version.treeState} tree)`)
    }
    if (everything) await write(planManifests(sources))
    const rest = [
      ...binaryTarballs,
      ...(everything ? [planTestPortable(sources), planFinalTarball(sources)] : [])
    ]
    // Every write settles before the worker threads end, so none is cut off half-way.
    const failure = (await Promise.allSettled(rest.map(write))).find(r => r.status === 'rejected')
    if (failure) throw failure.reason
    // Before prune, which keeps the digests of tarballs made of the same pieces for the next run.
    const digests = await writeChecksums(dir, written, name => writer.digests(join(dir, name)))
    log.info(`wrote SHA256SUMS, SHA512SUMS and a .sha256 and .sha512 per tarball`)
    const pruned = await writer.prune()
    const { reused, compressed, hashed, digests: checksums, streams } = writer.stats
    log.info(
      `gzip pieces: ${reused.pieces} reused (${mib(reused.bytes)}), ${compressed.pieces} compressed (${mib(compressed.bytes)}), ${pruned} unused removed; ${mib(hashed.bytes)} of changed files read; ` +
        `checksums of ${checksums.reused} of ${digests.length} tarballs reused; ${gitArchiveSummary(streams)}`
    )
    return digests
  } finally {
    await writer.dispose()
  }
}

export const packageRelease: Stage<Needs, Release> = {
  name: 'package',
  async run(ctx, state) {
    const dir = join(ctx.config.outputDir, 'release-tars')
    await rm(dir, { recursive: true, force: true })
    await mkdir(dir, { recursive: true })
    let digests: FileDigests[]
    try {
      digests = await writeTarballs(ctx, state, dir)
    } catch (err) {
      if ((err as { code?: string }).code !== 'ENOSPC') throw err
      throw new ReleaseError(
        `no space left on the device of ${ctx.config.outputDir} while writing the release (${errorMessage(err)}). ` +
          `No tarball was left half-written under its final name`,
        { fix: 'Free space there or choose another output-dir' }
      )
    }
    const tarballs = await Promise.all(
      digests.map(async d => ({
        name: d.name,
        path: join(dir, d.name),
        bytes: (await stat(join(dir, d.name))).size,
        sha256: d.sha256
      }))
    )
    const files = [
      ...tarballs.flatMap(t => [t.name, `${t.name}.sha256`, `${t.name}.sha512`]),
      'SHA256SUMS',
      'SHA512SUMS'
    ].sort()
    return { release: { dir, tarballs, files } }
  }
}
