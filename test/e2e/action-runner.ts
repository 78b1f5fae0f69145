// Runs the bundled action the way the GitHub runner does: INPUT_* variables, the GITHUB_OUTPUT,
// GITHUB_STATE and GITHUB_STEP_SUMMARY files, cwd = the workspace; optionally with the local results
// service for artifacts and caches.
import { mkdtemp, readFile, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { basename, dirname, join } from 'node:path'
import type { ResultsService } from '../helpers/results-service.js'
import { REPO_ROOT, runProcess, type Result } from './helpers.js'

export interface ActionRun extends Result {
  /** GITHUB_OUTPUT, parsed. */
  readonly outputs: Record<string, string>
  /** GITHUB_STATE, parsed: what the post step gets as STATE_*. */
  readonly state: Record<string, string>
  readonly summary: string
  /** The environment the step ran with, for a post step. */
  readonly env: NodeJS.ProcessEnv
  readonly workspace: string
}

export interface ActionOptions {
  /** Inputs by their action.yml names. */
  readonly inputs?: Record<string, string>
  readonly service?: ResultsService
  readonly env?: NodeJS.ProcessEnv
}

/** The runner's file commands: `name<<DELIM` … `DELIM` blocks and `name=value` lines. */
export function fileCommands(text: string): Record<string, string> {
  const values: Record<string, string> = {}
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const heredoc = /^([^=<]+)<<(.+)$/.exec(lines[i])
    if (heredoc) {
      const end = lines.indexOf(heredoc[2], i + 1)
      values[heredoc[1]] = lines.slice(i + 1, end).join('\n')
      i = end
    } else if (lines[i].includes('=')) {
      values[lines[i].slice(0, lines[i].indexOf('='))] = lines[i].slice(lines[i].indexOf('=') + 1)
    }
  }
  return values
}

/** The environment of a main step for the tree `tree` (its parent is the workspace). */
export async function actionEnv(tree: string, options: ActionOptions = {}): Promise<NodeJS.ProcessEnv> {
  const workspace = dirname(tree)
  const files = await mkdtemp(join(tmpdir(), 'kube-release-runner-'))
  const runnerFiles = {
    GITHUB_OUTPUT: join(files, 'output'),
    GITHUB_STATE: join(files, 'state'),
    GITHUB_STEP_SUMMARY: join(files, 'summary')
  }
  for (const path of Object.values(runnerFiles)) await writeFile(path, '')
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    // The engine the suite runs against (scripts/engines.sh), as a runner's environment names it.
    ...(process.env.DOCKER_HOST ? { DOCKER_HOST: process.env.DOCKER_HOST } : {}),
    // The suite's temporary directory, removed at its end.
    TMPDIR: process.env.TMPDIR,
    GITHUB_ACTIONS: 'true',
    GITHUB_WORKSPACE: workspace,
    RUNNER_TEMP: join(files, 'runner-temp'),
    ...(options.service?.env(workspace, join(files, 'runner-temp')) ?? {}),
    ...runnerFiles,
    INPUT_SOURCE: basename(tree),
    ...Object.fromEntries(
      Object.entries(options.inputs ?? {}).map(([k, v]) => [`INPUT_${k.toUpperCase()}`, v])
    ),
    ...options.env
  }
}

/** Runs the bundled action's main step to its end. */
export async function runAction(tree: string, options: ActionOptions = {}): Promise<ActionRun> {
  const env = await actionEnv(tree, options)
  const workspace = dirname(tree)
  const result = await runProcess([process.execPath, join(REPO_ROOT, 'dist/index.js')], env, workspace)
  return {
    ...result,
    outputs: fileCommands(await readFile(env.GITHUB_OUTPUT!, 'utf8')),
    state: fileCommands(await readFile(env.GITHUB_STATE!, 'utf8')),
    summary: await readFile(env.GITHUB_STEP_SUMMARY!, 'utf8'),
    env,
    workspace
  }
}

/** Runs the post step with the state a main step saved. */
export function runPost(main: ActionRun): Promise<Result> {
  const state = Object.fromEntries(Object.entries(main.state).map(([k, v]) => [`STATE_${k}`, v]))
  return runProcess(
    [process.execPath, join(REPO_ROOT, 'dist/index.js')],
    { ...main.env, ...state },
    main.workspace
  )
}
