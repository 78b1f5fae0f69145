// A Docker engine of a test's own, beside the machine's: its own data root, exec root, pid file,
// socket and bridge, so a test may stop it, or break it, without touching anyone else's engine.
// The machine's dockerd binary runs it; its managed containerd lives under its exec root.
import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdtemp, open, readFile, rm, writeFile } from 'node:fs/promises'
import { request } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { promisify } from 'node:util'

const run = promisify(execFile)

const START_SECONDS = 30
/** dockerd stops running containers on SIGTERM: 10 s per container before SIGKILL, then exits. */
const STOP_SECONDS = 60
/** Where the bridge's /24 is taken from; a subnet that any route of the machine overlaps is skipped. */
const BRIDGE_RANGE = '10.213'

export interface PrivateEngine {
  /** For DOCKER_HOST and `docker -H`. */
  readonly host: string
  /** SIGTERM to this dockerd only, by its pid; resolves once it has exited. */
  stop(): Promise<void>
  /** Starts it again on the same data root, as after a restart of the machine's service. */
  start(): Promise<void>
  /** Stops it when running, then removes its mounts, bridge and directory; throws if any remain. */
  remove(): Promise<void>
}

/** Starts an engine and loads `images` (references of the machine's engine) into it. */
export async function startPrivateEngine(images: readonly string[] = []): Promise<PrivateEngine> {
  // Short: containerd's sockets under the exec root must fit in a unix socket path (108 bytes).
  const dir = await mkdtemp(join(tmpdir(), 'engine-'))
  const bridge = `kre${randomBytes(4).toString('hex')}`
  const engine = new Engine(dir, bridge)
  try {
    await writeFile(join(dir, 'daemon.json'), '{}\n')
    await createBridge(bridge)
    await engine.start()
    for (const image of images) {
      await run('bash', [
        '-o',
        'pipefail',
        '-c',
        'docker save "$1" | docker -H "$2" load -q',
        '_',
        image,
        engine.host
      ])
    }
    return engine
  } catch (err) {
    await engine.remove()
    throw err
  }
}

class Engine implements PrivateEngine {
  readonly host: string
  private readonly dir: string
  private readonly bridge: string
  private daemon: ChildProcess | null = null
  private exited: Promise<void> = Promise.resolve()

  constructor(dir: string, bridge: string) {
    this.dir = dir
    this.bridge = bridge
    this.host = `unix://${join(dir, 'docker.sock')}`
  }

  async start(): Promise<void> {
    if (this.daemon) throw new Error(`the engine at ${this.host} is already running`)
    const log = await open(join(this.dir, 'dockerd.log'), 'a')
    const daemon = spawn(
      'dockerd',
      [
        // Not /etc/docker/daemon.json: that is the machine engine's.
        `--config-file=${join(this.dir, 'daemon.json')}`,
        `--data-root=${join(this.dir, 'data')}`,
        `--exec-root=${join(this.dir, 'exec')}`,
        `--pidfile=${join(this.dir, 'docker.pid')}`,
        `--host=${this.host}`,
        `--bridge=${this.bridge}`,
        // Else it would rewrite the DOCKER chains the machine's dockerd relies on; published ports
        // still work, through docker-proxy.
        '--iptables=false',
        '--ip-forward=false',
        '--ip-masq=false'
      ],
      { stdio: ['ignore', log.fd, log.fd] }
    )
    await log.close()
    this.daemon = daemon
    this.exited = new Promise(resolve => {
      daemon.once('exit', () => resolve())
      daemon.once('error', () => resolve())
    })
    void this.exited.then(() => {
      if (this.daemon === daemon) this.daemon = null
    })
    for (let i = 0; i < START_SECONDS * 4; i++) {
      if (await this.answers()) return
      if (!this.daemon) break
      await sleep(250)
    }
    await this.stop()
    throw new Error(`the private dockerd did not answer at ${this.host}; its log:\n${await this.logTail()}`)
  }

  async stop(): Promise<void> {
    const daemon = this.daemon
    if (!daemon) return
    daemon.kill('SIGTERM')
    const stopped = await Promise.race([this.exited.then(() => true), sleep(STOP_SECONDS * 1000, false)])
    if (!stopped) {
      // Its containerd too, by its own pid file, or its containers would outlive it.
      await this.killByPidFile(join(this.dir, 'exec/containerd/containerd.pid'))
      daemon.kill('SIGKILL')
      await this.exited
      throw new Error(`the private dockerd did not stop within ${STOP_SECONDS} s of SIGTERM; killed`)
    }
  }

  async remove(): Promise<void> {
    try {
      await this.stop()
    } finally {
      for (const mount of await this.mounts()) await run('umount', ['-l', mount])
      await run('ip', ['link', 'del', this.bridge]).catch(() => undefined)
      await rm(this.dir, { recursive: true, force: true })
    }
    const left = [
      ...(existsSync(this.dir) ? [this.dir] : []),
      ...(await this.mounts()),
      ...((await bridgeExists(this.bridge)) ? [`bridge ${this.bridge}`] : [])
    ]
    if (left.length > 0) throw new Error(`the private engine left ${left.join(', ')}`)
  }

  private answers(): Promise<boolean> {
    return new Promise(resolve => {
      const req = request(
        { socketPath: join(this.dir, 'docker.sock'), path: '/_ping', timeout: 2000 },
        res => {
          res.resume()
          resolve(res.statusCode === 200)
        }
      )
      req.on('error', () => resolve(false))
      req.on('timeout', () => req.destroy())
      req.end()
    })
  }

  /** Mount points under the engine's directory, deepest first. */
  private async mounts(): Promise<string[]> {
    const table = await readFile('/proc/self/mountinfo', 'utf8')
    return table
      .split('\n')
      .map(line => line.split(' ')[4])
      .filter(point => point?.startsWith(`${this.dir}/`) || point === this.dir)
      .sort((a, b) => b.length - a.length)
  }

  private async killByPidFile(path: string): Promise<void> {
    const pid = Number((await readFile(path, 'utf8').catch(() => '')).trim())
    if (pid > 0) {
      try {
        process.kill(pid, 'SIGKILL')
      } catch {
        // Already gone.
      }
    }
  }

  private async logTail(): Promise<string> {
    const text = await readFile(join(this.dir, 'dockerd.log'), 'utf8').catch(() => '')
    return text.split('\n').slice(-30).join('\n')
  }
}

async function createBridge(name: string): Promise<void> {
  const gateway = `${await freeSubnet()}.1/24`
  await run('ip', ['link', 'add', name, 'type', 'bridge'])
  await run('ip', ['addr', 'add', gateway, 'dev', name])
  await run('ip', ['link', 'set', name, 'up'])
}

async function bridgeExists(name: string): Promise<boolean> {
  return run('ip', ['link', 'show', name]).then(
    () => true,
    () => false
  )
}

/** The first three octets of a /24 in BRIDGE_RANGE that no route of the machine overlaps. */
async function freeSubnet(): Promise<string> {
  const { stdout } = await run('ip', ['-4', 'route', 'show', 'table', 'all'])
  const routes = stdout
    .split('\n')
    .map(line => /^(?:\w+ )?(\d+\.\d+\.\d+\.\d+)(?:\/(\d+))?/.exec(line))
    .filter(match => match !== null)
    .map(match => ({ base: ipv4(match[1]), bits: Number(match[2] ?? 32) }))
  const start = randomBytes(1)[0]
  for (let i = 0; i < 256; i++) {
    const prefix = `${BRIDGE_RANGE}.${(start + i) % 256}`
    const subnet = ipv4(`${prefix}.0`)
    const overlaps = routes.some(route => {
      const bits = Math.min(route.bits, 24)
      const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0
      return (route.base & mask) >>> 0 === (subnet & mask) >>> 0
    })
    if (!overlaps) return prefix
  }
  throw new Error(`no free /24 in ${BRIDGE_RANGE}.0.0/16 for a private engine's bridge`)
}

function ipv4(address: string): number {
  return address.split('.').reduce((value, octet) => ((value << 8) | Number(octet)) >>> 0, 0)
}
