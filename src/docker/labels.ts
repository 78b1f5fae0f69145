// Labels record what this action created, so cleanup never touches anything else on the engine.

export const LABEL_PREFIX = 'io.kube-release-action'
export const Label = {
  managed: `${LABEL_PREFIX}.managed`,
  run: `${LABEL_PREFIX}.run`,
  tree: `${LABEL_PREFIX}.tree`,
  role: `${LABEL_PREFIX}.role`
} as const

export type Role = 'build' | 'rsync' | 'volume-init' | 'data' | 'build-image' | 'cache'

export interface Ownership {
  readonly runId: string
  readonly treeHash: string
}

export function createLabels(owner: Ownership, role: Role): Record<string, string> {
  return {
    [Label.managed]: 'true',
    [Label.run]: owner.runId,
    [Label.tree]: owner.treeHash,
    [Label.role]: role
  }
}

/** Engine list filter for the objects of one run. */
export function runFilter(runId: string): { label: string[] } {
  return { label: [`${Label.managed}=true`, `${Label.run}=${runId}`] }
}
