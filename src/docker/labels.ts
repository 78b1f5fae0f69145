// Labels record what this action created, so cleanup never touches anything else on the engine.
// Objects are selected by every label that names them, checked on the client: never by the first match.

export const LABEL_PREFIX = 'io.kube-release-action'
export const Label = {
  managed: `${LABEL_PREFIX}.managed`,
  run: `${LABEL_PREFIX}.run`,
  tree: `${LABEL_PREFIX}.tree`,
  role: `${LABEL_PREFIX}.role`
} as const

export type Role = 'build' | 'rsync' | 'volume-init' | 'data' | 'build-image' | 'cache' | 'probe'

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

/** The label filter of one run's objects. */
export const runLabels = (runId: string): string[] => [`${Label.managed}=true`, `${Label.run}=${runId}`]

/** The label filter of every object this action made, of any run and tree, or of one role among them. */
export const managedLabels = (role?: Role): string[] => [
  `${Label.managed}=true`,
  ...(role ? [`${Label.role}=${role}`] : [])
]

/** The label filter of one tree's objects, or of one role among them. */
export const treeLabels = (treeHash: string, role?: Role): string[] => [
  `${Label.managed}=true`,
  `${Label.tree}=${treeHash}`,
  ...(role ? [`${Label.role}=${role}`] : [])
]

/** Whether an object's labels carry every selector (`key=value`). */
export function hasEveryLabel(
  labels: Readonly<Record<string, string>> | null | undefined,
  selectors: readonly string[]
): boolean {
  return selectors.every(selector => {
    const [key, ...value] = selector.split('=')
    return labels?.[key] === value.join('=')
  })
}

/**
 * The engine's first cut of a label selection: the last (most specific) selector alone. Engines differ
 * on several: Docker ANDs them, Podman 4 ORs them on volumes and matches nothing with two on images.
 * The list that comes back is narrowed to every selector on the client.
 */
export const firstCut = (selectors: readonly string[]): { label: string[] } => ({
  label: selectors.slice(-1)
})
