// Stage 5 (kube::build::copy_output): the binaries back on the host. With the bind workspace they
// are there already. Either way every binary the plan expects must exist.
import { ReleaseError } from '../errors.js'
import { missingBinaries } from '../kube/build-plan.js'
import { localBinDir } from '../kube/layout.js'
import { PULL_ARGS } from '../kube/sync-filters.js'
import type { Stage } from '../run/stage.js'
import { volumeRsync } from '../run/stage-helpers.js'
import type { Binaries, BuildContainerImage, BuildWorkspace, Prerequisites } from '../run/state.js'

export const output: Stage<Prerequisites & BuildContainerImage & BuildWorkspace, Binaries> = {
  name: 'output',
  async run(ctx, state) {
    const root = ctx.config.tree.root
    const { volume } = state.workspace
    if (volume) {
      ctx.log.info('syncing binaries and generated files out of the data volume')
      await volumeRsync(ctx, state, volume).pull(`${root}/`, PULL_ARGS)
    }
    const binDir = localBinDir(root)
    const missing = await missingBinaries(state.plan, binDir)
    if (missing.length > 0) {
      throw new ReleaseError(
        `the build did not produce ${missing.length} expected binaries: ${missing.join(', ')}`,
        {
          fix: "Check the build's output above for what it skipped"
        }
      )
    }
    ctx.log.info(`binaries in ${binDir}`)
    return { binDir }
  }
}
