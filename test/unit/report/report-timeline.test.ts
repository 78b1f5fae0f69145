// The summary at a glance: the stages as a Mermaid Gantt chart (read back by the real Mermaid parser),
// a failure first, and a matrix package job's legs side by side.
import { describe, expect, it } from 'vitest'
import { summaryMarkdown, type LegTimeline, type RunReport } from '../../../src/report/report.js'
import { ganttChart, mermaidText } from '../../../src/report/timeline.js'
import { ganttTasks, mermaidBlocks } from '../../helpers/mermaid.js'
import { sequential } from './stage-timings.js'

const STARTED_AT = Date.UTC(2026, 11, 7, 23, 50, 12, 345)

const report = (overrides: Partial<RunReport> = {}): RunReport => ({
  mode: 'quick-release',
  workspace: 'bind',
  version: 'v1.35.0',
  platforms: ['linux/amd64'],
  targets: 'kubectl',
  startedAt: STARTED_AT,
  stages: sequential([
    { name: 'prereqs', seconds: 1.24, ok: true },
    { name: 'image', seconds: 0.5, ok: true },
    { name: 'workspace', seconds: 12, ok: true },
    { name: 'build', seconds: 601.75, ok: true },
    { name: 'output', seconds: 3.3, ok: true },
    { name: 'cache', seconds: 20.4, ok: true }
  ]),
  legs: [],
  tarballs: [],
  releaseDir: null,
  images: [],
  artifacts: [],
  caches: null,
  traffic: { intoContainers: 0, outOfContainers: 0 },
  cacheRoom: null,
  error: null,
  ...overrides
})

const ERROR =
  "'make cross' failed with exit code 2; its last lines:\n" +
  'cmd/kubectl/kubectl.go:2:15: undefined: undefinedName\n' +
  'make: *** [Makefile:93: all] Error 1'

const failed = report({
  stages: sequential([
    { name: 'prereqs', seconds: 1.24, ok: true },
    { name: 'image', seconds: 0.5, ok: true },
    { name: 'workspace', seconds: 12, ok: true },
    { name: 'build', seconds: 80.5, ok: false },
    { name: 'cache', seconds: 3.2, ok: true }
  ]),
  error: ERROR
})

/** The one Mermaid block of a summary. */
function onlyChart(md: string): string {
  const blocks = mermaidBlocks(md)
  expect(blocks, md).toHaveLength(1)
  return blocks[0]
}

describe('the timeline', () => {
  it('Mermaid places one bar per stage, closing stages too, where and as long as the stage ran', async () => {
    const run = report()
    const tasks = await ganttTasks(onlyChart(summaryMarkdown(run)))
    expect(tasks.map(t => t.name)).toEqual(run.stages.map(s => s.name))
    for (const [i, stage] of run.stages.entries()) {
      expect(tasks[i].start, stage.name).toBe(Math.round(STARTED_AT + stage.startSeconds * 1000))
      expect(tasks[i].end - tasks[i].start, stage.name).toBeCloseTo(stage.seconds * 1000, -1)
      expect(tasks[i]).toMatchObject({ done: true, crit: false })
    }
  })

  it('marks the failed stage crit, and only that one', async () => {
    const tasks = await ganttTasks(onlyChart(summaryMarkdown(failed)))
    expect(tasks.filter(t => t.crit).map(t => t.name)).toEqual(['build'])
    expect(tasks.map(t => t.name)).toEqual(['prereqs', 'image', 'workspace', 'build', 'cache'])
  })

  it('a chart the parser cannot read is rejected: the check can fail', async () => {
    const chart = onlyChart(summaryMarkdown(report()))
    // A task line without the colon before its data.
    const broken = chart.replace(/^(\s+build) :/m, '$1 ')
    expect(broken).not.toBe(chart)
    await expect(ganttTasks(broken)).rejects.toThrow(/Parse error/)
  })

  it.each([
    ['a colon', 'build: linux/amd64'],
    ['a hash and a semicolon', 'images #1; arm64'],
    ['a comment mark', 'package %% done'],
    ['a statement word', 'title of the release'],
    ['a section word', 'section two'],
    ['nothing printable', ':#;']
  ])('a stage name with %s stays one task of its own', async (_what, name) => {
    const stages = sequential([
      { name: 'prereqs', seconds: 1, ok: true },
      { name, seconds: 2, ok: false },
      { name: 'cache', seconds: 3, ok: true }
    ])
    const chart = ganttChart([{ name, timeline: { startedAt: STARTED_AT, stages } }])
    const tasks = await ganttTasks(chart.slice(1, -1).join('\n'))
    expect(tasks.map(t => t.name)).toEqual(['prereqs', mermaidText(name), 'cache'])
    expect(tasks.map(t => t.crit)).toEqual([false, true, false])
    expect(new Set(tasks.map(t => t.section))).toEqual(new Set([mermaidText(name)]))
  })

  it('no stage ran: no chart', () => {
    expect(mermaidBlocks(summaryMarkdown(report({ stages: [], error: 'no engine' })))).toEqual([])
  })
})

describe('a failed run', () => {
  it('names the failed stage and gives its last lines above the facts table', () => {
    const lines = summaryMarkdown(failed).split('\n')
    const caution = lines.indexOf('> [!CAUTION]')
    const facts = lines.findIndex(l => l.startsWith('| **result**'))
    expect(caution).toBeGreaterThan(0)
    expect(facts).toBeGreaterThan(caution)
    expect(lines[caution + 1]).toBe('> The stage **build** failed.')
    const top = lines.slice(caution, facts).join('\n')
    expect(top).toContain('```text\n' + ERROR + '\n```')
    // Said once: not again further down.
    expect(lines.slice(facts).join('\n')).not.toContain('undefinedName')
  })

  it('a failure outside every stage: the run failed, with its message', () => {
    const md = summaryMarkdown(report({ stages: [], error: 'cannot reach the Docker engine' }))
    expect(md).toContain('> The run failed.')
    expect(md.indexOf('cannot reach the Docker engine')).toBeLessThan(md.indexOf('**result**'))
  })

  it('an error holding a fence keeps its block whole', () => {
    const error = 'the build printed\n```\nmake: *** Error 1'
    const md = summaryMarkdown(report({ ...failed, error }))
    expect(md).toContain('````text\n' + error + '\n````')
  })

  it('a succeeded run has no callout', () => {
    expect(summaryMarkdown(report())).not.toContain('[!CAUTION]')
  })
})

describe('a matrix package job', () => {
  const leg = (platforms: string[], startedAt: number, buildSeconds: number, ok = true): LegTimeline => ({
    platforms,
    startedAt,
    stages: sequential([
      { name: 'prereqs', seconds: 2, ok: true },
      { name: 'image', seconds: 30, ok: true },
      { name: 'workspace', seconds: 5, ok: true },
      { name: 'build', seconds: buildSeconds, ok },
      { name: 'output', seconds: 1.5, ok: true }
    ])
  })
  const LEGS = [
    leg(['linux/amd64', 'linux/arm64'], STARTED_AT - 900_000, 700),
    leg(['darwin/arm64', 'windows/amd64'], STARTED_AT - 890_000, 512.25)
  ]
  const packageJob = report({
    stages: sequential([
      { name: 'prereqs', seconds: 1, ok: true },
      { name: 'binaries', seconds: 20, ok: true },
      { name: 'package', seconds: 60, ok: true },
      { name: 'publish', seconds: 8, ok: true }
    ]),
    legs: LEGS
  })

  /** The rows of the Build legs table, cells trimmed. */
  function legTable(md: string): string[][] {
    const lines = md.split('\n')
    const start = lines.indexOf('### Build legs')
    expect(start, md).toBeGreaterThan(0)
    const end = lines.findIndex((l, i) => i > start + 1 && !l.startsWith('|'))
    return lines
      .slice(start + 2, end)
      .filter(l => !/^\|[\s|:-]+\|$/.test(l))
      .map(l =>
        l
          .slice(1, -1)
          .split('|')
          .map(c => c.trim())
      )
  }

  it('shows the legs side by side: one column per leg, one row per stage', () => {
    const rows = legTable(summaryMarkdown(packageJob))
    expect(rows[0]).toEqual(['stage', 'leg 1', 'leg 2'])
    expect(rows[1]).toEqual(['platforms', 'linux/amd64, linux/arm64', 'darwin/arm64, windows/amd64'])
    expect(rows.slice(2).map(r => r[0])).toEqual(LEGS[0].stages.map(s => s.name))
    expect(rows.find(r => r[0] === 'build')).toEqual(['build', '700.0 s', '512.3 s'])
  })

  it('marks a stage a leg failed, and a stage a leg did not run', () => {
    const failedLeg = leg(['darwin/arm64'], STARTED_AT, 80, false)
    // It failed in build: it ran no output stage.
    const legs = [LEGS[0], { ...failedLeg, stages: failedLeg.stages.slice(0, 4) }]
    const rows = legTable(summaryMarkdown(report({ legs })))
    expect(rows.find(r => r[0] === 'build')).toEqual(['build', '700.0 s', '80.0 s failed'])
    expect(rows.find(r => r[0] === 'output')).toEqual(['output', '1.5 s', '-'])
  })

  it("charts each leg's stages in a section of its own, then this job's, on one time axis", async () => {
    const tasks = await ganttTasks(onlyChart(summaryMarkdown(packageJob)))
    const sections = [...new Set(tasks.map(t => t.section))]
    expect(sections).toEqual([
      'leg 1 (linux/amd64, linux/arm64)',
      'leg 2 (darwin/arm64, windows/amd64)',
      'this job'
    ])
    for (const [i, l] of LEGS.entries()) {
      const bars = tasks.filter(t => t.section === sections[i])
      expect(bars.map(t => t.name)).toEqual(l.stages.map(s => s.name))
      expect(bars[0].start).toBe(l.startedAt)
    }
    expect(tasks.filter(t => t.section === 'this job').map(t => t.name)).toEqual(
      packageJob.stages.map(s => s.name)
    )
  })

  it('a run that is no package job has no legs table', () => {
    expect(summaryMarkdown(report())).not.toContain('Build legs')
  })
})
