// Named volumes through the Engine API.
import type Dockerode from 'dockerode'
import type { Logger } from '../logger.js'
import { operationFailed, statusCode } from './errors.js'

export class VolumeClient {
  constructor(
    private readonly docker: Dockerode,
    private readonly log: Logger
  ) {}

  /** Creates the volume unless it exists; returns whether it was created. */
  async ensure(name: string, labels: Record<string, string>): Promise<boolean> {
    try {
      await this.docker.getVolume(name).inspect()
      this.log.debug(`reusing volume ${name}`)
      return false
    } catch (err) {
      if (statusCode(err) !== 404) throw operationFailed(`inspecting volume ${name}`, err)
    }
    try {
      await this.docker.createVolume({ Name: name, Labels: labels })
      this.log.debug(`created volume ${name}`)
      return true
    } catch (err) {
      throw operationFailed(`creating volume ${name}`, err)
    }
  }

  async list(filter: { label: string[] }): Promise<string[]> {
    const { Volumes } = await this.docker.listVolumes({ filters: filter })
    return (Volumes ?? []).map(v => v.Name)
  }

  /** Removes a volume; one already gone is not an error. */
  async remove(name: string): Promise<void> {
    try {
      await this.docker.getVolume(name).remove()
      this.log.debug(`removed volume ${name}`)
    } catch (err) {
      if (statusCode(err) === 404) return
      throw operationFailed(`removing volume ${name}`, err)
    }
  }
}
