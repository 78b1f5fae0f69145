// Stage 6 (kube::release::package_tarballs): the client, node, server and test tarballs of every
// platform this run built, written in parallel. The src, manifests, portable and final tarballs,
// server images and checksums are planned by kube/tarballs.ts when they arrive.
import { availableParallelism } from 'node:os'
import { mkdir, readdir, rm, stat } from 'node:fs/promises'
import { join, relative } from 'node:path'
import { writeTarGz } from '../archive/tar.js'
import { releaseTarsDir } from '../kube/layout.js'
import { planTarballs } from '../kube/tarballs.js'
import type { RunContext } from './context.js'
import type { BuildOutput } from './output.js'
import type { Prereqs } from './prereqs.js'

export interface Tarball {
  readonly name: string
  readonly path: string
  readonly bytes: number
}

export interface Packages {
  readonly dir: string
  readonly tarballs: readonly Tarball[]
}

/** Files under the tree's LICENSES/, relative to it; none when the tree has no such directory. */
async function licenseFiles(root: string): Promise<string[]> {
  const dir = join(root, 'LICENSES')
  try {
    const entries = await readdir(dir, { recursive: true, withFileTypes: true })
    return entries.filter(e => e.isFile()).map(e => relative(dir, join(e.parentPath, e.name)))
  } catch {
    return []
  }
}

/** Runs `work` over `items` with at most `limit` at once. */
async function inParallel<T>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<void>
): Promise<void> {
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < items.length) await work(items[next++])
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker))
}

export async function packageTarballs(
  ctx: RunContext,
  prereqs: Prereqs,
  out: BuildOutput
): Promise<Packages> {
  const root = ctx.config.tree.root
  const dir = releaseTarsDir(root)
  await rm(dir, { recursive: true, force: true })
  await mkdir(dir, { recursive: true })
  const plans = planTarballs(prereqs.plan.built, out.binDir, await licenseFiles(root), root)
  await inParallel(plans, availableParallelism(), async plan => {
    await writeTarGz(join(dir, plan.name), plan.members)
    ctx.log.info(`wrote ${plan.name}`)
  })
  const tarballs = await Promise.all(
    plans.map(async plan => {
      const path = join(dir, plan.name)
      return { name: plan.name, path, bytes: (await stat(path)).size }
    })
  )
  return { dir, tarballs }
}
