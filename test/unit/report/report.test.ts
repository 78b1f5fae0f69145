// The run summary: the Markdown job summary of the action and the text summary of the CLI.
import { describe, expect, it } from 'vitest'
import { summaryMarkdown, summaryText, type RunReport } from '../../../src/report/report.js'
import { sequential } from './stage-timings.js'

const STAGES = sequential([
  { name: 'prereqs', seconds: 1.24, ok: true },
  { name: 'image', seconds: 0.5, ok: true },
  { name: 'workspace', seconds: 12, ok: true },
  { name: 'build', seconds: 601.75, ok: true },
  { name: 'output', seconds: 3.3, ok: true },
  { name: 'package', seconds: 45.05, ok: true }
])
const sha = (c: string): string => c.repeat(64)
const TARBALLS = [
  {
    name: 'kubernetes-client-linux-amd64.tar.gz',
    path: '/t/_output/release-tars/c',
    bytes: 30 * 1024 ** 2,
    sha256: sha('a')
  },
  {
    name: 'kubernetes-node-linux-amd64.tar.gz',
    path: '/t/_output/release-tars/n',
    bytes: 123456789,
    sha256: sha('b')
  },
  {
    name: 'kubernetes-server-linux-amd64.tar.gz',
    path: '/t/_output/release-tars/s',
    bytes: 400 * 1024 ** 2,
    sha256: sha('c')
  },
  {
    name: 'kubernetes-test-linux-amd64.tar.gz',
    path: '/t/_output/release-tars/t',
    bytes: 2048,
    sha256: sha('d')
  }
]

const succeeded: RunReport = {
  mode: 'quick-release',
  workspace: 'bind',
  version: 'v1.35.0-alpha.1.149+e21082468a3b49',
  platforms: ['linux/amd64'],
  targets: 'all',
  startedAt: Date.UTC(2026, 11, 7, 23, 50),
  stages: STAGES,
  legs: [],
  tarballs: TARBALLS,
  releaseDir: '/t/_output/release-tars',
  images: [],
  artifacts: [],
  caches: null,
  traffic: { intoContainers: 0, outOfContainers: 0 },
  cacheRoom: null,
  error: null
}

const ERROR =
  "'make cross' failed with exit code 2; its last lines:\nlink: signal: killed\nmake: *** [all] Error 1"
const failed: RunReport = {
  ...succeeded,
  stages: sequential([
    ...STAGES.slice(0, 3),
    { name: 'build', seconds: 80.5, ok: false },
    { name: 'cache', seconds: 20.1, ok: true }
  ]),
  tarballs: [],
  releaseDir: null,
  error: ERROR
}

/** Lines of a Markdown table row, cells trimmed. */
const mdRows = (md: string): string[][] =>
  md
    .split('\n')
    .filter(l => l.startsWith('|'))
    .map(l =>
      l
        .slice(1, -1)
        .split('|')
        .map(c => c.trim())
    )

describe('summaryMarkdown', () => {
  it('has one row per stage with its duration and result', () => {
    const rows = mdRows(summaryMarkdown(succeeded))
    for (const stage of STAGES) {
      const matching = rows.filter(r => r[0] === stage.name)
      expect(matching, stage.name).toHaveLength(1)
      expect(matching[0][1]).toContain(stage.seconds.toFixed(1))
      expect(matching[0][2]).toBe('ok')
    }
  })

  it('has one row per tarball with its size, and the release dir', () => {
    const md = summaryMarkdown(succeeded)
    const rows = mdRows(md)
    for (const t of TARBALLS)
      expect(
        rows.filter(r => r[0] === t.name),
        t.name
      ).toHaveLength(1)
    expect(rows.find(r => r[0] === TARBALLS[0].name)?.[1]).toBe('30 MiB')
    expect(rows.find(r => r[0] === TARBALLS[3].name)?.[1]).toBe('2 KiB')
    expect(md).toContain('/t/_output/release-tars')
  })

  it('the tarball table has a sha256 column holding each tarball’s digest', () => {
    const rows = mdRows(summaryMarkdown(succeeded))
    const header = rows.find(r => r[0] === 'tarball')
    expect(header).toBeDefined()
    const column = header?.indexOf('sha256') ?? -1
    expect(column, `header: ${header?.join(' | ')}`).toBeGreaterThan(0)
    for (const t of TARBALLS) expect(rows.find(r => r[0] === t.name)?.[column], t.name).toBe(t.sha256)
  })

  it('states the result, version, mode, workspace, platforms and targets', () => {
    const md = summaryMarkdown(succeeded)
    for (const s of ['succeeded', succeeded.version as string, 'quick-release', 'bind', 'linux/amd64']) {
      expect(md).toContain(s)
    }
    expect(md).not.toContain('failed')
  })

  it('is valid Markdown tables: every row of a table has the same number of cells', () => {
    const lines = summaryMarkdown(succeeded).split('\n')
    let width: number | null = null
    for (const line of lines) {
      if (!line.startsWith('|')) {
        width = null
        continue
      }
      const cells = line.split('|').length
      if (width === null) width = cells
      expect(cells, line).toBe(width)
    }
  })

  it('on failure: result failed, the failed stage, no tarball table, and the whole error', () => {
    const md = summaryMarkdown(failed)
    const rows = mdRows(md)
    expect(rows.find(r => r[0] === '**result**')?.[1]).toBe('failed')
    expect(rows.find(r => r[0] === 'build')?.[2]).toBe('failed')
    expect(rows.filter(r => r[0].startsWith('kubernetes-'))).toHaveLength(0)
    expect(md).toContain(ERROR)
  })

  it('a run that failed before the version: placeholders, not "null"', () => {
    const md = summaryMarkdown({ ...failed, version: null, platforms: [], stages: [] })
    expect(md).not.toContain('null')
    expect(md).toContain(ERROR)
  })
})

/** The lines of the text summary's section that starts with a line `header…`, up to a blank line. */
function section(text: string, header: string): string[] {
  const lines = text.split('\n')
  const start = lines.findIndex(l => l.startsWith(header))
  if (start < 0) return []
  const end = lines.findIndex((l, i) => i > start && l.trim() === '')
  return lines.slice(start + 1, end < 0 ? undefined : end)
}

describe('summaryText', () => {
  it('has one line per stage with its duration and result', () => {
    const lines = section(summaryText(succeeded), 'stages:')
    expect(lines).toHaveLength(STAGES.length)
    for (const stage of STAGES) {
      const matching = lines.filter(l => l.trim().split(/\s+/)[0] === stage.name)
      expect(matching, stage.name).toHaveLength(1)
      expect(matching[0]).toContain(`${stage.seconds.toFixed(1)} s`)
      expect(matching[0].trim().endsWith('ok')).toBe(true)
    }
  })

  it('has one line per tarball with its size, and the release dir', () => {
    const text = summaryText(succeeded)
    const lines = section(text, 'tarballs')
    expect(lines).toHaveLength(TARBALLS.length)
    for (const t of TARBALLS)
      expect(
        lines.filter(l => l.includes(t.name)),
        t.name
      ).toHaveLength(1)
    expect(lines.find(l => l.includes(TARBALLS[2].name))).toContain('400 MiB')
    expect(text).toContain('/t/_output/release-tars')
  })

  it('each tarball line has its sha256', () => {
    const lines = section(summaryText(succeeded), 'tarballs')
    for (const t of TARBALLS) {
      const line = lines.find(l => l.includes(t.name))
      expect(line?.trim().split(/\s+/), t.name).toContain(t.sha256)
    }
  })

  it('aligns the columns of the stage table', () => {
    const stageLines = section(summaryText(succeeded), 'stages:')
    expect(stageLines).toHaveLength(STAGES.length)
    // the duration column starts at one offset, and so does the result column
    const durationAt = stageLines.map(l => l.search(/\d+\.\d s/))
    const resultAt = stageLines.map(l => l.lastIndexOf(' ok') + 1)
    expect(new Set(durationAt).size).toBe(1)
    expect(new Set(resultAt).size).toBe(1)
  })

  it('on failure: result failed, the failed stage, no tarballs', () => {
    const text = summaryText(failed)
    expect(text).toMatch(/result\s+failed/)
    const build = section(text, 'stages:').find(l => l.trim().startsWith('build '))
    expect(build?.trim().endsWith('failed')).toBe(true)
    expect(text).not.toContain('kubernetes-client')
  })

  it('on failure: not the error, which the run prints once as its last message', () => {
    const text = summaryText(failed)
    for (const line of ERROR.split('\n').filter(Boolean)) expect(text).not.toContain(line)
  })
})

// README, Outputs: the job summary shows "links to the artifacts"; the CLI's summary is the same summary as text.
const BUNDLE = [
  {
    name: 'kubernetes-release-v1.35.0-linux-amd64-0badc0de',
    id: 4242,
    location: 'https://github.com/o/r/actions/runs/1/artifacts/4242'
  }
]
const PER_FILE = [
  {
    name: 'kubernetes-client-linux-amd64.tar.gz',
    id: 11,
    location: 'https://github.com/o/r/actions/runs/1/artifacts/11'
  },
  { name: 'SHA256SUMS', id: 12, location: 'https://github.com/o/r/actions/runs/1/artifacts/12' }
]
const LOCAL = [{ name: 'my-release', location: '/home/u/releases/my-release' }]

describe('summaryMarkdown: artifacts', () => {
  it.each([
    ['a bundle', BUNDLE],
    ['per-file artifacts', PER_FILE],
    ['a local copy', LOCAL]
  ])('%s: each artifact once, as a link [name](location)', (_what, artifacts) => {
    const md = summaryMarkdown({ ...succeeded, artifacts })
    for (const a of artifacts) {
      const link = `[${a.name}](${a.location})`
      expect(md.split(link).length - 1, link).toBe(1)
    }
  })

  it('the links come under an Artifacts heading', () => {
    const md = summaryMarkdown({ ...succeeded, artifacts: BUNDLE })
    const lines = md.split('\n')
    const heading = lines.findIndex(l => /^#+\s+Artifacts\b/i.test(l))
    expect(heading, md).toBeGreaterThanOrEqual(0)
    const link = lines.findIndex(l => l.includes(`[${BUNDLE[0].name}](${BUNDLE[0].location})`))
    expect(link).toBeGreaterThan(heading)
  })

  it('no artifacts: no Artifacts section', () => {
    const md = summaryMarkdown(succeeded)
    expect(md).not.toMatch(/^#+\s+Artifacts/im)
    expect(md).not.toMatch(/\]\(/)
  })
})

describe('summaryText: artifacts', () => {
  it.each([
    ['a bundle', BUNDLE],
    ['per-file artifacts', PER_FILE],
    ['a local copy', LOCAL]
  ])('%s: one line per artifact with its name and location', (_what, artifacts) => {
    const lines = summaryText({ ...succeeded, artifacts }).split('\n')
    for (const a of artifacts) {
      const matching = lines.filter(l => l.includes(a.location))
      expect(matching, a.location).toHaveLength(1)
      expect(matching[0]).toContain(a.name)
    }
  })

  it('no artifacts: no artifacts section', () => {
    const text = summaryText(succeeded)
    expect(text).not.toMatch(/^\s*artifacts?\b/im)
  })
})

describe('summary: rsync traffic', () => {
  const volume: RunReport = {
    ...succeeded,
    workspace: 'volume',
    traffic: { intoContainers: 3 * 1024 ** 2, outOfContainers: 512 * 1024 }
  }

  it('the volume workspace: one row with the bytes rsync moved in and out', () => {
    const rows = mdRows(summaryMarkdown(volume)).filter(r => r[0] === '**rsync**')
    expect(rows).toEqual([['**rsync**', '3 MiB into the data volume, 512 KiB out']])
    expect(summaryText(volume)).toMatch(/^ {2}rsync +3 MiB into the data volume, 512 KiB out$/m)
  })

  it('the bind workspace moves nothing by rsync: no row', () => {
    expect(summaryMarkdown(succeeded)).not.toContain('rsync')
    expect(summaryText(succeeded)).not.toContain('rsync')
  })
})
