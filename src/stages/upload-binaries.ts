// The last stage of a matrix build leg: this leg's binaries (_output/dockerized/bin/<os>/<arch>) as one
// artifact named after its platforms, for the package job to collect, with the leg's stage timings
// beside them for the package job's summary (the stages before this one: the upload is under way).
import { mkdir, writeFile } from 'node:fs/promises'
import { dirname, join, relative } from 'node:path'
import { LEG_TIMELINES_DIR, binariesArtifactName } from '../kube/matrix.js'
import type { LegTimeline } from '../report/report.js'
import type { Stage } from '../run/stage.js'
import { filesUnder, matrixArtifactStore } from '../run/stage-helpers.js'
import type { Binaries, Prerequisites, Published } from '../run/state.js'

export const uploadBinaries: Stage<Prerequisites & Binaries, Published> = {
  name: 'publish',
  async run(ctx, state) {
    const store = matrixArtifactStore(ctx)
    // Sorted, as in the artifact's name: the package job lists each leg's platforms as written here.
    const platforms = [...state.plan.built.keys()].sort()
    const name = binariesArtifactName(platforms)
    const files: string[] = []
    for (const platform of platforms) files.push(...(await filesUnder(join(state.binDir, platform))))
    const timelineFile = join(state.binDir, LEG_TIMELINES_DIR, `${name}.json`)
    const timeline: LegTimeline = {
      platforms,
      startedAt: ctx.timeline.startedAt,
      stages: [...ctx.timeline.stages]
    }
    await mkdir(dirname(timelineFile), { recursive: true })
    await writeFile(timelineFile, JSON.stringify(timeline))
    const uploaded = await store.uploadBundle(
      name,
      state.binDir,
      [...files, timelineFile].map(f => relative(state.binDir, f)),
      ctx.config.artifacts.retentionDays
    )
    ctx.log.info(`uploaded ${files.length} binaries as ${uploaded.name}: ${uploaded.location}`)
    return { artifacts: [uploaded] }
  }
}
