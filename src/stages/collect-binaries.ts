// The first stage of a matrix package job after prereqs: every build leg's binaries into
// _output/dockerized/bin, checked to hold every platform of the release before packaging.
import { chmod } from 'node:fs/promises'
import { ReleaseError } from '../errors.js'
import { missingBinaries } from '../kube/build-plan.js'
import { localBinDir } from '../kube/layout.js'
import { BINARIES_ARTIFACT_PREFIX } from '../kube/matrix.js'
import type { Stage } from '../run/stage.js'
import { filesUnder, matrixArtifactStore } from '../run/stage-helpers.js'
import type { Binaries, Prerequisites } from '../run/state.js'

export const collectBinaries: Stage<Prerequisites, Binaries> = {
  name: 'binaries',
  async run(ctx, state) {
    const store = matrixArtifactStore(ctx)
    const binDir = localBinDir(ctx.config.tree.root)
    const names = await store.list(BINARIES_ARTIFACT_PREFIX)
    for (const name of names) {
      await store.download(name, binDir)
      ctx.log.info(`collected ${name}`)
    }
    // Artifacts do not keep file modes; every file here is an executable.
    for (const file of await filesUnder(binDir).catch(() => [] as string[])) await chmod(file, 0o755)
    const missing = await missingBinaries(state.plan, binDir)
    if (missing.length > 0) {
      const platforms = [...new Set(missing.map(m => m.split('/').slice(0, 2).join('/')))].sort()
      throw new ReleaseError(
        `the build legs did not deliver ${platforms.length} platform${platforms.length > 1 ? 's' : ''} of the release: ` +
          `${platforms.join(', ')} (found artifacts: ${names.join(', ') || 'none'})`,
        { fix: 'Every platform needs a leg with phase: build' }
      )
    }
    return { binDir }
  }
}
