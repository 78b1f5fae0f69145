// bench:scale's computations: each stage's growth between consecutive scales next to the work's, and
// the chart's lines (one per stage and panel, through each scale's time).
import { describe, expect, it } from 'vitest'
import {
  chartSvg,
  growthRatios,
  type RunResult,
  type ScaleWork
} from '../../../scripts/bench/scale-report.js'

const run = (
  scale: number,
  workspace: string,
  kind: RunResult['kind'],
  stages: Record<string, number>
): RunResult => ({
  scale,
  workspace,
  kind,
  ok: true,
  seconds: Object.values(stages).reduce((a, b) => a + b, 0),
  stages,
  rsyncIn: 0,
  rsyncOut: 0,
  cacheSaved: 0,
  cacheRestored: 0,
  peakRss: 0,
  engineDiskGrowth: 0
})

const WORK: ScaleWork[] = [
  { scale: 1, treeBytes: 100, binaryBytes: 50 },
  { scale: 4, treeBytes: 380, binaryBytes: 210 },
  { scale: 16, treeBytes: 1520, binaryBytes: 840 }
]
const RESULTS = [
  run(1, 'volume', 'cold', { workspace: 2, build: 10, package: 0.01 }),
  run(4, 'volume', 'cold', { workspace: 3, build: 35, package: 0.5 }),
  run(16, 'volume', 'cold', { workspace: 6, build: 150, package: 2 }),
  run(1, 'bind', 'warm', { build: 4 }),
  run(16, 'bind', 'warm', { build: 5 })
]

describe('growthRatios', () => {
  const growth = growthRatios(RESULTS, WORK)

  it('one entry per consecutive pair of scales and run both scales have', () => {
    expect(growth.map(g => [g.from, g.to, g.workspace, g.kind])).toEqual([
      [1, 4, 'volume', 'cold'],
      [4, 16, 'volume', 'cold']
    ])
  })

  it("each stage's time ratio beside the tree's and the binaries' byte ratios", () => {
    expect(growth[0].treeRatio).toBeCloseTo(3.8)
    expect(growth[0].binaryRatio).toBeCloseTo(4.2)
    expect(growth[0].stages.workspace).toBeCloseTo(1.5)
    expect(growth[0].stages.build).toBeCloseTo(3.5)
    expect(growth[1].stages.build).toBeCloseTo(150 / 35)
    expect(growth[1].stages.package).toBeCloseTo(4)
  })

  it('no ratio for a stage too short at the smaller scale to be timed', () => {
    expect(growth[0].stages.package).toBeNull()
  })
})

describe('chartSvg', () => {
  const svg = chartSvg(RESULTS)
  const lines = [...svg.matchAll(/<polyline [^>]*points="([^"]*)"/g)].map(m => m[1].split(' '))

  it('a panel per workspace and kind of run, a line per stage in each', () => {
    expect(svg.match(/<g transform=/g)).toHaveLength(2 * 3)
    expect(lines).toHaveLength(2 * 3 * 3)
  })

  it("a stage's line has a point per scale it was timed at, its longest time at the panel's top", () => {
    // The first panel is volume, cold; its stages in order: workspace, build, package.
    const build = lines[1].map(p => p.split(',').map(Number))
    expect(build.map(([x]) => x)).toEqual([...build.map(([x]) => x)].sort((a, b) => a - b))
    // SVG's y grows downwards: 10 s, 35 s, 150 s, the last at the top of the plot (y 28).
    expect(build.map(([, y]) => y)).toEqual([
      expect.closeTo(28 + 156 - (10 / 150) * 156, 0),
      expect.closeTo(28 + 156 - (35 / 150) * 156, 0),
      28
    ])
    expect(lines[1]).toHaveLength(3)
    expect(svg).toContain('■ package')
  })
})
