// The Mermaid blocks of a Markdown summary, read by the real Mermaid parser (the `mermaid` package,
// whose parsing needs no DOM), and a Gantt chart's tasks as Mermaid itself places them.
import mermaid from 'mermaid'

/** The text of each ```mermaid block. */
export function mermaidBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/^```mermaid\n([\s\S]*?)^```$/gm)].map(m => m[1])
}

export interface GanttTask {
  readonly section: string
  readonly name: string
  /** Milliseconds since the epoch. */
  readonly start: number
  readonly end: number
  readonly crit: boolean
  readonly done: boolean
}

interface GanttDbTask {
  section: string
  task: string
  startTime: Date
  endTime: Date
  crit?: boolean
  done?: boolean
}

/** The chart's tasks; rejects, as mermaid.parse does, when the chart does not parse. */
export async function ganttTasks(chart: string): Promise<GanttTask[]> {
  const parsed = await mermaid.parse(chart)
  if (parsed.diagramType !== 'gantt') throw new Error(`not a Gantt chart:\n${chart}`)
  const diagram = await mermaid.mermaidAPI.getDiagramFromText(chart)
  const tasks = (diagram.db as unknown as { getTasks(): GanttDbTask[] }).getTasks()
  return tasks.map(t => ({
    section: t.section,
    name: t.task.trim(),
    start: t.startTime.getTime(),
    end: t.endTime.getTime(),
    crit: t.crit === true,
    done: t.done === true
  }))
}
