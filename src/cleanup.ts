// Removal of what a run left, outside the run's own end: on SIGINT/SIGTERM, in the action's post step
// and for `kube-release clean`. Each connects its own engine, which nothing cancels: it runs because
// the run was cancelled or is gone.
import { DEFAULT_STALL_TIMEOUT_MS } from './config.js'
import { connectEngine, removeRunContainers, removeTreeObjects, type Engine } from './docker/engine.js'
import { errorMessage } from './errors.js'
import type { Logger } from './logger.js'

function cleanupEngine(log: Logger): Promise<Engine> {
  return connectEngine(log, {
    cancel: new AbortController().signal,
    stallTimeoutMs: DEFAULT_STALL_TIMEOUT_MS
  })
}

/** The containers of a run, which a killed or cancelled main step may have left. */
export async function removeRunLeftovers(runId: string, log: Logger): Promise<number> {
  return removeRunContainers(await cleanupEngine(log), runId, log)
}

/**
 * On SIGINT/SIGTERM (the runner's cancel: SIGINT, then SIGTERM 7.5 s later): abort the run (requests
 * under way end, nothing new starts), remove its containers (which stops the build), then exit non-zero.
 */
export function cancelOnSignal(runId: string, log: Logger): AbortSignal {
  const controller = new AbortController()
  const onSignal = (signal: NodeJS.Signals): void => {
    if (controller.signal.aborted) return
    controller.abort()
    log.warning(`${signal}: stopping the build and removing its containers`)
    removeRunLeftovers(runId, log)
      .catch(err => log.warning(`cleanup after ${signal} failed: ${errorMessage(err)}`))
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
export async function removeTreeLeftovers(
  treeHash: string,
  log: Logger
): Promise<{ containers: number; volumes: number; images: number }> {
  return removeTreeObjects(await cleanupEngine(log), treeHash)
}
