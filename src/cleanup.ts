// Removal of what a run started, by label: from the pipeline's finally, from a signal handler and
// from the action's post step alike. Containers only: the data volume and the kube-build image are
// caches meant to outlive the run.
import { ContainerClient } from './docker/containers.js'
import { connectEngine, type Engine } from './docker/engine.js'
import { Label, runFilter } from './docker/labels.js'
import { VolumeClient } from './docker/volumes.js'
import type { Logger } from './logger.js'

export async function removeRunContainers(runId: string, log: Logger, engine?: Engine): Promise<number> {
  const { docker } = engine ?? (await connectEngine(log))
  const removed = await new ContainerClient(docker, log).removeByLabel(runFilter(runId))
  if (removed > 0) log.info(`removed ${removed} container${removed > 1 ? 's' : ''} of run ${runId}`)
  return removed
}

/**
 * On SIGINT/SIGTERM (the runner's cancel: SIGINT, then SIGTERM 7.5 s later): stop starting
 * anything, remove the run's containers (which stops the build), then exit non-zero.
 */
export function cancelOnSignal(runId: string, log: Logger): AbortSignal {
  const controller = new AbortController()
  const onSignal = (signal: NodeJS.Signals): void => {
    if (controller.signal.aborted) return
    controller.abort()
    log.warning(`${signal}: stopping the build and removing its containers`)
    removeRunContainers(runId, log)
      .catch(err => log.warning(`cleanup after ${signal} failed: ${(err as Error).message}`))
      .finally(() => process.exit(signal === 'SIGINT' ? 130 : 143))
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  return controller.signal
}

/**
 * Everything this action keeps for a tree between runs (data volumes, kube-build images) and any
 * container left from its runs: what upstream's `make clean` removes for its own build.
 */
export async function removeTreeObjects(
  hash: string,
  log: Logger
): Promise<{ containers: number; volumes: number; images: number }> {
  const { docker } = await connectEngine(log)
  const filter = { label: [`${Label.managed}=true`, `${Label.tree}=${hash}`] }
  const containers = await new ContainerClient(docker, log).removeByLabel(filter)
  const volumeClient = new VolumeClient(docker, log)
  const volumes = await volumeClient.list(filter)
  for (const name of volumes) await volumeClient.remove(name)
  const images = await docker.listImages({ filters: filter })
  for (const image of images) await docker.getImage(image.Id).remove({ force: true })
  return { containers, volumes: volumes.length, images: images.length }
}
