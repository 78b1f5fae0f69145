// The job summary at a glance, as the bundled action writes it to GITHUB_STEP_SUMMARY: its Mermaid
// timeline read back by the real Mermaid parser holds every stage the run timed (the closing cache
// stage too), the caches give one line each, and a failed build puts its stage and last lines first.
// Small on purpose: kubectl for the host platform, caching through the local results service.
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { expect, it } from 'vitest'
import { ganttTasks, mermaidBlocks } from '../helpers/mermaid.js'
import { runAction, type ActionRun } from './action-runner.js'
import { WORKSPACES, cleanedFixtureTrees, resultsServiceOfFile } from './helpers.js'

const service = resultsServiceOfFile()
const freshTree = cleanedFixtureTrees()

/** A kubectl quick-release of a fresh fixture tree (after `prepare`), caching through the service. */
async function summaryRun(prepare: (tree: string) => Promise<void> = async () => {}): Promise<ActionRun> {
  const tree = await freshTree()
  await prepare(tree)
  return runAction(tree, {
    service: service(),
    inputs: {
      mode: 'quick-release',
      workspace: WORKSPACES[WORKSPACES.length - 1],
      targets: 'kubectl',
      upload: 'false',
      'server-images': 'false',
      'cache-save': 'always'
    }
  })
}

/** The stage names of the summary's Stages table, in order. */
function stageTable(summary: string): { name: string; result: string }[] {
  const lines = summary.split('\n')
  const start = lines.indexOf('### Stages')
  expect(start, summary).toBeGreaterThan(0)
  const rows = []
  for (const line of lines.slice(start + 4)) {
    if (!line.startsWith('|')) break
    const [name, , result] = line
      .slice(1, -1)
      .split('|')
      .map(c => c.trim())
    rows.push({ name, result })
  }
  return rows
}

it('charts every stage of the run, the cache stage too, in a Mermaid block that parses', async () => {
  const run = await summaryRun()
  expect(run.code, run.stdout.slice(-3000)).toBe(0)
  const stages = stageTable(run.summary)
  expect(stages.map(s => s.name)).toEqual(
    expect.arrayContaining([
      'prereqs',
      'image',
      'workspace',
      'build',
      'output',
      'package',
      'publish',
      'cache'
    ])
  )
  const blocks = mermaidBlocks(run.summary)
  expect(blocks, run.summary).toHaveLength(1)
  const tasks = await ganttTasks(blocks[0])
  expect(tasks.map(t => t.name)).toEqual(stages.map(s => s.name))
  expect(tasks.filter(t => t.crit)).toEqual([])
  // Measured, in order: each bar starts where the one before it ended or later.
  for (const [i, task] of tasks.entries()) {
    expect(task.end, task.name).toBeGreaterThanOrEqual(task.start)
    if (i > 0) expect(task.start, task.name).toBeGreaterThanOrEqual(tasks[i - 1].end - 1)
  }
  // A cold cache: both caches missed, and the build cache was saved, with its size and time.
  expect(run.summary).toMatch(/^\| \*\*image cache\*\* \| miss \|$/m)
  expect(run.summary).toMatch(/^\| \*\*build cache\*\* \| miss; [\d.]+ [KMG]?i?B saved in [\d.]+ s \|$/m)
  expect(run.summary).not.toContain('[!CAUTION]')
})

it('a failed build: its stage and last lines come first, and the chart marks it crit', async () => {
  const run = await summaryRun(tree =>
    writeFile(join(tree, 'cmd/kubectl/kubectl.go'), 'package main\nfunc main() { undefinedName() }\n')
  )
  expect(run.code).toBe(1)
  const lines = run.summary.split('\n')
  const caution = lines.indexOf('> [!CAUTION]')
  const facts = lines.findIndex(l => l.startsWith('| **result** |'))
  expect(caution, run.summary).toBeGreaterThan(0)
  expect(facts).toBeGreaterThan(caution)
  expect(lines[caution + 1]).toBe('> The stage **build** failed.')
  // The compiler's message is among the build's last lines, above the facts.
  const top = lines.slice(caution, facts).join('\n')
  expect(top).toMatch(/'make [^']*' failed with exit code \d+; its last lines:/)
  expect(top).toContain('undefinedName')
  const tasks = await ganttTasks(mermaidBlocks(run.summary)[0])
  expect(tasks.filter(t => t.crit).map(t => t.name)).toEqual(['build'])
  expect(tasks.map(t => t.name)).toEqual(stageTable(run.summary).map(s => s.name))
})
