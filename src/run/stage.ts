// A stage is a function of the run context and the state so far that returns what it adds. A list
// of stages is typed as it grows, so a stage can only follow the stages that add what it needs.
import type { RunContext } from './context.js'
import type { RunState } from './state.js'

export interface Stage<Needs, Adds extends object> {
  /** Its log group and its line in the summary. */
  readonly name: string
  readonly run: (ctx: RunContext, state: Needs) => Promise<Adds>
}

export interface Outcome {
  readonly succeeded: boolean
}

/** Runs after the stages whether they succeeded or failed (never after a cancel), on what state there is. */
export interface ClosingStage {
  readonly name: string
  /** Whether it runs this time; when not, what the log says about it, if anything. */
  readonly decide: (
    ctx: RunContext,
    state: RunState,
    outcome: Outcome
  ) => { readonly run: boolean; readonly log?: string }
  /** Returns what it adds to the state, for the report. */
  readonly run: (ctx: RunContext, state: RunState, outcome: Outcome) => Promise<RunState>
}

/** Any stage, as the runner walks them: it hands each the state built so far. */
export type AnyStage = Stage<never, object>

export class StageList<State extends object> {
  private constructor(readonly stages: readonly AnyStage[]) {}

  static start(): StageList<object> {
    return new StageList([])
  }

  then<Adds extends object>(stage: Stage<State, Adds>): StageList<State & Adds> {
    return new StageList([...this.stages, stage as AnyStage])
  }
}

/** A phase: its stages in order, then its closing stages. */
export interface PhaseStages {
  readonly stages: readonly AnyStage[]
  readonly closing: readonly ClosingStage[]
}
