// The stages as a Mermaid Gantt chart (GitHub renders Mermaid in Markdown): one section per run (a
// matrix package job adds one per build leg), one bar per stage, failed stages `crit`. Bars are placed
// at the wall-clock time each stage started (the run's start plus the stage's measured offset), so
// legs that ran side by side line up and the axis reads the viewer's local time in any time zone.
import type { RunTimeline } from './report.js'

export interface GanttSection {
  readonly name: string
  readonly timeline: RunTimeline
}

/** Words the Gantt lexer takes for a statement at the start of a line, before any task text. */
const STATEMENT_START =
  /^(gantt|dateformat|inclusiveenddates|topaxis|axisformat|tickinterval|includes|excludes|todaymarker|weekday|weekend|title|accdescr|acctitle|section|click|href|call|\d{4}-\d\d-\d\d)/i

/**
 * A name as Mermaid task or section text: the lexer ends task text at `:`, task data at `#` and `;`,
 * and `%` starts a comment, so only letters, digits and plain punctuation are kept, and a name that
 * reads as a statement gets a prefix.
 */
export function mermaidText(name: string): string {
  const text = name
    .replace(/[^\p{L}\p{N} _.,/()+-]+/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim()
  if (text === '') return 'stage'
  return STATEMENT_START.test(text) ? `stage ${text}` : text
}

/** The ```mermaid block's lines. */
export function ganttChart(sections: readonly GanttSection[]): string[] {
  const bar = (startedAt: number, stage: RunTimeline['stages'][number]): string => {
    const start = Math.round(startedAt + stage.startSeconds * 1000)
    const end = Math.round(startedAt + (stage.startSeconds + stage.seconds) * 1000)
    return `    ${mermaidText(stage.name)} :${stage.ok ? 'done' : 'crit'}, ${start}, ${end}`
  }
  return [
    '```mermaid',
    'gantt',
    '  dateFormat x',
    '  axisFormat %H:%M:%S',
    ...sections.flatMap(({ name, timeline }) => [
      `  section ${mermaidText(name)}`,
      ...timeline.stages.map(stage => bar(timeline.startedAt, stage))
    ]),
    '```'
  ]
}
