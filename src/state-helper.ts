// What the main step hands to the post step through the runner's state.
import * as core from '@actions/core'

const State = {
  isPost: 'isPost',
  runId: 'run-id'
} as const

export const isPost = (): boolean => core.getState(State.isPost) === 'true'
export const markMainStarted = (): void => core.saveState(State.isPost, 'true')

export const saveRunId = (runId: string): void => core.saveState(State.runId, runId)
export const readRunId = (): string => core.getState(State.runId)
