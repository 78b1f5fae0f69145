// The last stage of a matrix build leg: this leg's binaries (_output/dockerized/bin/<os>/<arch>) as one
// artifact named after its platforms, for the package job to collect.
import { join, relative } from 'node:path'
import { binariesArtifactName } from '../kube/matrix.js'
import type { Stage } from '../run/stage.js'
import { filesUnder, matrixArtifactStore } from '../run/stage-helpers.js'
import type { Binaries, Prerequisites, Published } from '../run/state.js'

export const uploadBinaries: Stage<Prerequisites & Binaries, Published> = {
  name: 'publish',
  async run(ctx, state) {
    const store = matrixArtifactStore(ctx)
    const platforms = [...state.plan.built.keys()]
    const files: string[] = []
    for (const platform of platforms) files.push(...(await filesUnder(join(state.binDir, platform))))
    const uploaded = await store.uploadBundle(
      binariesArtifactName(platforms),
      state.binDir,
      files.map(f => relative(state.binDir, f)),
      ctx.config.artifacts.retentionDays
    )
    ctx.log.info(`uploaded ${files.length} binaries as ${uploaded.name}: ${uploaded.location}`)
    return { artifacts: [uploaded] }
  }
}
