// The plan job of a matrix release: the platforms of the release in legs of about equal work, as a
// matrix for `strategy.matrix` (fromJSON). Needs no engine.
import { planMatrix } from '../kube/matrix.js'
import { hostGoArch, platformsOrigin, resolvePlatforms } from '../kube/platforms.js'
import { Output } from '../report/report.js'
import type { Stage } from '../run/stage.js'
import type { MatrixPlan } from '../run/state.js'

export const planLegs: Stage<object, MatrixPlan> = {
  name: 'plan',
  async run(ctx) {
    const { config } = ctx
    const platforms = resolvePlatforms(config.platforms, config.mode, hostGoArch())
    ctx.log.info(
      `platforms: ${platforms.join(', ')} (from ${platformsOrigin(config.platforms, config.mode)})`
    )
    const legs = planMatrix(platforms, config.targets, config.legs)
    ctx.reporter.setOutput(
      Output.matrix,
      JSON.stringify({ include: legs.map(leg => ({ platforms: leg.join(',') })) })
    )
    legs.forEach((leg, i) => ctx.log.info(`leg ${i + 1}: ${leg.join(', ')}`))
    return { legs }
  }
}
