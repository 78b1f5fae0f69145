// What a run reports: outputs for later steps, and a summary for people.
import type { UploadedArtifact } from '../artifacts/store.js'
import type { ReleaseTarball } from '../kube/tarballs.js'
import { formatBytes } from '../progress.js'

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

/** The cache keys this run restored from; null for a miss. */
export interface CacheReport {
  image: string | null
  build: string | null
}
export type OutputName = (typeof Output)[keyof typeof Output]

/** Bytes rsync moved between this host and the data volume (the volume workspace's sync and copy-out). */
export interface ContainerTraffic {
  intoContainers: number
  outOfContainers: number
}

export interface StageTiming {
  readonly name: string
  readonly seconds: number
  readonly ok: boolean
}

export interface RunReport {
  readonly mode: string
  readonly workspace: string
  readonly version: string | null
  readonly platforms: readonly string[]
  readonly targets: string
  readonly stages: readonly StageTiming[]
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

function summaryRows(report: RunReport): {
  facts: [string, string][]
  stages: string[][]
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
            ['image cache', report.caches.image ? `hit (${report.caches.image})` : 'miss'],
            ['build cache', report.caches.build ? `hit (${report.caches.build})` : 'miss']
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
    stages: report.stages.map(s => [s.name, `${s.seconds.toFixed(1)} s`, s.ok ? 'ok' : 'failed']),
    tarballs: report.tarballs.map(t => [t.name, formatBytes(t.bytes), t.sha256]),
    images: report.images.map(i => [i.path, i.tags.join(', ')])
  }
}

const mdRow = (cells: readonly string[]): string => `| ${cells.join(' | ')} |`

export function summaryMarkdown(report: RunReport): string {
  const rows = summaryRows(report)
  return [
    '## Kubernetes release build',
    '',
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
      : []),
    ...(report.error ? ['### Error', '', '```', report.error, '```', ''] : [])
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
    ...(rows.tarballs.length > 0 ? ['', `tarballs in ${report.releaseDir}:`, ...table(rows.tarballs)] : []),
    ...(rows.images.length > 0 ? ['', 'image archives:', ...table(rows.images)] : []),
    ...(report.artifacts.length > 0
      ? ['', 'artifacts:', ...table(report.artifacts.map(a => [a.name, a.location]))]
      : [])
  ].join('\n')
}
