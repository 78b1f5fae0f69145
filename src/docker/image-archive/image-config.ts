// The image config (the JSON `docker inspect` shows the parts of): the base's, with the layers and
// config changes of a Dockerfile's instructions applied as `docker build` applies them. Pure.

/** An image config as an export holds it; the fields used here, the rest kept as they are. */
export interface ImageConfig {
  architecture?: string
  os?: string
  config?: Record<string, unknown>
  rootfs?: { type?: string; diff_ids?: string[] }
  history?: Record<string, unknown>[]
  [key: string]: unknown
}

/** What one instruction sets, in the config's own field names. */
export interface ConfigPatch {
  /** NAME=value; a name already set is replaced in place. */
  readonly Env?: readonly string[]
  readonly Entrypoint?: readonly string[]
  readonly Cmd?: readonly string[]
  readonly WorkingDir?: string
  readonly Labels?: Readonly<Record<string, string>>
  readonly User?: string
  /** `port/proto`. */
  readonly ExposedPorts?: readonly string[]
  readonly Volumes?: readonly string[]
  readonly StopSignal?: string
  readonly Shell?: readonly string[]
}

/** One instruction: a new layer (its diff ID) or a config change, and its history line. */
export interface ImageStep {
  readonly createdBy: string
  readonly diffId?: string
  readonly patch?: ConfigPatch
}

export interface ImageChange {
  /** `os/arch`; the base's os.version stays. */
  readonly platform: string
  readonly created: Date
  readonly steps: readonly ImageStep[]
}

const envName = (entry: string): string => entry.split('=')[0]
const asSet = (keys: readonly string[]): Record<string, object> =>
  Object.fromEntries(keys.map(key => [key, {}]))

/** The base's container config with one patch applied; `cmdSet` says whether the build set CMD itself. */
function applyPatch(
  config: Record<string, unknown>,
  patch: ConfigPatch,
  cmdSet: boolean
): Record<string, unknown> {
  const next = { ...config }
  if (patch.Env) {
    const env = [...((config.Env as string[] | undefined) ?? [])]
    for (const entry of patch.Env) {
      const at = env.findIndex(e => envName(e) === envName(entry))
      if (at >= 0) env[at] = entry
      else env.push(entry)
    }
    next.Env = env
  }
  if (patch.Entrypoint) {
    next.Entrypoint = [...patch.Entrypoint]
    // As docker build does: a new ENTRYPOINT drops the Cmd inherited from the base.
    if (!cmdSet) next.Cmd = undefined
  }
  if (patch.Cmd) next.Cmd = [...patch.Cmd]
  if (patch.WorkingDir !== undefined) next.WorkingDir = patch.WorkingDir
  if (patch.Labels) next.Labels = { ...((config.Labels as object | undefined) ?? {}), ...patch.Labels }
  if (patch.User !== undefined) next.User = patch.User
  if (patch.ExposedPorts) {
    next.ExposedPorts = {
      ...((config.ExposedPorts as object | undefined) ?? {}),
      ...asSet(patch.ExposedPorts)
    }
  }
  if (patch.Volumes)
    next.Volumes = { ...((config.Volumes as object | undefined) ?? {}), ...asSet(patch.Volumes) }
  if (patch.StopSignal !== undefined) next.StopSignal = patch.StopSignal
  if (patch.Shell) next.Shell = [...patch.Shell]
  return next
}

/** The base config with the steps' layers, config changes and history lines. */
export function imageConfig(base: ImageConfig, change: ImageChange): ImageConfig {
  const created = change.created.toISOString()
  const [os, arch] = change.platform.split('/')
  let config = base.config ?? {}
  let cmdSet = false
  const diffIds = [...(base.rootfs?.diff_ids ?? [])]
  const history = [...(base.history ?? [])]
  for (const step of change.steps) {
    if (step.patch) {
      config = applyPatch(config, step.patch, cmdSet)
      cmdSet ||= step.patch.Cmd !== undefined
    }
    if (step.diffId) diffIds.push(step.diffId)
    history.push({ created, created_by: step.createdBy, ...(step.diffId ? {} : { empty_layer: true }) })
  }
  return {
    ...base,
    created,
    architecture: arch,
    os,
    config,
    rootfs: { type: 'layers', diff_ids: diffIds },
    history
  }
}
