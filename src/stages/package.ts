// Stage 6 (kube::release::package_tarballs): every release tarball of the platforms this run built,
// plus checksums. Tarballs are written in parallel and share compressed members (tar.ts), every
// mtime is SOURCE_DATE_EPOCH and members are sorted, so the same commit gives the same bytes.
import { mkdir, rm, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { writeChecksums } from '../archive/checksums.js'
import { TarGzWriter } from '../archive/tar.js'
import { writeGitArchive } from '../kube/src-archive.js'
import {
  SRC_TARBALL,
  planBinaryTarballs,
  planDirtySrc,
  planFinal,
  planManifests,
  planTestPortable,
  type ReleaseSources,
  type TarballPlan
} from '../kube/tarballs.js'
import { listTree } from '../kube/tree-files.js'
import type { RunContext } from './context.js'
import type { BuildOutput } from './output.js'
import type { Prereqs } from './prereqs.js'
import { makeServerImages } from './server-images.js'

export interface Tarball {
  readonly name: string
  readonly path: string
  readonly bytes: number
  readonly sha256: string
}

export interface Packages {
  readonly dir: string
  readonly tarballs: readonly Tarball[]
  /** Every file of the release directory: tarballs and checksum files. */
  readonly files: readonly string[]
}

export class PackageError extends Error {}

export async function packageTarballs(
  ctx: RunContext,
  prereqs: Prereqs,
  out: BuildOutput
): Promise<Packages> {
  try {
    return await writeRelease(ctx, prereqs, out)
  } catch (err) {
    if ((err as { code?: string }).code === 'ENOSPC') {
      throw new PackageError(
        `no space left on the device of ${ctx.config.outputDir} while writing the release ` +
          `(${(err as Error).message}); free space there or choose another output-dir. ` +
          `No tarball was left half-written under its final name.`
      )
    }
    throw err
  }
}

async function writeRelease(ctx: RunContext, prereqs: Prereqs, out: BuildOutput): Promise<Packages> {
  const { config, log } = ctx
  const root = config.tree.root
  const dir = join(config.outputDir, 'release-tars')
  const stage = join(config.outputDir, 'release-stage')
  for (const path of [dir, stage]) {
    await rm(path, { recursive: true, force: true })
    await mkdir(path, { recursive: true })
  }
  const created = new Date(prereqs.sourceDateEpoch * 1000)
  const writer = new TarGzWriter(stage, { mtime: created })
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
      built: prereqs.plan.built,
      binRoot: out.binDir,
      version: prereqs.version.version,
      releaseTars: dir,
      serverImages: config.serverImages
        ? await makeServerImages(ctx, prereqs, out, join(config.outputDir, 'release-images'), created)
        : new Map()
    }
    const binaryTarballs = planBinaryTarballs(sources)
    // A build restricted by targets yields only the tarballs of its binaries (and the src tarball they embed).
    const everything = config.targets === null
    if (everything || binaryTarballs.some(p => p.members.some(m => m.path.endsWith(`/${SRC_TARBALL}`)))) {
      if (prereqs.version.treeState === 'clean') await writeGitArchive(root, join(dir, SRC_TARBALL))
      else await writer.write(join(dir, SRC_TARBALL), planDirtySrc(sources).members)
      written.push(SRC_TARBALL)
      log.info(`wrote ${SRC_TARBALL} (${prereqs.version.treeState} tree)`)
    }
    if (everything) await write(planManifests(sources))
    const rest = [...binaryTarballs, ...(everything ? [planTestPortable(sources), planFinal(sources)] : [])]
    // Every write settles before the temporary files go, so none is cut off half-way.
    const failure = (await Promise.allSettled(rest.map(write))).find(r => r.status === 'rejected')
    if (failure) throw failure.reason
  } finally {
    await writer
      .dispose()
      .then(() => rm(stage, { recursive: true, force: true }))
      .catch(err => log.warning(`could not remove ${stage}: ${(err as Error).message}`))
  }
  const digests = await writeChecksums(dir, written)
  log.info(`wrote SHA256SUMS, SHA512SUMS and a .sha256 and .sha512 per tarball`)
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
  return { dir, tarballs, files }
}
