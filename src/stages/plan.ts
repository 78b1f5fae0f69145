// The plan job of a matrix release: the platforms of the release in legs of about equal work, as a
// matrix for `strategy.matrix` (fromJSON). Needs no engine.
import type { Config } from '../config.js'
import { planMatrix } from '../kube/matrix.js'
import { resolvePlatforms } from '../kube/platforms.js'
import type { Logger } from '../logger.js'
import { Output, type Reporter } from '../report/report.js'

/** Go's name for this machine's architecture, for `host`: the plan job runs no engine to ask. */
const GO_ARCH: Record<string, string> = { x64: 'amd64', arm64: 'arm64', s390x: 's390x', ppc64: 'ppc64le' }

export function planLegs(config: Config, reporter: Reporter, log: Logger): string[][] {
  const platforms = resolvePlatforms(config.platforms, config.mode, GO_ARCH[process.arch] ?? 'amd64')
  const legs = planMatrix(platforms, config.targets, config.legs)
  const matrix = { include: legs.map(leg => ({ platforms: leg.join(',') })) }
  reporter.setOutput(Output.matrix, JSON.stringify(matrix))
  legs.forEach((leg, i) => log.info(`leg ${i + 1}: ${leg.join(', ')}`))
  return legs
}
