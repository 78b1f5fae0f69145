// What bench:scale computes from its runs, apart from running them: the table, each stage's growth
// between consecutive scales next to the work's growth, and the chart (one line per stage, time
// against scale, one panel per workspace and kind of run).

export const RUN_KINDS = ['cold', 'warm', 'changed'] as const
export type RunKind = (typeof RUN_KINDS)[number]

export interface RunResult {
  readonly scale: number
  readonly workspace: string
  readonly kind: RunKind
  readonly ok: boolean
  readonly seconds: number
  /** Seconds of each stage, in the order the run had them. */
  readonly stages: Record<string, number>
  readonly rsyncIn: number
  readonly rsyncOut: number
  readonly cacheSaved: number
  readonly cacheRestored: number
  /** Peak resident set of the action's process. */
  readonly peakRss: number
  /** The engine's volume and image bytes after the run, less before the workspace's first run. */
  readonly engineDiskGrowth: number
}

/** The work at one scale: what the tree holds (.git included) and what its build makes. */
export interface ScaleWork {
  readonly scale: number
  readonly treeBytes: number
  readonly binaryBytes: number
}

export interface Growth {
  readonly from: number
  readonly to: number
  readonly workspace: string
  readonly kind: RunKind
  readonly treeRatio: number
  readonly binaryRatio: number
  /** Each stage's time at `to` over its time at `from`; null when either is missing or too short to time. */
  readonly stages: Record<string, number | null>
}

/** Stages shorter than this are noise: their ratio says nothing. */
const MIN_TIMED_SECONDS = 0.05

/** Between each pair of consecutive scales, for every workspace and kind of run that both have. */
export function growthRatios(results: readonly RunResult[], work: readonly ScaleWork[]): Growth[] {
  const scales = [...new Set(work.map(w => w.scale))].sort((a, b) => a - b)
  const workAt = new Map(work.map(w => [w.scale, w]))
  const growth: Growth[] = []
  for (let i = 1; i < scales.length; i++) {
    const [from, to] = [scales[i - 1], scales[i]]
    for (const before of results.filter(r => r.scale === from)) {
      const after = results.find(
        r => r.scale === to && r.workspace === before.workspace && r.kind === before.kind
      )
      if (!after) continue
      const names = [...new Set([...Object.keys(before.stages), ...Object.keys(after.stages)])]
      const ratio = (name: string): number | null => {
        const [a, b] = [before.stages[name], after.stages[name]]
        return a === undefined || b === undefined || a < MIN_TIMED_SECONDS ? null : b / a
      }
      growth.push({
        from,
        to,
        workspace: before.workspace,
        kind: before.kind,
        treeRatio: workAt.get(to)!.treeBytes / workAt.get(from)!.treeBytes,
        binaryRatio: workAt.get(to)!.binaryBytes / workAt.get(from)!.binaryBytes,
        stages: Object.fromEntries(names.map(name => [name, ratio(name)]))
      })
    }
  }
  return growth
}

const mib = (n: number): string => (n / 1024 ** 2).toFixed(1)

/** The runs as a text table: one row per run, one column per stage. */
export function resultTable(results: readonly RunResult[]): string {
  const stages = [...new Set(results.flatMap(r => Object.keys(r.stages)))]
  const header = [
    'scale',
    'workspace',
    'run',
    'total s',
    ...stages.map(s => `${s} s`),
    'rsync in MiB',
    'rsync out MiB',
    'cache saved MiB',
    'cache restored MiB',
    'peak RSS MiB',
    'engine disk +MiB'
  ]
  const rows = results.map(r => [
    `${r.scale}×`,
    r.workspace,
    r.ok ? r.kind : `${r.kind} (failed)`,
    r.seconds.toFixed(1),
    ...stages.map(s => (r.stages[s] === undefined ? '-' : r.stages[s].toFixed(2))),
    mib(r.rsyncIn),
    mib(r.rsyncOut),
    mib(r.cacheSaved),
    mib(r.cacheRestored),
    mib(r.peakRss),
    mib(r.engineDiskGrowth)
  ])
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map(row => row[i].length)))
  return [header, ...rows].map(row => row.map((c, i) => c.padStart(widths[i])).join('  ')).join('\n')
}

/** The growth between scales as lines of text: the work's ratios, then each stage's. */
export function growthLines(growth: readonly Growth[]): string[] {
  return growth.map(g => {
    const stages = Object.entries(g.stages)
      .map(([name, ratio]) => `${name} ×${ratio === null ? '-' : ratio.toFixed(2)}`)
      .join(', ')
    return (
      `${g.from}×→${g.to}× ${g.workspace} ${g.kind}: tree ×${g.treeRatio.toFixed(2)}, ` +
      `binaries ×${g.binaryRatio.toFixed(2)}; ${stages}`
    )
  })
}

const PANEL = { width: 320, height: 220, left: 48, right: 12, top: 28, bottom: 36 }
const COLOURS = [
  ...['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22'],
  '#17becf'
]
const escape = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')

/**
 * An SVG chart: a panel per workspace (rows) and kind of run (columns), one line per stage through
 * its time at each scale (scale on a logarithmic axis, time on a linear one), a legend beneath.
 */
export function chartSvg(results: readonly RunResult[]): string {
  const workspaces = [...new Set(results.map(r => r.workspace))]
  const stages = [...new Set(results.flatMap(r => Object.keys(r.stages)))]
  const scales = [...new Set(results.map(r => r.scale))].sort((a, b) => a - b)
  const legendHeight = 24
  const width = PANEL.width * RUN_KINDS.length
  const height = PANEL.height * workspaces.length + legendHeight
  const plotW = PANEL.width - PANEL.left - PANEL.right
  const plotH = PANEL.height - PANEL.top - PANEL.bottom
  // Scales grow by factors (1, 4, 16): a logarithmic axis spaces them evenly.
  const [minScale, maxScale] = [Math.log(scales[0]), Math.log(scales.at(-1)!)]
  const x = (scale: number): number =>
    PANEL.left +
    (maxScale === minScale ? plotW / 2 : ((Math.log(scale) - minScale) / (maxScale - minScale)) * plotW)
  const parts: string[] = []
  workspaces.forEach((workspace, row) => {
    RUN_KINDS.forEach((kind, column) => {
      const runs = results.filter(r => r.workspace === workspace && r.kind === kind)
      const top = Math.max(0.1, ...runs.flatMap(r => Object.values(r.stages)))
      const y = (seconds: number): number => PANEL.top + plotH - (seconds / top) * plotH
      const lines = stages.map((stage, i) => {
        const points = scales
          .map(scale => [scale, runs.find(r => r.scale === scale)?.stages[stage]] as const)
          .filter((p): p is readonly [number, number] => p[1] !== undefined)
          .map(([scale, seconds]) => [x(scale), y(seconds)].map(v => v.toFixed(1)).join(','))
        const colour = COLOURS[i % COLOURS.length]
        return [
          `<polyline fill="none" stroke="${colour}" stroke-width="1.5" points="${points.join(' ')}"/>`,
          ...points.map(
            p => `<circle cx="${p.split(',')[0]}" cy="${p.split(',')[1]}" r="2.5" fill="${colour}"/>`
          )
        ].join('')
      })
      const ticks = scales.map(
        scale =>
          `<text x="${x(scale).toFixed(1)}" y="${PANEL.top + plotH + 14}" text-anchor="middle">${scale}×</text>`
      )
      parts.push(
        `<g transform="translate(${column * PANEL.width},${row * PANEL.height})">`,
        `<text x="${PANEL.left}" y="16" font-weight="bold">${escape(`${workspace}, ${kind}`)}</text>`,
        `<line x1="${PANEL.left}" y1="${PANEL.top + plotH}" x2="${PANEL.left + plotW}" y2="${PANEL.top + plotH}" stroke="#000"/>`,
        `<line x1="${PANEL.left}" y1="${PANEL.top}" x2="${PANEL.left}" y2="${PANEL.top + plotH}" stroke="#000"/>`,
        `<text x="${PANEL.left - 4}" y="${PANEL.top + 4}" text-anchor="end">${top.toFixed(1)} s</text>`,
        `<text x="${PANEL.left - 4}" y="${PANEL.top + plotH}" text-anchor="end">0</text>`,
        ...ticks,
        ...lines,
        '</g>'
      )
    })
  })
  const legend = stages.map(
    (stage, i) =>
      `<text x="${(8 + (i * width) / stages.length).toFixed(0)}" y="${height - 8}" fill="${COLOURS[i % COLOURS.length]}">■ ${escape(stage)}</text>`
  )
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    ...parts,
    ...legend,
    '</svg>',
    ''
  ].join('\n')
}
