// Stage timings for summary tests, laid out the way the runner measures them.
import type { StageTiming } from '../../../src/report/report.js'

/** Stages one after the other from the run's start. */
export function sequential(stages: readonly Omit<StageTiming, 'startSeconds'>[]): StageTiming[] {
  let at = 0
  return stages.map(stage => {
    const timed = { ...stage, startSeconds: at }
    at += stage.seconds
    return timed
  })
}
