// Runs library code in this process as if it were a step of a GitHub Actions job.
import { join } from 'node:path'
import type { ResultsService } from './results-service.js'

/**
 * Runs `fn` with the service's environment, cwd = workspace (cache globs resolve against the cwd) and
 * stdout captured (the libraries print workflow commands there); restores all three afterwards.
 * RUNNER_TEMP is a sibling of the workspace, so keep the workspace inside a temp dir of its own.
 */
export async function inActionsEnv<T>(service: ResultsService, workspace: string, fn: () => Promise<T>) {
  const saved = { ...process.env }
  const cwd = process.cwd()
  const write = process.stdout.write
  let log = ''
  process.stdout.write = ((chunk: string | Uint8Array) => ((log += String(chunk)), true)) as typeof write
  Object.assign(process.env, service.env(workspace, join(workspace, '..', 'runner-temp')))
  process.chdir(workspace)
  try {
    return { value: await fn(), log }
  } catch (error) {
    console.error(log)
    throw error
  } finally {
    process.stdout.write = write
    process.chdir(cwd)
    for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key]
    Object.assign(process.env, saved)
  }
}
