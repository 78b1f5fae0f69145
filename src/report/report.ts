// What a run reports: outputs for later steps, and a summary for people.
import type { UploadedArtifact } from '../artifacts/store.js'
import type { ReleaseTarball } from '../kube/tarballs.js'
import { formatBytes, type Transfer } from '../progress.js'
import { ganttChart, type GanttSection } from './timeline.js'

/** Output names, spelled as in action.yml. */
export const Output = {
  version: 'version',
  tarballs: 'tarballs',
  releaseDir: 'release-dir',
  artifactName: 'artifact-name',
  artifactId: 'artifact-id',
  artifactUrl: 'artifact-url',
  artifactIds: 'artifact-ids',
  imageCacheHit: 'image-cache-hit',
  imageCacheKey: 'image-cache-key',
  buildCacheHit: 'build-cache-hit',
  buildCacheKey: 'build-cache-key',
  matrix: 'matrix',
  images: 'images'
} as const

/** One cache in this run: the entry restored (null for a miss) and the entry saved (null when none was). */
export interface CacheResult {
  readonly restored: (Transfer & { readonly key: string }) | null
  readonly saved: Transfer | null
}

export interface CacheReport {
  readonly image: CacheResult
  readonly build: CacheResult
}
export type OutputName = (typeof Output)[keyof typeof Output]

/** Bytes rsync moved between this host and the data volume (the volume workspace's sync and copy-out). */
export interface ContainerTraffic {
  intoContainers: number
  outOfContainers: number
}

export interface StageTiming {
  readonly name: string
  /** When it started: seconds after the run's start. */
  readonly startSeconds: number
  readonly seconds: number
  readonly ok: boolean
}

/** When a run started (milliseconds since the epoch), and its stages in the order they ran. */
export interface RunTimeline {
  readonly startedAt: number
  readonly stages: readonly StageTiming[]
}

/** A matrix build leg's stages, as it hands them to the package job beside its binaries. */
export interface LegTimeline extends RunTimeline {
  readonly platforms: readonly string[]
}

export interface RunReport {
  readonly mode: string
  readonly workspace: string
  readonly version: string | null
  readonly platforms: readonly string[]
  readonly targets: string
  /** Milliseconds since the epoch. */
  readonly startedAt: number
  readonly stages: readonly StageTiming[]
  /** The package job of a matrix: each build leg's stages; empty otherwise. */
  readonly legs: readonly LegTimeline[]
  readonly tarballs: readonly ReleaseTarball[]
  readonly releaseDir: string | null
  /** The image archives in release-images/, with the tags `docker load` gives them. */
  readonly images: readonly { readonly path: string; readonly tags: readonly string[] }[]
  readonly artifacts: readonly UploadedArtifact[]
  /** null when caching is off. */
  readonly caches: CacheReport | null
  readonly traffic: ContainerTraffic
  /** What this run's cache entries take of the room the cache keeps; null when none were saved. */
  readonly cacheRoom: {
    readonly bytes: number
    readonly quotaBytes: number
    /** Set when that is enough to evict entries a later run needs. */
    readonly warning: string | null
  } | null
  /** Set when the run failed. */
  readonly error: string | null
}

export interface Reporter {
  setOutput(name: OutputName, value: string): void
  summary(report: RunReport): Promise<void>
}

const duration = (stage: StageTiming): string => `${stage.seconds.toFixed(1)} s`

/** "hit (key): 1.9 GiB restored in 41.2 s; 90 MiB saved in 5.1 s", "miss", … */
function cacheLine({ restored, saved }: CacheResult): string {
  const moved = (t: Transfer, what: string): string =>
    `${formatBytes(t.bytes)} ${what} in ${t.seconds.toFixed(1)} s`
  return [
    restored ? `hit (${restored.key}): ${moved(restored, 'restored')}` : 'miss',
    ...(saved ? [moved(saved, 'saved')] : [])
  ].join('; ')
}

/** The matrix legs side by side: a header row, their platforms, then one row per stage any leg ran. */
function legRows(legs: readonly LegTimeline[]): string[][] {
  if (legs.length === 0) return []
  const names = [...new Set(legs.flatMap(leg => leg.stages.map(s => s.name)))]
  return [
    ['stage', ...legs.map((_, i) => `leg ${i + 1}`)],
    ['platforms', ...legs.map(leg => leg.platforms.join(', '))],
    ...names.map(name => [
      name,
      ...legs.map(leg => {
        const stage = leg.stages.find(s => s.name === name)
        return stage ? `${duration(stage)}${stage.ok ? '' : ' failed'}` : '-'
      })
    ])
  ]
}

/** The stage that failed the run: the first that did not end well (closing stages run after it). */
const failedStage = (report: RunReport): StageTiming | undefined =>
  report.error === null ? undefined : report.stages.find(s => !s.ok)

/** A fenced block that holds `text` whatever backticks it contains. */
function codeBlock(text: string): string[] {
  const longest = Math.max(0, ...(text.match(/`+/g) ?? []).map(run => run.length))
  const fence = '`'.repeat(Math.max(3, longest + 1))
  return [`${fence}text`, text, fence]
}

/** The run's stages and, in a matrix package job, each build leg's before them. */
function timelineSections(report: RunReport): GanttSection[] {
  const run = { startedAt: report.startedAt, stages: report.stages }
  if (report.legs.length === 0) return [{ name: 'stages', timeline: run }]
  return [
    ...report.legs.map((leg, i) => ({ name: `leg ${i + 1} (${leg.platforms.join(', ')})`, timeline: leg })),
    { name: 'this job', timeline: run }
  ]
}

function summaryRows(report: RunReport): {
  facts: [string, string][]
  stages: string[][]
  legs: string[][]
  tarballs: string[][]
  images: string[][]
} {
  return {
    facts: [
      ['result', report.error ? 'failed' : 'succeeded'],
      ['version', report.version ?? '(not computed)'],
      ['mode', report.mode],
      ['workspace', report.workspace],
      ['platforms', report.platforms.join(', ') || '(not resolved)'],
      ['targets', report.targets],
      ...(report.caches
        ? ([
            ['image cache', cacheLine(report.caches.image)],
            ['build cache', cacheLine(report.caches.build)]
          ] as [string, string][])
        : []),
      ...(report.cacheRoom
        ? ([
            [
              'cache room',
              `${formatBytes(report.cacheRoom.bytes)} of ${formatBytes(report.cacheRoom.quotaBytes)} ` +
                `(${Math.round((100 * report.cacheRoom.bytes) / report.cacheRoom.quotaBytes)} %)`
            ]
          ] as [string, string][])
        : []),
      ...(report.workspace === 'volume'
        ? ([
            [
              'rsync',
              `${formatBytes(report.traffic.intoContainers)} into the data volume, ` +
                `${formatBytes(report.traffic.outOfContainers)} out`
            ]
          ] as [string, string][])
        : [])
    ],
    stages: report.stages.map(s => [s.name, duration(s), s.ok ? 'ok' : 'failed']),
    legs: legRows(report.legs),
    tarballs: report.tarballs.map(t => [t.name, formatBytes(t.bytes), t.sha256]),
    images: report.images.map(i => [i.path, i.tags.join(', ')])
  }
}

const mdRow = (cells: readonly string[]): string => `| ${cells.join(' | ')} |`

export function summaryMarkdown(report: RunReport): string {
  const rows = summaryRows(report)
  const failed = failedStage(report)
  return [
    '## Kubernetes release build',
    '',
    ...(report.error
      ? [
          '> [!CAUTION]',
          `> ${failed ? `The stage **${failed.name}** failed.` : 'The run failed.'}`,
          '',
          ...codeBlock(report.error),
          ''
        ]
      : []),
    mdRow(['', '']),
    mdRow(['---', '---']),
    ...rows.facts.map(([k, v]) => mdRow([`**${k}**`, v])),
    '',
    ...(report.cacheRoom?.warning ? [`> [!WARNING]`, `> ${report.cacheRoom.warning}`, ''] : []),
    '### Stages',
    '',
    mdRow(['stage', 'duration', 'result']),
    mdRow(['---', '---:', '---']),
    ...rows.stages.map(mdRow),
    '',
    ...(report.stages.length > 0 || report.legs.length > 0
      ? ['### Timeline', '', ...ganttChart(timelineSections(report)), '']
      : []),
    ...(rows.legs.length > 0
      ? [
          '### Build legs',
          '',
          mdRow(rows.legs[0]),
          mdRow(rows.legs[0].map((_, i) => (i === 0 ? '---' : '---:'))),
          ...rows.legs.slice(1).map(mdRow),
          ''
        ]
      : []),
    ...(rows.tarballs.length > 0
      ? [
          '### Tarballs',
          '',
          `In \`${report.releaseDir}\``,
          '',
          mdRow(['tarball', 'size', 'sha256']),
          mdRow(['---', '---:', '---']),
          ...rows.tarballs.map(mdRow),
          ''
        ]
      : []),
    ...(rows.images.length > 0
      ? [
          '### Image archives',
          '',
          mdRow(['archive', 'tags']),
          mdRow(['---', '---']),
          ...rows.images.map(mdRow),
          ''
        ]
      : []),
    ...(report.artifacts.length > 0
      ? ['### Artifacts', '', ...report.artifacts.map(a => `- [${a.name}](${a.location})`), '']
      : [])
  ].join('\n')
}

/** The summary as terminal text; a failure's message is not in it: the CLI ends with that, once. */
export function summaryText(report: RunReport): string {
  const rows = summaryRows(report)
  const table = (lines: string[][]): string[] => {
    const widths = lines[0]?.map((_, i) => Math.max(...lines.map(l => l[i].length))) ?? []
    return lines.map(l => `  ${l.map((c, i) => c.padEnd(widths[i])).join('  ')}`.trimEnd())
  }
  return [
    ...table(rows.facts),
    '',
    'stages:',
    ...table(rows.stages),
    ...(rows.legs.length > 0 ? ['', 'build legs:', ...table(rows.legs)] : []),
    ...(rows.tarballs.length > 0 ? ['', `tarballs in ${report.releaseDir}:`, ...table(rows.tarballs)] : []),
    ...(rows.images.length > 0 ? ['', 'image archives:', ...table(rows.images)] : []),
    ...(report.artifacts.length > 0
      ? ['', 'artifacts:', ...table(report.artifacts.map(a => [a.name, a.location]))]
      : [])
  ].join('\n')
}
