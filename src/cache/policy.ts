// Whether caches are saved at the end of a run, by the policy the inputs chose.
import { readFileSync } from 'node:fs'
import type { SavePolicy } from '../config.js'

/** The repository's default branch, from the event payload the runner provides. */
function defaultBranch(env: NodeJS.ProcessEnv): string | undefined {
  if (!env.GITHUB_EVENT_PATH) return undefined
  try {
    const event = JSON.parse(readFileSync(env.GITHUB_EVENT_PATH, 'utf8')) as {
      repository?: { default_branch?: string }
    }
    return event.repository?.default_branch
  } catch {
    return undefined
  }
}

/** Whether to save, and why not when not. `default-branch` saves successful runs of the default branch only. */
export function saveDecision(
  policy: SavePolicy,
  succeeded: boolean,
  env: NodeJS.ProcessEnv
): { save: true } | { save: false; reason: string } {
  switch (policy) {
    case 'never':
      return { save: false, reason: 'cache-save is never (read-only)' }
    case 'always':
      return { save: true }
    case 'on-success':
      return succeeded ? { save: true } : { save: false, reason: 'the run failed (cache-save: on-success)' }
    case 'default-branch': {
      if (!succeeded) return { save: false, reason: 'the run failed' }
      const branch = defaultBranch(env)
      if (branch && env.GITHUB_REF === `refs/heads/${branch}`) return { save: true }
      return {
        save: false,
        reason: `not the default branch${branch ? ` (${branch})` : ''} (cache-save: default-branch)`
      }
    }
  }
}
