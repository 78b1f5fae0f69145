// Named volumes through the Engine API.
import type { Logger } from '../logger.js'
import { unlessMissing, type EngineCalls } from './calls.js'
import { firstCut, hasEveryLabel } from './labels.js'

export class VolumeClient {
  constructor(
    private readonly calls: EngineCalls,
    private readonly log: Logger
  ) {}

  /** Creates the volume unless it exists; returns whether it was created. */
  async ensure(name: string, labels: Record<string, string>): Promise<boolean> {
    const existing = await this.calls.call(`inspecting volume ${name}`, abortSignal =>
      unlessMissing(this.calls.docker.getVolume(name).inspect({ abortSignal }))
    )
    if (existing) {
      this.log.debug(`reusing volume ${name}`)
      return false
    }
    await this.calls.call(`creating volume ${name}`, abortSignal =>
      this.calls.docker.createVolume({ Name: name, Labels: labels, abortSignal })
    )
    this.log.debug(`created volume ${name}`)
    return true
  }

  /** The names of the volumes carrying all of `labels`. */
  async listLabelled(labels: readonly string[]): Promise<string[]> {
    const { Volumes } = await this.calls.call(
      'listing volumes',
      abortSignal => this.calls.docker.listVolumes({ filters: firstCut(labels), abortSignal }),
      { cancellable: false }
    )
    return (Volumes ?? []).filter(v => hasEveryLabel(v.Labels, labels)).map(v => v.Name)
  }

  /** Removes a volume; one already gone is not an error. */
  async remove(name: string): Promise<void> {
    await this.calls.call(
      `removing volume ${name}`,
      abortSignal => unlessMissing(this.calls.docker.getVolume(name).remove({ abortSignal })),
      { cancellable: false }
    )
    this.log.debug(`removed volume ${name}`)
  }
}
