// Removal of what a run left, outside the run's own end: on SIGINT/SIGTERM, in the action's post step
// and for `kube-release clean` (what make clean does for a tree, or everything the action keeps).
// Each connects its own engine, which nothing cancels: it runs because the run was cancelled or is gone.
import { chmod, lstat, readdir, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { DEFAULT_STALL_TIMEOUT_MS } from './config.js'
import {
  connectEngine,
  removeLabelledObjects,
  removeRunContainers,
  type Engine,
  type RemovedObjects
} from './docker/engine.js'
import { managedLabels, treeLabels } from './docker/labels.js'
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
    signalExit = removeRunLeftovers(runId, log)
      .catch(err => log.warning(`cleanup after ${signal} failed: ${errorMessage(err)}`))
      .then(() => process.exit(signal === 'SIGINT' ? 130 : 143))
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  return controller.signal
}

/** The exit a signal's cleanup ends with, once a signal has come. */
let signalExit: Promise<never> | null = null

/**
 * Exits with `code` — unless a signal cancelled the run: then once its cleanup is done, with the
 * signal's code. The cancelled run may unwind first (it does on Podman, whose removals are slower).
 */
export async function exitAfterCleanup(code: Parameters<typeof process.exit>[0]): Promise<never> {
  if (signalExit) await signalExit
  process.exit(code)
}

/** What `kube-release clean` removes from the engine. */
export type CleanScope =
  /** What make clean removes for one tree: its containers and data volumes; kube-build images when asked. */
  | { readonly kind: 'tree'; readonly treeHash: string; readonly images: boolean }
  /** Every container, volume and image this action made, of every tree and run. */
  | { readonly kind: 'all' }

/**
 * Removes what the action keeps on the engine for the scope, by its labels only. kube-build images
 * are named by their content, so trees with the same build image share them: a tree's clean keeps
 * them unless asked, and then removes every one (upstream, since v1.35, no longer deletes them).
 */
export async function removeKeptObjects(scope: CleanScope, log: Logger): Promise<RemovedObjects> {
  const engine = await cleanupEngine(log)
  if (scope.kind === 'all') return removeLabelledObjects(engine, managedLabels(), { images: true })
  const removed = await removeLabelledObjects(engine, treeLabels(scope.treeHash), { images: false })
  const images = scope.images ? await engine.images.removeLabelled(managedLabels('build-image')) : 0
  return { ...removed, images }
}

/**
 * Removes a build output directory as kube::build::clean does `_output`: the Go module cache inside
 * is read-only, so what cannot be removed is made writable first. A missing directory is no error.
 */
export async function removeOutputDir(dir: string): Promise<boolean> {
  try {
    await lstat(dir)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false
    throw err
  }
  try {
    await rm(dir, { recursive: true, force: true })
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EACCES') throw err
    await makeWritable(dir)
    await rm(dir, { recursive: true, force: true })
  }
  return true
}

async function makeWritable(dir: string): Promise<void> {
  await chmod(dir, 0o755)
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) await makeWritable(join(dir, entry.name))
  }
}
