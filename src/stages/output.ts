// Stage 5 (kube::build::copy_output): the binaries back on the host. With the bind workspace they
// are there already. Either way every binary the plan expects must exist.
import { access } from 'node:fs/promises'
import { join } from 'node:path'
import type { BuildPlan } from '../kube/build-plan.js'
import { localBinDir } from '../kube/layout.js'
import { binaryFileName } from '../kube/targets.js'
import type { RunContext } from './context.js'
import type { BuildImage } from './image.js'
import type { Prereqs } from './prereqs.js'
import { startRsyncDaemon, type Workspace } from './workspace.js'

/** Upstream's copy_output filters, first match wins: binaries and generated sources, no caches. */
const PULL_ARGS = [
  '--prune-empty-dirs',
  '--filter=- /_temp/',
  '--filter=+ /vendor/',
  '--filter=+ /staging/***/Godeps/**',
  '--filter=+ /_output/dockerized/bin/**',
  '--filter=- /_output/dockerized/go/**',
  '--filter=+ zz_generated.*',
  '--filter=+ generated.proto',
  '--filter=+ *.pb.go',
  '--filter=+ types.go',
  '--filter=+ */',
  '--filter=- /**'
]

/** The binaries of the plan not found under `binDir`, as `<os>/<arch>/<file>`. */
export async function missingBinaries(plan: BuildPlan, binDir: string): Promise<string[]> {
  const missing: string[] = []
  for (const [platform, groups] of plan.built) {
    for (const binary of new Set([...groups.values()].flat())) {
      const file = binaryFileName(binary, platform)
      const found = await access(join(binDir, platform, file)).then(
        () => true,
        () => false
      )
      if (!found) missing.push(`${platform}/${file}`)
    }
  }
  return missing
}

export interface BuildOutput {
  /** _output/dockerized/bin on the host. */
  readonly binDir: string
}

export class OutputError extends Error {}

export async function output(
  ctx: RunContext,
  prereqs: Prereqs,
  image: BuildImage,
  ws: Workspace
): Promise<BuildOutput> {
  const root = ctx.config.tree.root
  if (ws.volume) {
    ctx.log.info('syncing binaries and generated files out of the data volume')
    const daemon = await startRsyncDaemon(ctx, prereqs, image, ws.volume)
    try {
      await daemon.pull(`${root}/`, PULL_ARGS)
    } finally {
      await daemon.stop()
    }
  }
  const binDir = localBinDir(root)
  const missing = await missingBinaries(prereqs.plan, binDir)
  if (missing.length > 0) {
    throw new OutputError(
      `the build did not produce ${missing.length} expected binaries: ${missing.join(', ')}`
    )
  }
  ctx.log.info(`binaries in ${binDir}`)
  return { binDir }
}
