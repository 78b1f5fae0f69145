// The workflows in examples/ (for users to copy) and .github/workflows/ (the project's own) use the
// action with the names action.yml declares. GitHub only warns about an unknown input ("Unexpected
// input(s)") and gives an empty string for an unknown output, so a misspelt name in an example would
// fail no run: it would quietly build something else, or publish nothing.
import { readFileSync, readdirSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { ARTIFACT_LAYOUTS, MODES, PHASES, SAVE_POLICIES, WORKSPACES } from '../../src/config.js'
import { Input } from '../../src/inputs.js'

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..')
/** The name users write in `uses:`, at the major tag the README pins. */
const PUBLISHED = 'kube-release-action/kube-release-action'
const MAJOR_TAG = 'v1'

const action = parse(readFileSync(join(ROOT, 'action.yml'), 'utf8')) as {
  inputs: Record<string, unknown>
  outputs: Record<string, unknown>
}
const INPUTS = new Set(Object.keys(action.inputs))
const OUTPUTS = new Set(Object.keys(action.outputs))

/** The inputs whose values are one of a list, each with its list. */
const CHOICES: Record<string, readonly string[]> = {
  [Input.mode]: MODES,
  [Input.phase]: PHASES,
  [Input.cacheSave]: SAVE_POLICIES,
  [Input.workspace]: WORKSPACES,
  [Input.artifactLayout]: ARTIFACT_LAYOUTS
}

interface Step {
  id?: string
  uses?: string
  with?: Record<string, unknown>
}
interface Workflow {
  jobs: Record<string, { steps?: Step[] }>
}

const workflowFiles = (dir: string): string[] =>
  readdirSync(join(ROOT, dir))
    .filter(name => /\.ya?ml$/.test(name))
    .sort()
    .map(name => `${dir}/${name}`)
const EXAMPLES = workflowFiles('examples')
const OWN_WORKFLOWS = workflowFiles('.github/workflows')

const readWorkflow = (file: string): Workflow => parse(readFileSync(join(ROOT, file), 'utf8')) as Workflow

const usesAction = (step: Step): boolean => step.uses === './' || !!step.uses?.startsWith(`${PUBLISHED}@`)

function actionSteps(workflow: Workflow): Step[] {
  return Object.values(workflow.jobs).flatMap(job => (job.steps ?? []).filter(usesAction))
}

/**
 * What a workflow names that action.yml does not declare: the inputs of each step using the action, a
 * value outside an input's choices, and every `steps.<id>.outputs.<name>` of its job (in run scripts,
 * env, with and the job's outputs) that reads such a step.
 */
function undeclaredNames(workflow: Workflow): string[] {
  const problems: string[] = []
  for (const [jobName, job] of Object.entries(workflow.jobs)) {
    const steps = job.steps ?? []
    const actionIds = new Set(steps.filter(usesAction).map(step => step.id))
    for (const step of steps.filter(usesAction)) {
      for (const [input, value] of Object.entries(step.with ?? {})) {
        if (!INPUTS.has(input)) problems.push(`${jobName}: input '${input}' is not declared`)
        const choices = CHOICES[input]
        if (choices && !String(value).includes('${{') && !choices.includes(String(value)))
          problems.push(
            `${jobName}: input '${input}' is '${String(value)}', not one of ${choices.join(', ')}`
          )
      }
    }
    const stepIds = new Set(steps.map(step => step.id))
    for (const [reference, id, output] of JSON.stringify(job).matchAll(
      /\bsteps\.([\w-]+)\.outputs\.([\w-]+)/g
    )) {
      if (!stepIds.has(id)) problems.push(`${jobName}: ${reference} reads a step the job does not have`)
      else if (actionIds.has(id) && !OUTPUTS.has(output))
        problems.push(`${jobName}: output '${output}' is not declared`)
    }
  }
  return problems
}

describe('workflows using the action', () => {
  it('finds the examples and the project workflows', () => {
    expect(EXAMPLES.length).toBeGreaterThan(0)
    expect(OWN_WORKFLOWS).toContain('.github/workflows/test-action.yml')
  })

  it.each([...EXAMPLES, ...OWN_WORKFLOWS])('%s names only inputs and outputs action.yml declares', file => {
    expect(undeclaredNames(readWorkflow(file))).toEqual([])
  })

  it.each(EXAMPLES)(`%s uses the action as ${PUBLISHED}@${MAJOR_TAG}`, file => {
    const uses = Object.values(readWorkflow(file).jobs)
      .flatMap(job => job.steps ?? [])
      .map(step => step.uses)
      .filter(uses => uses?.includes('kube-release-action'))
    expect(uses.length).toBeGreaterThan(0)
    expect(new Set(uses)).toEqual(new Set([`${PUBLISHED}@${MAJOR_TAG}`]))
  })

  it('test-action.yml runs the action of its own checkout', () => {
    expect(actionSteps(readWorkflow('.github/workflows/test-action.yml')).map(step => step.uses)).toEqual([
      './'
    ])
  })

  it('reports an input, a value, an output and a step that do not exist', () => {
    const workflow = parse(`
jobs:
  release:
    outputs:
      files: \${{ steps.build.outputs.tarball }}
    steps:
      - id: build
        uses: ${PUBLISHED}@${MAJOR_TAG}
        with:
          mode: quick
          platform: linux/amd64
          phase: \${{ inputs.phase }}
      - run: echo "\${{ steps.build.outputs.version }} \${{ steps.bulid.outputs.version }}"
`) as Workflow
    expect(undeclaredNames(workflow)).toEqual([
      `release: input 'mode' is 'quick', not one of ${MODES.join(', ')}`,
      "release: input 'platform' is not declared",
      "release: output 'tarball' is not declared",
      'release: steps.bulid.outputs.version reads a step the job does not have'
    ])
  })
})

describe('README', () => {
  it('links every example, and no file examples/ lacks', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8')
    const linked = [...readme.matchAll(/\]\((examples\/[^)#]+)\)/g)].map(([, file]) => file)
    expect([...new Set(linked)].sort()).toEqual(EXAMPLES)
  })
})
